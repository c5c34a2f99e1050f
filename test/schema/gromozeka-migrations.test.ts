/**
 * gromozeka's migrations 007–018 as chatdb runs them (src/schema/migrations.ts): a fresh file gets gromozeka's v18 schema exactly (compared with the v18 file
 * gromozeka's own code made), and a chatdb v6 file with data moves to 18 losing nothing — on
 * SQLite and on PostgreSQL; gromozeka's own code then reads the migrated file (when python3.12
 * with aiosqlite and gromozeka's source are here).
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { migrateSqlite } from "../../src/schema/migrate.ts";
import { migratePg } from "../../src/schema/migrate-pg.ts";
import { GROMOZEKA_CACHE_TYPES, MIGRATIONS } from "../../src/schema/migrations.ts";
import { findGromozeka } from "../gromozeka.ts";
import { closePgAdmin, pgSchema, runPg } from "../pg.ts";

const ALL = MIGRATIONS;
/** chatdb's own migrations 001–006: the schema before gromozeka's 007–018. */
const V6 = MIGRATIONS.slice(0, 6);
const FIXTURES = join(import.meta.dir, "..", "fixtures", "gromozeka");
const dir = mkdtempSync(join(tmpdir(), "chatdb-gmig-"));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closePgAdmin();
});

type Row = Record<string, unknown>;

/** Tables with their columns, and gromozeka's indexes with their columns (chatdb's own left out). */
function schemaOf(db: Database) {
  const tables = db
    .query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .all() as { name: string }[];
  const indexes = db
    .query(
      `SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
       AND name NOT LIKE 'chatdb\\_%' ESCAPE '\\' ORDER BY name`,
    )
    .all() as { name: string; tbl_name: string }[];
  return {
    tables: Object.fromEntries(
      tables.map(({ name }) => [
        name,
        db
          .query(
            'SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid',
          )
          .all(name),
      ]),
    ),
    indexes: Object.fromEntries(
      indexes.map(({ name, tbl_name }) => [
        name,
        {
          table: tbl_name,
          columns: (
            db.query("SELECT name FROM pragma_index_info(?) ORDER BY seqno").all(name) as Row[]
          ).map((r) => r.name),
        },
      ]),
    ),
  };
}

const CHAT = -1001;
const CHAT2 = -1002;
const D27 = "2025-11-27 00:00:00";
const D28 = "2025-11-28 00:00:00";
const G27 = "2025-11-27T00:00:00+00:00";
const G28 = "2025-11-28T00:00:00+00:00";

/** chat_users rows of the v6 file: [chat, user, is_spammer, metadata]. */
const USERS: [number, number, boolean, string][] = [
  [CHAT, 1, true, ""],
  [CHAT, 2, true, '{"notes":"спамер?"}'],
  [CHAT, 3, true, "not json {"],
  [CHAT, 4, false, ""],
  [CHAT2, 1, true, '{"isSpammer":false,"lang":"ru"}'],
  [CHAT2, 5, true, "null"],
  [CHAT2, 6, true, "  "],
];
/** metadata after the move; invalid JSON and non-objects are kept as they were. */
const USERS_AFTER: Record<string, unknown> = {
  [`${CHAT}/1`]: { isSpammer: true },
  [`${CHAT}/2`]: { notes: "спамер?", isSpammer: true },
  [`${CHAT}/3`]: "not json {",
  [`${CHAT}/4`]: "",
  [`${CHAT2}/1`]: { isSpammer: true, lang: "ru" },
  [`${CHAT2}/5`]: "null",
  [`${CHAT2}/6`]: { isSpammer: true },
};
/** typed cache rows of the v6 file: [type, key, data]. */
const CACHE: [string, string, string][] = [
  ["weather", "55.75,37.62", '{"temp":-3}'],
  ["weather", "59.94,30.31", '{"temp":-5}'],
  ["geocoding", "Москва", '{"lat":55.75}'],
  ["yandex_search", "q=bun", '{"items":[]}'],
  ["geocode_maps_lookup", "R123", '{"name":"x"}'],
  ["geocode_maps_reverse", "1,2", '{"name":"y"}'],
];
/** chat_stats of the v6 file: chatdb's day keys, and gromozeka's for one (chat, day) too. */
const STATS: [number, string, number][] = [
  [CHAT, D28, 5],
  [CHAT, G28, 3],
  [CHAT, D27, 2],
  [CHAT2, G28, 4],
];
const STATS_AFTER = [
  { chat_id: CHAT2, date: G28, messages_count: 4 },
  { chat_id: CHAT, date: G27, messages_count: 2 },
  { chat_id: CHAT, date: G28, messages_count: 8 },
];
const USER_STATS: [number, number, string, number][] = [
  [CHAT, 1, D28, 3],
  [CHAT, 1, G28, 1],
  [CHAT, 2, D28, 2],
];
const USER_STATS_AFTER = [
  { chat_id: CHAT, user_id: 1, date: G28, messages_count: 4 },
  { chat_id: CHAT, user_id: 2, date: G28, messages_count: 2 },
];
const MESSAGES = 12;

