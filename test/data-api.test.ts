import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { type DatabaseError, DatabaseWrapper, LATEST_VERSION } from "../src/index.ts";
import { migrateSqlite } from "../src/schema/migrate.ts";
import { LAST_RUN_KEY, MIGRATIONS, type Migration, VERSION_KEY } from "../src/schema/migrations.ts";
import { dataApiSuite, SUITE_CHATS } from "./data-api.suite.ts";
import {
  CHATS,
  expectCode,
  multiSourceToml,
  seedDatabase,
  tempDir,
  waitFor,
  writeConfig,
} from "./helpers.ts";
import { closePgAdmin, pgSchema, runPg } from "./pg.ts";

/** The suite's config: primary, archive, external; `primary` declared by `primaryKeys`. */
const suiteToml = (defaultSource: string, primaryKeys = 'path = "primary.db"') =>
  multiSourceToml({ extra: `${SUITE_CHATS.external} = "external"` })
    .replace('default_source = "primary"', `default_source = "${defaultSource}"`)
    .replace('path = "primary.db"', primaryKeys);

dataApiSuite("SQLite primary", (_dir, { defaultSource }) => suiteToml(defaultSource));

// The same expectations with the primary on PostgreSQL (a fresh schema per test) and the
// readonly archive and external bot still SQLite files: a mixed-engine wrapper.
afterAll(closePgAdmin);
dataApiSuite(
  "PostgreSQL primary",
  async (_dir, { defaultSource }) => {
    const schema = await pgSchema();
    return {
      toml: suiteToml(defaultSource, `type = "postgres"\nurl = "${schema.url}"`),
      [Symbol.asyncDispose]: () => schema[Symbol.asyncDispose](),
    };
  },
  { skip: !runPg, nulInText: false, hugeKeys: false, malformedJsonMetadata: false },
);

