/**
 * The source contract: what every source kind does with a query, whatever its engine and mode
 * — get, all, run and batch; error typing; close. Writable kinds run the whole contract;
 * readonly ones run its reads on data put there beforehand, and their writes must be refused
 * with the kind's refusal code, changing nothing. Run over every kind by
 * source-contract.test.ts.
 */

import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { parseConfig } from "../src/config/load.ts";
import type { PostgresSourceConfig, SourceMode, SqliteSourceConfig } from "../src/config/types.ts";
import type { DatabaseErrorCode } from "../src/errors.ts";
import { messages } from "../src/repositories/messages.ts";
import { chatSettings, settings } from "../src/repositories/settings.ts";
import { users } from "../src/repositories/users.ts";
import { LATEST_VERSION } from "../src/schema/migrations.ts";
import { PostgresSource } from "../src/sources/postgres-source.ts";
import { batch, fold, one, sql, write } from "../src/sources/query.ts";
import type { Source } from "../src/sources/source.ts";
import { SqliteSource } from "../src/sources/sqlite-source.ts";
import { expectCode, tempDir } from "./helpers.ts";
import { pgSchema, pgSourceConfig, runPg } from "./pg.ts";

/** A place a source lives (a file, a schema, a connection's memory) and how to reach it. */
export interface Location extends AsyncDisposable {
  /** Opens the source under test on it (a memory kind: the one source its data lives in). */
  open(): Source;
  /**
   * Runs SQL on the location directly, bypassing the source under test: on a connection of its
   * own (a memory kind: the source's). On a readonly kind, call it before {@link open}.
   */
  raw(sql: string): Promise<void>;
  /**
   * Fills the location through a writable source of the same engine, closed before it returns
   * (a memory kind: the source under test itself). On a readonly kind, call it before {@link open}.
   */
  seed(fill: (writer: Source) => Promise<unknown>): Promise<void>;
  /** What is stored, to compare before and after a refusal: the files' bytes, or the rows. */
  snapshot(): Promise<unknown>;
}

export interface SourceKind {
  name: string;
  /** Runs here: false skips it (PostgreSQL without a server; test/pg.ts printed why). */
  run: boolean;
  /** The mode its health reports. */
  mode: SourceMode;
  /** Writes run; else they are refused with {@link refusal}. */
  writable: boolean;
  /** Another open of the same location sees what the first left (not `:memory:`). */
  persistent: boolean;
  /**
   * How a write is refused on a readonly kind: the code, and the engine's own code in `cause`
   * where the refusal comes from the engine.
   */
  refusal?: { code: DatabaseErrorCode; cause?: string };
  /** A fresh location; readonly kinds get one migrated to the latest version by a writer. */
  location(): Promise<Location>;
}

const now = "2026-01-02 03:04:05.678";

const countStats = one(
  (p: { chatId: number }) =>
    sql`SELECT messages_count AS n FROM chat_stats WHERE chat_id = ${p.chatId}`,
  (r) => Number(r.n),
);
const countMessages = fold("SELECT count(*) AS n FROM chat_messages", (rows) => Number(rows[0]?.n));

/** `messages.save`'s parameters for message `id` in chat −100. */
const save = (id: number) => ({
  chatId: -100,
  messageId: String(id),
  date: "2026-01-02T10:00:00+00:00",
  userId: 7,
  replyId: null,
  threadId: 0,
  rootMessageId: null,
  text: "hi",
  type: "text",
  category: "user",
  quote: null,
  mediaId: null,
  mediaGroupId: null,
  markup: "",
  metadata: "",
  now: "2026-01-02T10:00:01+00:00",
  day: "2026-01-02T00:00:00+00:00",
});

