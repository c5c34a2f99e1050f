/** The source contract (source-contract.suite.ts) on every source kind. */
import { afterAll, expect, test } from "bun:test";
import { closePgAdmin, PG_REQUIRED, pgFailure } from "./pg.ts";
import { SOURCE_KINDS, sourceContract } from "./source-contract.suite.ts";

afterAll(closePgAdmin);

if (PG_REQUIRED) {
  test("the PostgreSQL server answers (CHATDB_REQUIRE_PG=1)", () => {
    expect(pgFailure).toBe("");
  });
}

for (const kind of SOURCE_KINDS) sourceContract(kind);