/**
 * The v6 rows, as INSERTs with `?` placeholders (SQLite) — PostgreSQL renumbers them. `both`:
 * also gromozeka's day key next to chatdb's for one day (on TIMESTAMPTZ they are one key).
 */
function v6Inserts(both = true): [string, unknown[]][] {
  const at = "2025-11-28 09:00:00";
  const out: [string, unknown[]][] = [];
  out.push([
    "INSERT INTO chat_info (chat_id, title, type, is_forum, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    [CHAT, "Group", "supergroup", false, at, at],
  ]);
  out.push([
    "INSERT INTO chat_info (chat_id, title, type, is_forum, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    [CHAT2, "Other", "group", false, at, at],
  ]);
  for (const [chat, user, spammer, metadata] of USERS)
    out.push([
      `INSERT INTO chat_users (chat_id, user_id, username, full_name, messages_count, is_spammer, metadata, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [chat, user, `@u${user}`, `User ${user}`, 1, spammer, metadata, at, at],
    ]);
  for (let i = 1; i <= MESSAGES; i++)
    out.push([
      `INSERT INTO chat_messages (chat_id, message_id, date, user_id, message_text, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [
        i % 2 ? CHAT : CHAT2,
        String(i),
        `2025-11-28 09:${String(i).padStart(2, "0")}:00`,
        1,
        `m${i}`,
        at,
      ],
    ]);
  for (const [type, key, data] of CACHE)
    out.push([
      `INSERT INTO cache_${type} (key, data, created_at, updated_at) VALUES (?, ?, ?, ?)`,
      [key, data, at, at],
    ]);
  for (const [chat, date, n] of STATS.filter((s) => both || s[0] !== CHAT || s[1] !== G28))
    out.push([
      "INSERT INTO chat_stats (chat_id, date, messages_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      [chat, date, n, at, at],
    ]);
  for (const [chat, user, date, n] of USER_STATS.filter((s) => both || s[2] !== G28))
    out.push([
      `INSERT INTO chat_user_stats (chat_id, user_id, date, messages_count, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [chat, user, date, n, at, at],
    ]);
  out.push([
    "INSERT INTO cache_storage (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)",
    ["session", "k", '{"a":1}', at],
  ]);
  return out;
}

const parsed = (metadata: string) => {
  try {
    const v = JSON.parse(metadata);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : metadata;
  } catch {
    return metadata;
  }
};

/** A chatdb v6 file with the rows above. */
function chatdbV6File(name: string): string {
  const path = join(dir, name);
  const db = new Database(path);
  try {
    expect(migrateSqlite(db, name, V6).to).toBe(6);
    for (const [sql, params] of v6Inserts()) db.run(sql, params as never[]);
  } finally {
    db.close();
  }
  return path;
}

describe("gromozeka migrations 007–018 on SQLite", () => {
  test("a fresh file gets the schema gromozeka's own code makes at v18", () => {
    const db = new Database(":memory:");
    const fixture = new Database(join(FIXTURES, "v18.sqlite3"), { readonly: true });
    try {
      const report = migrateSqlite(db, "fresh", ALL);
      expect(report.to).toBe(18);
      expect(report.applied.map((a) => a.version)).toEqual(ALL.map((m) => m.version));
      expect(schemaOf(db)).toEqual(schemaOf(fixture));
    } finally {
      db.close();
      fixture.close();
    }
  });

  test("a chatdb v6 file with data moves to 18 losing nothing", () => {
    const path = chatdbV6File("chatdb-v6.sqlite3");
    const db = new Database(path);
    try {
      const report = migrateSqlite(db, "v6", ALL);
      expect(report).toMatchObject({ from: 6, to: 18 });
      const fixture = new Database(join(FIXTURES, "v18.sqlite3"), { readonly: true });
      try {
        expect(schemaOf(db)).toEqual(schemaOf(fixture));
      } finally {
        fixture.close();
      }
      expect(
        db.query("SELECT value FROM settings WHERE key = 'db-migration-version'").get(),
      ).toEqual({ value: "18" });

      const users = db
        .query("SELECT chat_id, user_id, metadata FROM chat_users ORDER BY chat_id, user_id")
        .all() as { chat_id: number; user_id: number; metadata: string }[];
      expect(
        Object.fromEntries(users.map((u) => [`${u.chat_id}/${u.user_id}`, parsed(u.metadata)])),
      ).toEqual(USERS_AFTER);

      const cache = db
        .query("SELECT namespace, key, data FROM cache ORDER BY namespace, key")
        .all() as Row[];
      expect(cache).toEqual(
        CACHE.map(([namespace, key, data]) => ({ namespace, key, data })).sort((a, b) =>
          `${a.namespace}\0${a.key}` < `${b.namespace}\0${b.key}` ? -1 : 1,
        ),
      );
      const leftover = db
        .query(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'cache\\_%' ESCAPE '\\'",
        )
        .all() as Row[];
      expect(leftover).toEqual([{ name: "cache_storage" }]);

      expect(
        db
          .query("SELECT chat_id, date, messages_count FROM chat_stats ORDER BY chat_id, date")
          .all(),
      ).toEqual(STATS_AFTER);
      expect(
        db
          .query(
            "SELECT chat_id, user_id, date, messages_count FROM chat_user_stats ORDER BY chat_id, user_id, date",
          )
          .all(),
      ).toEqual(USER_STATS_AFTER);
      expect(db.query("SELECT COUNT(*) AS n FROM chat_messages").get()).toEqual({ n: MESSAGES });
      expect(
        db.query("SELECT markup, metadata, media_group_id FROM chat_messages LIMIT 1").get(),
      ).toEqual({ markup: "", metadata: "", media_group_id: null });
      expect(db.query("SELECT namespace, key, value FROM cache_storage").all()).toEqual([
        { namespace: "session", key: "k", value: '{"a":1}' },
      ]);
      // chatdb's own indexes are built again on the recreated tables
      expect(report.indexes?.failed).toBe("");
      expect(report.indexes?.created.length).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  test("gromozeka's v6 file moves to 18 with its typed caches and spammer flag", () => {
    const path = join(dir, "gromozeka-v6.sqlite3");
    copyFileSync(join(FIXTURES, "v6.sqlite3"), path);
    const db = new Database(path);
    try {
      const before = db
        .query(
          GROMOZEKA_CACHE_TYPES.map(
            (t) => `SELECT '${t}' AS namespace, key, data FROM cache_${t}`,
          ).join(" UNION ALL "),
        )
        .all() as Row[];
      expect(new Set(before.map((r) => r.namespace)).size).toBe(GROMOZEKA_CACHE_TYPES.length);
      const stats = db
        .query("SELECT chat_id, date, messages_count FROM chat_stats ORDER BY 1, 2")
        .all();
      const messages = db.query("SELECT COUNT(*) AS n FROM chat_messages").get();

      expect(migrateSqlite(db, "gv6", ALL)).toMatchObject({ from: 6, to: 18 });
      const sort = (rows: Row[]) =>
        rows.map((r) => JSON.stringify([r.namespace, r.key, r.data])).sort();
      expect(sort(db.query("SELECT namespace, key, data FROM cache").all() as Row[])).toEqual(
        sort(before),
      );
      expect(
        db
          .query("SELECT metadata FROM chat_users WHERE chat_id = -1009876543210 AND user_id = 5")
          .get(),
      ).toEqual({ metadata: '{"notes":"спамер?","isSpammer":true}' });
      // gromozeka's day keys are kept as they are
      expect(
        db.query("SELECT chat_id, date, messages_count FROM chat_stats ORDER BY 1, 2").all(),
      ).toEqual(stats);
      expect(db.query("SELECT COUNT(*) AS n FROM chat_messages").get()).toEqual(messages);
    } finally {
      db.close();
    }
  });

  test("a failing migration leaves the file at its version", () => {
    const path = chatdbV6File("chatdb-v6-fail.sqlite3");
    const db = new Database(path);
    try {
      // a NULL created_at cannot be copied into 013's NOT NULL column
      db.run(
        "INSERT INTO chat_topics (chat_id, topic_id, name, created_at, updated_at) VALUES (1, 1, 't', NULL, NULL)",
      );
      expect(() => migrateSqlite(db, "fail", ALL)).toThrow(/migration 13 .* stays at version 12/);
      expect(
        db.query("SELECT value FROM settings WHERE key = 'db-migration-version'").get(),
      ).toEqual({ value: "12" });
      expect(
        db
          .query(
            "SELECT 1 FROM sqlite_master WHERE name = 'settings_new' OR name = 'chat_messages_new'",
          )
          .all(),
      ).toEqual([]);
    } finally {
      db.close();
    }
  });
});

describe.skipIf(!runPg)("gromozeka migrations 007–018 on PostgreSQL", () => {
  test("a chatdb v6 schema with data moves to 18 losing nothing", async () => {
    await using schema = await pgSchema();
    const sql = new SQL({ url: schema.url, max: 1 });
    try {
      expect((await migratePg(sql, "pg", V6)).to).toBe(6);
      for (const [text, params] of v6Inserts(false)) {
        let n = 0;
        await sql.unsafe(
          text.replace(/\?/g, () => `$${++n}`),
          params as never[],
        );
      }
      const report = await migratePg(sql, "pg", ALL);
      expect(report).toMatchObject({ from: 6, to: 18 });
      expect(report.indexes?.failed).toBe("");

      const users = (await sql.unsafe(
        "SELECT chat_id::text AS chat, user_id::text AS u, metadata FROM chat_users",
      )) as { chat: string; u: string; metadata: string }[];
      expect(
        Object.fromEntries(users.map((r) => [`${r.chat}/${r.u}`, parsed(r.metadata)])),
      ).toEqual(USERS_AFTER);
      const columns = (await sql.unsafe(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'chat_users'",
      )) as { column_name: string }[];
      expect(columns.map((c) => c.column_name)).not.toContain("is_spammer");

      const cache = (await sql.unsafe(
        "SELECT namespace, key, data FROM cache ORDER BY namespace, key",
      )) as Row[];
      expect(cache.map((r) => ({ ...r }))).toEqual(
        CACHE.map(([namespace, key, data]) => ({ namespace, key, data })).sort((a, b) =>
          `${a.namespace}\0${a.key}` < `${b.namespace}\0${b.key}` ? -1 : 1,
        ),
      );
      const tables = (await sql.unsafe(
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1",
      )) as { t: string }[];
      expect(tables.map((r) => r.t).filter((t) => t.startsWith("cache"))).toEqual([
        "cache",
        "cache_storage",
      ]);

      // TIMESTAMPTZ: chatdb's and gromozeka's day texts were one instant; the counts are kept
      const stats = (await sql.unsafe(
        `SELECT chat_id::text AS chat, to_char(date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS day,
         messages_count::int AS n FROM chat_stats ORDER BY 1, 2`,
      )) as Row[];
      expect(stats.map((r) => ({ ...r }))).toEqual([
        { chat: String(CHAT), day: "2025-11-27 00:00", n: 2 },
        { chat: String(CHAT), day: "2025-11-28 00:00", n: 5 },
        { chat: String(CHAT2), day: "2025-11-28 00:00", n: 4 },
      ]);
      const userStats = (await sql.unsafe(
        `SELECT user_id::int AS u, to_char(date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS day,
         messages_count::int AS n FROM chat_user_stats ORDER BY 1, 2`,
      )) as Row[];
      expect(userStats.map((r) => ({ ...r }))).toEqual([
        { u: 1, day: "2025-11-28 00:00", n: 3 },
        { u: 2, day: "2025-11-28 00:00", n: 2 },
      ]);
      // the same tables and columns, in the same order, as gromozeka's v18 SQLite file
      const pgColumns = (await sql.unsafe(
        `SELECT table_name AS t, column_name AS c FROM information_schema.columns
         WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
      )) as { t: string; c: string }[];
      const fixture = new Database(join(FIXTURES, "v18.sqlite3"), { readonly: true });
      try {
        const want = Object.entries(schemaOf(fixture).tables).map(
          ([t, cols]) => `${t}: ${(cols as Row[]).map((c) => c.name).join(", ")}`,
        );
        const got = new Map<string, string[]>();
        for (const { t, c } of pgColumns) got.set(t, [...(got.get(t) ?? []), c]);
        expect([...got].map(([t, cols]) => `${t}: ${cols.join(", ")}`)).toEqual(want);
      } finally {
        fixture.close();
      }
      const [count] = await sql.unsafe("SELECT COUNT(*)::int AS n FROM chat_messages");
      expect(count.n).toBe(MESSAGES);
      const [version] = await sql.unsafe(
        "SELECT value FROM settings WHERE key = 'db-migration-version'",
      );
      expect(version.value).toBe("18");
      const defaults = (await sql.unsafe(
        `SELECT table_name || '.' || column_name AS c FROM information_schema.columns
         WHERE table_schema = current_schema() AND column_default LIKE '%CURRENT_TIMESTAMP%'`,
      )) as Row[];
      expect(defaults).toEqual([]);
    } finally {
      await sql.close();
    }
  });
});