/** The source contract on one kind. */
export function sourceContract(kind: SourceKind): void {
  describe.skipIf(!kind.run)(`source contract: ${kind.name}`, () => {
    /** Asserts that `call` is refused with the kind's refusal code. */
    const refused = async (call: () => unknown) => {
      const { code, cause } = kind.refusal ?? { code: "READONLY_SOURCE" };
      const e = await expectCode(call, code);
      if (cause) expect(e.cause).toMatchObject({ code: cause });
    };

    test("opens at the latest version and reports it in health", async () => {
      await using loc = await kind.location();
      const source = loc.open();
      expect(await source.exec(settings.get, { key: "db-migration-version" })).toEqual({
        value: String(LATEST_VERSION),
      });
      expect(source.health()).toMatchObject({
        name: "main",
        mode: kind.mode,
        state: "ok",
        reason: "",
        schemaVersion: LATEST_VERSION,
      });
      await source.close();
      if (!kind.persistent) return;
      // a second open applies nothing (a readonly kind never migrates)
      const again = loc.open() as Source & { migration: { applied: unknown[] } | null };
      await again.exec(settings.get, { key: "x" });
      if (kind.writable) expect(again.migration?.applied).toEqual([]);
      else expect(again.migration).toBeNull();
      await again.close();
    });

    test("runs get and all; run is true only when a row changed, refused on a readonly kind", async () => {
      await using loc = await kind.location();
      const set = (s: Source, key: string, value: string) =>
        s.exec(chatSettings.set, { chatId: -100, key, value, updatedBy: 0, now });
      if (!kind.writable) {
        await loc.seed(async (w) => {
          await set(w, "lang", "en");
          await set(w, "tz", "UTC");
        });
      }
      const source = loc.open();
      if (kind.writable) {
        expect(await set(source, "lang", "en")).toBe(true);
        expect(await set(source, "tz", "UTC")).toBe(true);
      }
      expect(await source.exec(chatSettings.get, { chatId: -100, key: "lang" })).toBe("en");
      expect(await source.exec(chatSettings.get, { chatId: -100, key: "nope" })).toBeNull();
      expect(await source.exec(chatSettings.all, { chatId: -100 })).toEqual({
        lang: "en",
        tz: "UTC",
      });
      if (kind.writable) {
        expect(await source.exec(chatSettings.unset, { chatId: -100, key: "nope" })).toBe(false);
        expect(await source.exec(chatSettings.unset, { chatId: -100, key: "tz" })).toBe(true);
      } else {
        const before = await loc.snapshot();
        await refused(() => set(source, "lang", "fr"));
        await refused(() => source.exec(chatSettings.unset, { chatId: -100, key: "tz" }));
        expect(await loc.snapshot()).toEqual(before);
        expect(await source.exec(chatSettings.all, { chatId: -100 })).toEqual({
          lang: "en",
          tz: "UTC",
        });
      }
      await source.close();
    });

    test("runs a batch in one transaction; a duplicate first step is false and stops", async () => {
      await using loc = await kind.location();
      if (!kind.writable) {
        await loc.seed(async (w) => {
          await w.exec(messages.save, save(1));
          await w.exec(messages.save, save(2));
        });
      }
      const source = loc.open();
      if (kind.writable) {
        expect(await source.exec(messages.save, save(1))).toBe(true);
        expect(await source.exec(messages.save, save(2))).toBe(true);
        expect(await source.exec(messages.save, save(1))).toBe(false);
      }
      expect(await source.exec(countStats, { chatId: -100 })).toBe(2);
      expect(await source.exec(countMessages, {})).toBe(2);
      if (kind.writable) {
        // a failing later step rolls the first one back
        const broken = batch([
          messages.save.steps[0] as (typeof messages.save.steps)[number],
          write((p: { chatId: number }) => sql`INSERT INTO no_such_table (x) VALUES (${p.chatId})`),
        ]);
        await expectCode(() => source.exec(broken, save(3)), "SCHEMA_MISMATCH");
      } else {
        const before = await loc.snapshot();
        await refused(() => source.exec(messages.save, save(3)));
        await refused(() => source.exec(messages.save, save(1)));
        expect(await loc.snapshot()).toEqual(before);
      }
      expect(await source.exec(countMessages, {})).toBe(2);
      expect(await source.exec(countStats, { chatId: -100 })).toBe(2);
      await source.close();
    });

    // the message is the feature here: it names what is missing
    // (a column a later migration added, such as chat_users.metadata, reads as null where a file
    // lacks it, data-api.test.ts; full_name is in every version, so nothing can stand in for it)
    test("a missing table or column is SCHEMA_MISMATCH naming the table and column", async () => {
      await using loc = await kind.location();
      let source: Source;
      if (kind.writable) {
        source = loc.open();
        await source.exec(settings.get, { key: "x" });
        await loc.raw("ALTER TABLE chat_users DROP COLUMN full_name");
        await loc.raw("DROP TABLE chat_topics");
      } else {
        await loc.raw("ALTER TABLE chat_users DROP COLUMN full_name");
        await loc.raw("DROP TABLE chat_topics");
        source = loc.open();
      }
      const column = await expectCode(
        () => source.exec(users.get, { chatId: 1, userId: 2 }),
        "SCHEMA_MISMATCH",
      );
      expect(column.message).toContain("table chat_users has no column full_name");
      expect(column.source).toBe("main");
      // a readonly kind is never migrated: it shows the gap in health
      if (!kind.writable) expect(source.health().state).toBe("degraded");
      const table = await expectCode(
        () =>
          source.exec(
            one("SELECT * FROM chat_topics", (r) => r),
            {},
          ),
        "SCHEMA_MISMATCH",
      );
      expect(table.message).toContain("table chat_topics is missing");
      // what needs no missing part still works
      expect(await source.exec(chatSettings.get, { chatId: 1, key: "k" })).toBeNull();
      await source.close();
    });

    test("close is idempotent; calls after close reject with CLOSED", async () => {
      await using loc = await kind.location();
      const source = loc.open();
      await source.exec(settings.get, { key: "x" });
      await source.close();
      await source.close();
      await expectCode(() => source.exec(settings.get, { key: "x" }), "CLOSED");
      if (!kind.writable) {
        await expectCode(
          () =>
            source.exec(chatSettings.set, { chatId: 1, key: "k", value: "v", updatedBy: 0, now }),
          "CLOSED",
        );
      }
      expect(source.health().state).toBe("unavailable");
    });
  });
}

