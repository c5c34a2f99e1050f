/**
 * Databases written by gromozeka's own code (test/fixtures/gromozeka: schema versions 6, 12
 * and 18, made by scripts/fixtures/gromozeka.py), opened as another bot's readonly source: every
 * read chatdb has answers what gromozeka's own read method answered (the fixture's JSON), field
 * by field. Times are compared as instants; gromozeka's clock during its reads is the fixture's
 * `now`, and chatdb's is set to it for the TTL reads.
 */
import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseWrapper } from "../../src/index.ts";
import {
  call,
  compare,
  GROMOZEKA_FIXTURES as FIXTURES,
  type Fixture,
  NOT_IN_CHATDB,
  NOT_YET_ARGS,
} from "../gromozeka.ts";
import { tempDir, writeConfig } from "../helpers.ts";

const SRC = "other";

for (const version of [6, 12, 18]) {
  const fixture = JSON.parse(readFileSync(join(FIXTURES, `v${version}.json`), "utf8")) as Fixture;
  const file = join(FIXTURES, `v${version}.sqlite3`);

  describe(`gromozeka v${version} file as a readonly source`, () => {
    const dir = tempDir();
    let db: DatabaseWrapper;
    let before = "";
    beforeAll(() => {
      before = createHash("sha256").update(readFileSync(file)).digest("hex");
      // read in place: the committed fixture itself, never a copy chatdb could have prepared
      const config = writeConfig(
        dir.path,
        `[database]\ndefault_source = "primary"\n[database.sources.primary]\npath = "primary.db"\n[database.sources.${SRC}]\npath = ${JSON.stringify(file)}\nreadonly = true\nimmutable = true\n`,
      );
      db = new DatabaseWrapper({ configPath: config, watchSources: false });
    });
    afterAll(async () => {
      setSystemTime();
      await db.close();
      dir[Symbol.dispose]();
      // never written
      expect(createHash("sha256").update(readFileSync(file)).digest("hex")).toBe(before);
    });

    const compared = fixture.calls.filter(
      (c) =>
        c.errors.length === 0 &&
        !NOT_IN_CHATDB.has(c.method) &&
        !Object.keys(c.args).some((k) => NOT_YET_ARGS.has(k)),
    );

    test(`every read chatdb has answers as gromozeka's own code (${compared.length} calls)`, async () => {
      setSystemTime(new Date(fixture.now));
      const problems: string[] = [];
      for (const c of compared) {
        let got: unknown;
        try {
          got = await call(db, c, SRC);
        } catch (e) {
          problems.push(`${c.method}(${JSON.stringify(c.args)}): ${(e as Error).message}`);
          continue;
        }
        problems.push(...compare(c, got));
      }
      expect(problems).toEqual([]);
      expect(compared.length).toBeGreaterThan(40);
    });

    test("the calls not compared are exactly the methods and options chatdb lacks", () => {
      const skipped = fixture.calls.filter((c) => !compared.includes(c) && c.errors.length === 0);
      for (const c of skipped) {
        expect(
          NOT_IN_CHATDB.has(c.method) || Object.keys(c.args).some((k) => NOT_YET_ARGS.has(k)),
        ).toBe(true);
      }
    });
  });
}
