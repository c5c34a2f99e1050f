import { expect, test } from "bun:test";
import pkg from "../../package.json";
import { MIN_BUN, requireBun } from "../../src/_internal/runtime.ts";
import { expectCode } from "../helpers.ts";

test("the Bun version checked at startup is package.json's engines.bun", () => {
  expect(pkg.engines.bun).toBe(`>=${MIN_BUN}`);
  expect(requireBun("ok")).toBe("ok"); // the Bun running this test is new enough
});

test("an older Bun gets a typed error naming the lowest supported version", async () => {
  const e = await expectCode(
    () => requireBun(1, "a PostgreSQL source", "1.1.38"),
    "SOURCE_UNAVAILABLE",
  );
  expect(e.message).toBe(
    `a PostgreSQL source needs Bun >= ${MIN_BUN}; this is Bun 1.1.38 (upgrade Bun: npm install bun@latest, or bun upgrade)`,
  );
});