/** A resolved SQLite source config named main: `path` in `dir`, with extra TOML keys. */
const sqliteConfig = (dir: string, path: string, extra = ""): SqliteSourceConfig =>
  parseConfig(`[database.sources.main]\npath = "${path}"\n${extra}\n`, { baseDir: dir })
    .sources[0] as SqliteSourceConfig;

/** A SQLite file location; `extra` TOML keys make the source under test readonly or immutable. */
async function sqliteFile(extra: string): Promise<Location> {
  const dir = tempDir();
  const path = dir.file("bot.db");
  const writable = sqliteConfig(dir.path, path);
  const config = sqliteConfig(dir.path, path, extra);
  const seed = async (fill: (writer: Source) => Promise<unknown>) => {
    const writer = new SqliteSource(writable);
    try {
      await fill(writer);
    } finally {
      await writer.close();
    }
  };
  // a readonly kind opens what a writer made
  if (config.readonly) await seed(async () => {});
  return {
    open: () => new SqliteSource(config),
    async raw(text) {
      const db = new Database(path);
      db.run(text);
      db.close();
    },
    seed,
    async snapshot() {
      return {
        files: readdirSync(dir.path).sort(),
        sha256: createHash("sha256").update(readFileSync(path)).digest("hex"),
      };
    },
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

/** A PostgreSQL schema location; `readonly` makes the source under test readonly. */
async function pgLocation(readonly: boolean): Promise<Location> {
  const schema = await pgSchema();
  const admin = new PostgresSource(pgSourceConfig("admin", schema.url));
  const config: PostgresSourceConfig = pgSourceConfig("main", schema.url, { readonly });
  const seed = async (fill: (writer: Source) => Promise<unknown>) => {
    const writer = new PostgresSource(pgSourceConfig("main", schema.url));
    try {
      await fill(writer);
    } finally {
      await writer.close();
    }
  };
  if (readonly) await seed(async (w) => w.exec(settings.get, { key: "x" }));
  return {
    open: () => new PostgresSource(config),
    async raw(text) {
      await admin._sql().unsafe(text);
    },
    seed,
    async snapshot() {
      const sql = admin._sql();
      return {
        settings: await sql.unsafe("SELECT * FROM chat_settings ORDER BY chat_id, key"),
        messages: await sql.unsafe("SELECT * FROM chat_messages ORDER BY chat_id, message_id"),
        stats: await sql.unsafe("SELECT * FROM chat_stats ORDER BY chat_id, date"),
      };
    },
    async [Symbol.asyncDispose]() {
      await admin.close();
      await schema[Symbol.asyncDispose]();
    },
  };
}

/** The SQLite engine refuses a write to a readonly or immutable connection itself. */
const SQLITE_REFUSAL = { code: "READONLY_SOURCE", cause: "SQLITE_READONLY" } as const;

/** Every source kind chatdb opens. */
export const SOURCE_KINDS: SourceKind[] = [
  {
    name: "sqlite :memory:",
    mode: "read-write",
    run: true,
    writable: true,
    persistent: false,
    async location() {
      let source: SqliteSource | undefined;
      const open = () => {
        source ??= new SqliteSource(sqliteConfig("/", ":memory:"));
        return source;
      };
      return {
        open,
        async raw(text) {
          open()._connection().run(text);
        },
        async seed(fill) {
          await fill(open());
        },
        async snapshot() {
          return open()._connection().serialize();
        },
        [Symbol.asyncDispose]: async () => source?.close(),
      };
    },
  },
  {
    name: "sqlite file (read-write)",
    mode: "read-write",
    run: true,
    writable: true,
    persistent: true,
    location: () => sqliteFile(""),
  },
  {
    name: "sqlite file (readonly)",
    mode: "readonly",
    run: true,
    writable: false,
    persistent: true,
    refusal: SQLITE_REFUSAL,
    location: () => sqliteFile("readonly = true"),
  },
  {
    name: "sqlite file (immutable)",
    mode: "immutable",
    run: true,
    writable: false,
    persistent: true,
    refusal: SQLITE_REFUSAL,
    location: () => sqliteFile("readonly = true\nimmutable = true"),
  },
  {
    name: "postgres (read-write)",
    mode: "read-write",
    run: runPg,
    writable: true,
    persistent: true,
    location: () => pgLocation(false),
  },
  {
    name: "postgres (readonly)",
    mode: "readonly",
    run: runPg,
    writable: false,
    persistent: true,
    refusal: { code: "READONLY_SOURCE" },
    location: () => pgLocation(true),
  },
];