/** Opens `path` raw, runs `fn`, closes. */
function raw<T>(path: string, fn: (db: Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const version = (db: Database) =>
  (
    db.query("SELECT value FROM settings WHERE key = ?").get(VERSION_KEY) as {
      value: string;
    } | null
  )?.value;

/** The multi-source setup with whatever files the test put in `dir`. */
function open(dir: string) {
  return new DatabaseWrapper({
    configPath: writeConfig(
      dir,
      multiSourceToml({ extra: `${SUITE_CHATS.external} = "external"` }),
    ),
  });
}

describe("migrations", () => {
  test("a fresh writable source reaches version 18 with gromozeka's 24 tables", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("bot.db"));
    expect(LATEST_VERSION).toBe(18);
    const tables = raw(dir.file("bot.db"), (db) => {
      expect(version(db)).toBe("18");
      return (
        db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
          name: string;
        }[]
      ).map((t) => t.name);
    });
    // 012 replaced the cache_<type> tables by one `cache`; 008, 014–017 added the rest
    expect(tables).toEqual([
      "bayes_classes",
      "bayes_tokens",
      "cache",
      "cache_storage",
      "chat_info",
      "chat_messages",
      "chat_settings",
      "chat_stats",
      "chat_summarization_cache",
      "chat_topics",
      "chat_user_stats",
      "chat_users",
      "delayed_tasks",
      "divination_layouts",
      "divinations",
      "ham_messages",
      "media_attachments",
      "media_groups",
      "message_embeddings",
      "settings",
      "spam_messages",
      "stat_aggregates",
      "stat_events",
      "user_data",
    ]);
    // reopening applies nothing
    await using db = new DatabaseWrapper(dir.file("bot.db"));
    expect(db.health().sources[0]?.schemaVersion).toBe(18);
  });

  test("an older writable database is brought up to date, its data kept", async () => {
    await using dir = tempDir();
    raw(dir.file("bot.db"), (db) => {
      migrateSqlite(db, "old", MIGRATIONS.slice(0, 2));
      db.run(
        "INSERT INTO chat_users (chat_id, user_id, username, full_name) VALUES (1, 2, '@old', 'Old')",
      );
    });
    await using db = new DatabaseWrapper(dir.file("bot.db"));
    expect(await db.getChatUser(1, 2)).toMatchObject({ username: "@old", metadata: "" });
    expect(db.health().sources[0]?.schemaVersion).toBe(18);
  });

  test("a failed migration leaves the previous version and schema intact", async () => {
    await using dir = tempDir();
    // the second statement fails at every version: chat_users.username is there from 001
    const broken: Migration = {
      version: 19,
      name: "broken",
      up: ["CREATE TABLE half_done (a TEXT)", "ALTER TABLE chat_users ADD COLUMN username TEXT"],
    };
    raw(dir.file("bot.db"), (db) => {
      migrateSqlite(db, "bot", MIGRATIONS);
      const lastRun = db.query("SELECT value FROM settings WHERE key = ?").get(LAST_RUN_KEY);
      const e = (() => {
        try {
          migrateSqlite(db, "bot", [...MIGRATIONS, broken]);
        } catch (error) {
          return error as DatabaseError;
        }
      })();
      expect(e?.code).toBe("QUERY_FAILED");
      expect(e?.message).toContain("migration 19");
      expect(e?.message).toContain("version 18");
      expect(version(db)).toBe("18");
      expect(db.query("SELECT value FROM settings WHERE key = ?").get(LAST_RUN_KEY)).toEqual(
        lastRun,
      );
      expect(db.query("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).toBeNull();
    });

    // mid-way through a fresh database: the migrations before the broken one stay applied
    raw(dir.file("fresh.db"), (db) => {
      const third: Migration = { ...broken, version: 3 };
      const e = (() => {
        try {
          migrateSqlite(db, "fresh", [...MIGRATIONS.slice(0, 2), third]);
        } catch (error) {
          return error as DatabaseError;
        }
      })();
      expect(e?.code).toBe("QUERY_FAILED");
      expect(e?.message).toContain("version 2"); // it says where it stopped
      expect(version(db)).toBe("2");
      expect(db.query("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).toBeNull();
      expect(
        db.query("SELECT name FROM sqlite_master WHERE name = 'chat_users'").get(),
      ).toBeTruthy();
    });
    // and the wrapper can still open and finish it
    await using db = new DatabaseWrapper(dir.file("fresh.db"));
    expect(db.health().sources[0]?.schemaVersion).toBe(18);
  });

  test("a writable database newer than this chatdb is refused with SCHEMA_MISMATCH", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("primary.db"));
    raw(dir.file("primary.db"), (db) =>
      db.run("UPDATE settings SET value = '19' WHERE key = ?", [VERSION_KEY]),
    );
    const e = await expectCode(
      () => new DatabaseWrapper(dir.file("primary.db")),
      "SCHEMA_MISMATCH",
    );
    expect(e.message).toContain("version 19");
    await seedDatabase(dir.file("archive.db"));
    await seedDatabase(dir.file("external.db"));
    await expectCode(() => open(dir.path), "SCHEMA_MISMATCH");
    raw(dir.file("primary.db"), (db) => expect(version(db)).toBe("19"));
  });

  test("a readonly source with an old schema serves what it has: later columns read as null or from their old place, a missing table is SCHEMA_MISMATCH naming source and table", async () => {
    await using dir = tempDir();
    raw(dir.file("archive.db"), (db) => {
      migrateSqlite(db, "archive", MIGRATIONS.slice(0, 2));
      // version 2: chat_users.is_spammer, no metadata; chat_messages before 007/008
      db.run(
        "INSERT INTO chat_users (chat_id, user_id, username, full_name, is_spammer) VALUES (?1, 1, '@old', 'Old', 1)",
        [CHATS.archived],
      );
      db.run(
        `INSERT INTO chat_messages (chat_id, message_id, date, user_id, message_text)
        VALUES (?1, '5', '2025-01-02 03:04:05', 1, 'old text')`,
        [CHATS.archived],
      );
    });
    await seedDatabase(dir.file("external.db"));
    const before = readFileSync(dir.file("archive.db"));
    {
      await using db = open(dir.path);
      const health = db.health().sources.find((s) => s.name === "archive");
      expect(health).toMatchObject({ schemaVersion: 2, state: "degraded" });
      expect(health?.reason).toContain("chat_users.metadata");
      expect(health?.reason).toContain("cache_storage");
      // the spammer flag from the is_spammer column (v2–v8), metadata "" where there is none
      expect(await db.getChatUser(CHATS.archived, 1)).toMatchObject({
        username: "@old",
        isSpammer: true,
        metadata: "",
        dataSource: "archive",
      });
      expect(await db.getChatMessageByMessageId(CHATS.archived, 5)).toMatchObject({
        messageText: "old text",
        date: new Date("2025-01-02T03:04:05Z"),
        mediaGroupId: null,
        markup: null,
        metadata: null,
        username: "@old",
        dataSource: "archive",
      });
      const table = await expectCode(
        db.getCacheStorage({ dataSource: "archive" }),
        "SCHEMA_MISMATCH",
      );
      expect(table.source).toBe("archive");
      expect(table.message).toContain("source archive");
      expect(table.message).toContain("cache_storage");
      // the columns it does have still serve
      expect(await db.getChatSettings(CHATS.archived)).toEqual({});
      // aggregation skips it and says why, or fails with strict
      const events: string[] = [];
      db.on("sourceError", (ev) => events.push(`${ev.source}:${ev.error.code}`));
      expect(await db.getCacheStorage()).toEqual([]);
      expect(events).toEqual(["archive:SCHEMA_MISMATCH"]);
      await expectCode(db.getCacheStorage({ strict: true }), "SCHEMA_MISMATCH");
    }
    // never migrated
    expect(readFileSync(dir.file("archive.db")).equals(before)).toBe(true);
  });

  test("a readonly source with a foreign schema is SCHEMA_MISMATCH, never an empty result", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("archive.db"));
    raw(dir.file("external.db"), (db) => {
      db.run("CREATE TABLE chat_users (chat_id INTEGER, user_id INTEGER, name TEXT)");
      db.run("CREATE TABLE unrelated (x)");
    });
    await using db = open(dir.path);
    const health = db.health().sources.find((s) => s.name === "external");
    expect(health).toMatchObject({ schemaVersion: null, state: "degraded" });
    expect(health?.reason).toContain("chat_users.username");
    expect(health?.reason).toContain("chat_messages");
    const chat = SUITE_CHATS.external;
    const column = await expectCode(db.getChatUser(chat, 1), "SCHEMA_MISMATCH");
    expect(column.message).toMatch(
      /source external: table chat_users has no column (username|full_name|timezone)/,
    );
    for (const call of [
      () => db.getChatSetting(chat, "k"),
      () => db.getChatMessagesSince(chat),
      () => db.getChatInfo(chat),
      () => db.getUserData(1, chat),
      () => db.getSpamMessagesByUserId(chat, 1),
      () => db.getSetting("k", { dataSource: "external" }),
    ]) {
      const e = await expectCode(call(), "SCHEMA_MISMATCH");
      expect(e.message).toMatch(/^source external: table \w+ is missing/);
    }
  });
});