const gromozeka = findGromozeka();
if (typeof gromozeka === "string")
  console.warn(`chatdb: SKIPPING the gromozeka-reads-migrated-file test: ${gromozeka}`);

describe.skipIf(typeof gromozeka === "string")("gromozeka's own code on the migrated file", () => {
  test("reads users, messages and every cache entry without error", () => {
    const { python, src } = gromozeka as { python: string; src: string };
    const path = chatdbV6File("chatdb-v6-for-gromozeka.sqlite3");
    const db = new Database(path);
    try {
      expect(migrateSqlite(db, "g", ALL).to).toBe(18);
    } finally {
      db.close();
    }
    const plan = [
      ...[CHAT, CHAT2].flatMap((chatId) => [
        { method: "chatUsers.getChatUsers", args: { chatId } },
        { method: "chatMessages.getChatMessagesSince", args: { chatId } },
      ]),
      ...USERS.map(([chatId, userId]) => ({
        method: "chatUsers.getChatUser",
        args: { chatId, userId },
      })),
      ...CACHE.map(([cacheType, key]) => ({
        method: "cache.getCacheEntry",
        args: { key, cacheType },
      })),
      { method: "cache.getCacheStorage", args: {} },
    ];
    const planPath = join(dir, "plan.json");
    writeFileSync(planPath, JSON.stringify(plan));
    const run = Bun.spawnSync(
      [
        python,
        join(import.meta.dir, "..", "..", "scripts", "fixtures", "gromozeka-read.py"),
        path,
        "--plan",
        planPath,
      ],
      { env: { ...process.env, GROMOZEKA_SRC: src } },
    );
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
    const out = JSON.parse(run.stdout.toString()) as {
      version: number;
      calls: { method: string; args: Row; answer: unknown; errors: string[]; raised?: string }[];
    };
    expect(out.version).toBe(18);
    expect(out.calls.filter((c) => c.errors.length > 0 || c.raised)).toEqual([]);
    const answer = (method: string, args: Row) =>
      out.calls.find((c) => c.method === method && JSON.stringify(c.args) === JSON.stringify(args))
        ?.answer;

    expect((answer("chatUsers.getChatUsers", { chatId: CHAT }) as Row[]).length).toBe(
      USERS.filter((u) => u[0] === CHAT).length,
    );
    expect((answer("chatUsers.getChatUsers", { chatId: CHAT2 }) as Row[]).length).toBe(
      USERS.filter((u) => u[0] === CHAT2).length,
    );
    for (const [chatId, userId] of USERS) {
      const user = answer("chatUsers.getChatUser", { chatId, userId }) as Row;
      expect(parsed(user.metadata as string)).toEqual(USERS_AFTER[`${chatId}/${userId}`]);
    }
    const messages = [CHAT, CHAT2].flatMap(
      (chatId) => answer("chatMessages.getChatMessagesSince", { chatId }) as Row[],
    );
    expect(messages.map((m) => m.message_text).sort()).toEqual(
      Array.from({ length: MESSAGES }, (_, i) => `m${i + 1}`).sort(),
    );
    for (const [cacheType, key, data] of CACHE)
      expect(answer("cache.getCacheEntry", { key, cacheType })).toMatchObject({ key, data });
    expect(answer("cache.getCacheStorage", {})).toMatchObject([
      { namespace: "session", key: "k", value: '{"a":1}' },
    ]);
  });
});
