/**
 * Readonly integrity: readonly and immutable source files are byte-identical (SHA-256) after a
 * realistic workload routed at them: 10,000 write attempts over every write method (all
 * refused with READONLY_SOURCE), reads through every read method, hot reloads that move the
 * default source between them, and forced reopen checks.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { DatabaseError, DatabaseWrapper } from "../../src/index.ts";
import type { SqliteSource } from "../../src/sources/sqlite-source.ts";
import { callValid, METHODS } from "../api-table.ts";
import { seedDatabase, tempDir, writeConfig } from "../helpers.ts";

const CHATS = { archive: -1001000000011, external: -1001000000012, frozen: -1001000000013 };
const READONLY = Object.keys(CHATS) as (keyof typeof CHATS)[];

const sha256 = (path: string) =>
  new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");

const config = (defaultSource: string) => `[database]
default_source = "${defaultSource}"
[database.sources.primary]
path = "primary.db"
[database.sources.archive]
path = "archive.db"
readonly = true
[database.sources.external]
path = "external.db"
readonly = true
[database.sources.frozen]
path = "frozen.db"
readonly = true
immutable = true
[database.chat_mapping]
${CHATS.archive} = "archive"
${CHATS.external} = "external"
${CHATS.frozen} = "frozen"
`;

describe("readonly integrity", () => {
  test("10,000 refused writes, reads, reloads and reopens leave every readonly file byte-identical", async () => {
    await using dir = tempDir();
    for (const name of READONLY) {
      await seedDatabase(dir.file(`${name}.db`), async (d) => {
        for (const m of METHODS.filter((m) => m.route.endsWith("w")))
          await callValid(d, m, CHATS[name]);
      });
    }
    // the archive is a rollback-journal file, the external bot's a WAL file
    const raw = new Database(dir.file("archive.db"));
    raw.run("PRAGMA journal_mode = DELETE");
    raw.close();
    const files = READONLY.map((n) => dir.file(`${n}.db`));
    const before = files.map(sha256);

    const configPath = writeConfig(dir.path, config("archive"));
    await using db = new DatabaseWrapper({ configPath, pollMs: 50, debounceMs: 5 });
    await db.watch();
    const writes = METHODS.filter((m) => m.route.endsWith("w"));
    const reads = METHODS.filter((m) => !m.route.endsWith("w"));
    const tally = { refused: 0, reads: 0, reloads: 0, reopens: 0, other: [] as string[] };
    for (let i = 0; i < 10_000; i++) {
      const method = writes[i % writes.length] as (typeof writes)[number];
      const target = READONLY[
        Math.floor(i / writes.length) % READONLY.length
      ] as keyof typeof CHATS;
      try {
        await callValid(db, method, CHATS[target]);
        tally.other.push(`${method.name} → ${target}: resolved`);
      } catch (e) {
        if (e instanceof DatabaseError && e.code === "READONLY_SOURCE") tally.refused++;
        else tally.other.push(`${method.name} → ${target}: ${e}`);
      }
      if (i % 10 === 0) {
        const read = reads[(i / 10) % reads.length] as (typeof reads)[number];
        await callValid(db, read, CHATS[target]);
        tally.reads++;
      }
      if (i % 500 === 499) {
        // move the default source among the readonly ones: default-routed writes go there
        writeFileSync(configPath, config(READONLY[(i + 1) % 3] as string));
        await db.reload();
        tally.reloads++;
      }
      if (i % 250 === 0) {
        for (const name of READONLY) {
          const s = (
            db as unknown as { gen: { sources: Map<string, SqliteSource> } }
          ).gen.sources.get(name);
          s?.check();
          s?.open("forced reopen");
          tally.reopens++;
        }
        await Bun.sleep(0);
      }
    }
    await db.close();
    expect(tally.other).toEqual([]);
    expect(tally.refused).toBe(10_000);
    expect(files.map(sha256)).toEqual(before);
    // SQLite made no journal for a readonly connection
    expect(readdirSync(dir.path).filter((f) => f.endsWith("-journal"))).toEqual([]);
    if (process.env.CHATDB_REPORT)
      console.log(JSON.stringify({ ...tally, other: tally.other.length }));
  }, 60_000);
});