describe("stored format (SQLite)", () => {
  test("setSetting, setChatSetting and addUserData keep created_at while updated_at moves", async () => {
    await using dir = tempDir();
    const path = dir.file("bot.db");
    const stamps = () =>
      raw(path, (db) =>
        [
          "settings WHERE key = 'k'",
          "chat_settings WHERE key = 'k'",
          "user_data WHERE key = 'k'",
        ].map(
          (where) =>
            db.query(`SELECT created_at, updated_at FROM ${where}`).get() as {
              created_at: string;
              updated_at: string;
            },
        ),
      );
    {
      await using db = new DatabaseWrapper(path);
      await db.setSetting("k", "1");
      await db.setChatSetting(5, "k", "1");
      await db.addUserData(7, 5, "k", "1");
    }
    const before = stamps();
    const t = Date.now();
    await waitFor("the clock to move", () => Date.now() > t + 2);
    {
      await using db = new DatabaseWrapper(path);
      await db.setSetting("k", "2");
      await db.setChatSetting(5, "k", "2");
      await db.addUserData(7, 5, "k", "2");
      expect(await db.getSetting("k")).toBe("2");
    }
    for (const [i, after] of stamps().entries()) {
      expect(after.created_at).toBe(before[i]?.created_at as string);
      expect(after.updated_at > (before[i]?.updated_at as string)).toBe(true);
    }
  });

  test("timestamps are stored as Python isoformat UTC text (T, +00:00); ham rows land in ham_messages", async () => {
    await using dir = tempDir();
    const path = dir.file("bot.db");
    {
      await using db = new DatabaseWrapper(path);
      await db.saveChatMessage({
        date: new Date("2025-06-30T23:59:59.123Z"),
        chatId: 1,
        userId: 2,
        messageId: 3,
      });
      await db.saveChatMessage({
        date: new Date("2025-07-01T00:00:01Z"),
        chatId: 1,
        userId: 2,
        messageId: 4,
      });
      await db.addHamMessage({
        chatId: 1,
        userId: 2,
        messageId: 3,
        text: "fine",
        reason: "admin",
        score: 0.1,
      });
    }
    raw(path, (db) => {
      expect(
        db.query("SELECT message_id, date FROM chat_messages ORDER BY message_id").all(),
      ).toEqual([
        { message_id: "3", date: "2025-06-30T23:59:59.123000+00:00" },
        { message_id: "4", date: "2025-07-01T00:00:01+00:00" },
      ]);
      // daily stats are keyed by the UTC day
      expect(db.query("SELECT date, messages_count FROM chat_stats ORDER BY date").all()).toEqual([
        { date: "2025-06-30T00:00:00+00:00", messages_count: 1 },
        { date: "2025-07-01T00:00:00+00:00", messages_count: 1 },
      ]);
      expect(
        db
          .query(
            "SELECT chat_id, user_id, message_id, text, reason, score, confidence FROM ham_messages",
          )
          .all(),
      ).toEqual([
        {
          chat_id: 1,
          user_id: 2,
          message_id: "3",
          text: "fine",
          reason: "admin",
          score: 0.1,
          confidence: 1, // gromozeka 011's default, which chatdb writes when none is given
        },
      ]);
      const created = (
        db.query("SELECT created_at FROM ham_messages").get() as { created_at: string }
      ).created_at;
      expect(created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    });
  });
});

describe("stored format (SQLite): both of gromozeka's timestamp encodings", () => {
  test("rows written before (YYYY-MM-DD HH:MM:SS) and after 013 (ISO, +00:00) read as the same instants and filter by since, till, seenSince and ttl alike", async () => {
    await using dir = tempDir();
    const path = dir.file("bot.db");
    // Python's isoformat: no fraction when the microseconds are 0
    const iso = (d: Date) =>
      d
        .toISOString()
        .replace(/\.000Z$/, "+00:00")
        .replace("Z", "000+00:00");
    const space = (d: Date) =>
      d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "");
    const t0 = Date.UTC(2025, 5, 30, 23, 59, 58);
    // messages and users 1..6 one second apart, across midnight; 1–3 in the old encoding, 4–6
    // in the new one, as in a file that went through 013 (the text of both sorts by time then)
    const at = (i: number) => new Date(t0 + i * 1000);
    const enc = (i: number) => (i <= 3 ? space(at(i)) : iso(at(i)));
    {
      await using db = new DatabaseWrapper(path);
      await db.setSetting("opened", "1");
    }
    raw(path, (db) => {
      for (let i = 1; i <= 6; i++) {
        db.run(
          `INSERT INTO chat_messages (chat_id, message_id, date, user_id, message_text, created_at)
          VALUES (1, ?1, ?2, 7, 'm', ?2)`,
          [String(i), enc(i)],
        );
        db.run(
          `INSERT INTO chat_users (chat_id, user_id, username, full_name, created_at, updated_at)
          VALUES (1, ?1, 'u', 'U', ?2, ?2)`,
          [i, enc(i)],
        );
      }
      const now = Date.now();
      for (const [key, ago] of [
        ["old-space", 120],
        ["new-space", 10],
      ] as const) {
        const d = new Date(now - ago * 1000);
        db.run(
          "INSERT INTO cache (namespace, key, data, created_at, updated_at) VALUES ('weather', ?1, 'd', ?2, ?2)",
          [key, space(d)],
        );
      }
      for (const [key, ago] of [
        ["old-iso", 120],
        ["new-iso", 10],
      ] as const) {
        const d = new Date(now - ago * 1000);
        db.run(
          "INSERT INTO cache (namespace, key, data, created_at, updated_at) VALUES ('weather', ?1, 'd', ?2, ?2)",
          [key, iso(d)],
        );
      }
    });
    await using db = new DatabaseWrapper(path);
    const m = await db.getChatMessagesSince(1);
    expect(m.map((r) => [r.messageId, r.date.getTime()])).toEqual(
      [6, 5, 4, 3, 2, 1].map((i) => [String(i), at(i).getTime()]),
    );
    const ids = async (opts: Parameters<typeof db.getChatMessagesSince>[1]) =>
      (await db.getChatMessagesSince(1, opts)).map((r) => Number(r.messageId));
    // since and till are exclusive whichever encoding the row at the bound has
    expect(await ids({ since: at(2), till: at(5) })).toEqual([4, 3]);
    expect(await ids({ since: at(3), till: at(4) })).toEqual([]);
    expect(await ids({ since: at(1), till: at(4) })).toEqual([3, 2]);
    expect(await ids({ since: new Date(at(2).getTime() + 500) })).toEqual([6, 5, 4, 3]);
    expect(await ids({ till: new Date(at(4).getTime() + 1) })).toEqual([4, 3, 2, 1]);
    const seen = async (since: Date) =>
      (await db.getChatUsers(1, { seenSince: since, limit: 50 })).map((u) => u.userId);
    expect(await seen(at(3))).toEqual([6, 5, 4]);
    expect(await seen(at(2))).toEqual([6, 5, 4, 3]);
    expect(await seen(at(4))).toEqual([6, 5]);
    for (const key of ["old-space", "old-iso"]) {
      expect(await db.getCacheEntry(key, "weather", { ttl: 60 })).toBeNull();
      expect((await db.getCacheEntry(key, "weather"))?.key).toBe(key);
    }
    for (const key of ["new-space", "new-iso"]) {
      expect((await db.getCacheEntry(key, "weather", { ttl: 60 }))?.key).toBe(key);
    }
  });
});

describe("global settings", () => {
  test("a stored NULL reads as null, not as the default", async () => {
    await using dir = tempDir();
    await using db = new DatabaseWrapper(dir.file("bot.db"));
    // gromozeka's settings.value is nullable; chatdb never writes NULL itself
    const raw = new Database(dir.file("bot.db"));
    // 013 dropped the timestamp defaults: a raw insert gives them
    raw.run(
      "INSERT INTO settings (key, value, created_at, updated_at) VALUES ('nullable', NULL, ?1, ?1)",
      ["2026-01-01T00:00:00+00:00"],
    );
    raw.close();
    expect(await db.getSetting("nullable", { default: "fallback" })).toBeNull();
    expect(await db.getSetting("absent", { default: "fallback" })).toBe("fallback");
  });
});
