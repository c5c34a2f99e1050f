/**
 * Query plans: every statement chatdb runs on its own files finds its rows through an index,
 * so its cost does not grow with the table. Checked with the engines' own planners on tables
 * large enough that a scan would show (100k messages, 20k of everything else): SQLite's
 * `EXPLAIN QUERY PLAN` for every statement of every repository, PostgreSQL's `EXPLAIN` (after
 * ANALYZE) for the reads a bot makes per message.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import * as cache from "../src/repositories/cache.ts";
import { chats, userIds } from "../src/repositories/chats.ts";
import { divinations } from "../src/repositories/divinations.ts";
import { media } from "../src/repositories/media.ts";
import { messages } from "../src/repositories/messages.ts";
import { chatSettings, settings, userData } from "../src/repositories/settings.ts";
import { ham, spam } from "../src/repositories/spam.ts";
import { stats } from "../src/repositories/stats.ts";
import { summaries } from "../src/repositories/summaries.ts";
import { tasks } from "../src/repositories/tasks.ts";
import { users } from "../src/repositories/users.ts";
import { migrateSqlite, tableColumns } from "../src/schema/migrate.ts";
import { tableColumnsPg } from "../src/schema/migrate-pg.ts";
import { LATEST_VERSION } from "../src/schema/migrations.ts";
import { PostgresSource } from "../src/sources/postgres-source.ts";
import {
  bind,
  type Params,
  type Query,
  type SchemaInfo,
  schemaInfo,
} from "../src/sources/query.ts";
import { closePgAdmin, pgSchema, pgSourceConfig, runPg } from "./pg.ts";

const A = -1001000000001;
const B = -1001000000002;
const MESSAGES = 100_000;
const ROWS = 20_000;

/** Statements that return a whole table by design (global settings, every session entry). */
const WHOLE_TABLE = new Set(["settings.all", "cacheStorage.all"]);
/** Reads returning the newest N: a sort of every row found would be a sort of the whole chat. */
const TOP_N = /^(messages\.(since|byUser)|users\.list)/;

/** Fills the big tables; `ts(expr)` turns seconds into the engine's timestamp. */
function fillSql(ts: (seconds: string) => string): string[] {
  const n = (count: number) =>
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})`;
  const spamRows = (table: string) =>
    `${n(ROWS)} INSERT INTO ${table} (chat_id, user_id, message_id, text, reason, score, created_at, updated_at)
     SELECT ${A} - i % 100, i % 500, CAST(i AS TEXT), 'text ' || i, 'r', 0.5, ${ts("i")}, ${ts("i")} FROM n`;
  return [
    `${n(MESSAGES)} INSERT INTO chat_messages (chat_id, message_id, date, user_id, thread_id,
       root_message_id, message_text, message_type, message_category, created_at)
     SELECT CASE WHEN i % 10 = 0 THEN ${B} ELSE ${A} END, CAST(i AS TEXT), ${ts("i * 7")}, 100 + i % 50,
       i % 3, CAST(i % 100 AS TEXT), 'message ' || i, 'text', 'user', ${ts("i * 7")} FROM n`,
    // every 4th message in an album of 4 (a bot's photo posts)
    `UPDATE chat_messages SET media_group_id = 'g' || (CAST(message_id AS INTEGER) / 4)
     WHERE CAST(message_id AS INTEGER) % 4 = 0`,
    `${n(ROWS)} INSERT INTO media_attachments (file_unique_id, file_id, media_type, metadata, status, created_at, updated_at)
     SELECT 'f' || i, 'id' || i, 'image', '{}', 'new', ${ts("i")}, ${ts("i")} FROM n`,
    `${n(ROWS)} INSERT INTO media_groups (media_group_id, media_id, created_at)
     SELECT 'g' || (i / 4), 'f' || i, ${ts("i")} FROM n`,
    `${n(ROWS / 2)} INSERT INTO chat_users (chat_id, user_id, username, full_name, created_at, updated_at)
     SELECT ${A}, i, 'u' || i, 'User ' || i, ${ts("i")}, ${ts("i")} FROM n`,
    `${n(ROWS / 2)} INSERT INTO chat_users (chat_id, user_id, username, full_name, created_at, updated_at)
     SELECT -i, CASE WHEN i % 500 = 0 THEN 7 ELSE 100000 + i END, 'u', 'User', ${ts("i")}, ${ts("i")} FROM n`,
    `${n(ROWS)} INSERT INTO chat_info (chat_id, title, type, created_at, updated_at)
     SELECT -i, 'chat ' || i, CASE WHEN i % 1000 = 0 THEN 'group' ELSE 'private' END, ${ts("i")}, ${ts("i")} FROM n`,
    spamRows("spam_messages"),
    spamRows("ham_messages"),
    `${n(ROWS)} INSERT INTO delayed_tasks (id, delayed_ts, function, kwargs, is_done, created_at, updated_at)
     SELECT 't' || i, i, 'f', '{}', i % 1000 <> 0, ${ts("i")}, ${ts("i")} FROM n`,
    `${n(ROWS)} INSERT INTO cache_storage (namespace, key, value, updated_at)
     SELECT 'ns' || (i % 10), 'k' || i, 'v', ${ts("i")} FROM n`,
    `${n(ROWS)} INSERT INTO chat_settings (chat_id, key, value, created_at, updated_at)
     SELECT -(i % 2000), 'k' || i, 'v', ${ts("i")}, ${ts("i")} FROM n`,
    // gromozeka 012's one table for every cache type: big, and shared by all of them
    `${n(ROWS)} INSERT INTO cache (namespace, key, data, created_at, updated_at)
     SELECT CASE i % 3 WHEN 0 THEN 'weather' WHEN 1 THEN 'geocoding' ELSE 'url_content' END,
       'k' || i, 'd', ${ts("i")}, ${ts("i")} FROM n`,
    // a bot's LLM stats: events piling up (most processed), their sums
    `${n(ROWS)} INSERT INTO stat_events (event_id, event_type, event_time, data, labels, processed,
       processed_id, claimed_at, created_at)
     SELECT 'e' || i, CASE WHEN i % 2 = 0 THEN 'llm_request' ELSE 'other' END, ${ts("i")},
       '{"tokens":1}', '{"consumer":"c"}', CASE WHEN i % 100 = 0 THEN 0 ELSE 1 END,
       CASE WHEN i % 100 = 0 THEN NULL ELSE 'b' || (i / 100) END, NULL, ${ts("i")} FROM n`,
    `${n(ROWS)} INSERT INTO stat_aggregates (event_type, period_start, period_type, labels_hash,
       labels, metric_key, metric_value, updated_at)
     SELECT CASE WHEN i % 2 = 0 THEN 'llm_request' ELSE 'other' END, 'p' || i, 'hourly', 'h',
       '{}', 'tokens', 1, ${ts("i")} FROM n`,
  ];
}

type Statement = Exclude<Query, { kind: "batch" | "variant" }>;

/**
 * Every statement of every repository, by name (a batch's steps as `batch/n`), each
 * schema-dependent read as picked for `schema` (chatdb's own file: the latest).
 */
function everyStatement(schema: SchemaInfo): Map<string, Statement> {
  const out = new Map<string, Statement>();
  const add = (q: Query) => {
    if (q.kind === "variant") add(q.pick(schema));
    else if (q.kind !== "batch") out.set(q.name ?? q.sql, q);
    else for (const [i, s] of q.steps.entries()) out.set(`${q.name}/${i}`, s);
  };
  const repositories = [
    cache.cacheStorage,
    ...cache.typedCaches.values(),
    cache.oldCacheEntries,
    chats,
    userIds,
    divinations,
    media,
    messages,
    settings,
    chatSettings,
    userData,
    spam,
    ham,
    summaries,
    stats,
    tasks,
    users,
  ];
  for (const repo of repositories) {
    for (const q of Object.values(repo)) {
      if (q !== null && typeof q === "object" && "kind" in q) add(q as Query);
    }
  }
  for (let k = 0; k < 8; k++) add(messages.since(!!(k & 1), !!(k & 2), !!(k & 4)));
  add(users.list(false));
  add(users.list(true));
  return out;
}

const BIG = [
  "chat_messages",
  "chat_users",
  "chat_info",
  "spam_messages",
  "ham_messages",
  "delayed_tasks",
  "cache_storage",
  "chat_settings",
  "cache",
  "media_attachments",
  "media_groups",
  "stat_events",
  "stat_aggregates",
];

describe("plans (SQLite)", () => {
  const db = new Database(":memory:");
  migrateSqlite(db, "plans");
  db.transaction(() => {
    for (const s of fillSql((sec) => `datetime(1700000000 + ${sec}, 'unixepoch')`)) db.run(s);
  })();
  const statements = everyStatement(schemaInfo(LATEST_VERSION, tableColumns(db)));

  test("the fixture is large and every repository statement is checked", () => {
    const count = (t: string) =>
      (db.query(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    expect(count("chat_messages")).toBe(MESSAGES);
    for (const t of BIG.slice(1)) expect(count(t)).toBeGreaterThanOrEqual(ROWS);
    expect(statements.size).toBeGreaterThan(50);
  });

  for (const [name, query] of statements) {
    test(`${name}: no scan of a large table`, () => {
      // without sqlite_stat tables the plan does not depend on the values bound
      const values = query.names.map(() => 1);
      const plan = db.query(`EXPLAIN QUERY PLAN ${query.sql}`).all(...values) as {
        detail: string;
      }[];
      const lines = plan.map((p) => p.detail);
      const limited = /\bLIMIT\b/i.test(query.sql);
      const scans = lines.filter((d) => {
        const m = /^SCAN (\w+)(?: AS \w+)?( USING (?:COVERING )?INDEX)?/.exec(d);
        if (!m || !BIG.includes(m[1] as string) || WHOLE_TABLE.has(name)) return false;
        // an index walked in the query's order, stopped by LIMIT, reads only the rows returned
        return !(m[2] && limited && !lines.some((l) => l.includes("TEMP B-TREE")));
      });
      expect({ name, scans }).toEqual({ name, scans: [] });
      if (TOP_N.test(name)) {
        expect({ name, sort: lines.filter((l) => l.includes("TEMP B-TREE")) }).toEqual({
          name,
          sort: [],
        });
      }
    });
  }
});

/** The per-message reads, with values of the right types for PostgreSQL. */
const TS = "2023-11-15 00:00:00";
const PG_READS: [string, Query, Params][] = [
  ["messages.byId", messages.byId, { chatId: A, messageId: "5" }],
  ["messages.byUser", messages.byUser, { chatId: A, userId: 101, limit: 100 }],
  ["messages.byRoot", messages.byRoot, { chatId: A, rootMessageId: "7", threadId: null }],
  [
    "messages.byMediaGroup",
    messages.byMediaGroup,
    { chatId: A, mediaGroupId: "g3", threadId: null },
  ],
  [
    "messages.search",
    messages.search,
    { chatId: A, userId: null, rootMessageId: null, categories: null, cutoff: null, limit: 10 },
  ],
  ["media.byGroup", media.byGroup, { mediaGroupId: "g3" }],
  ["media.groupUpdatedAt", media.groupUpdatedAt, { mediaGroupId: "g3" }],
  ...Array.from({ length: 8 }, (_, k): [string, Query, Params] => {
    const q = messages.since(!!(k & 1), !!(k & 2), !!(k & 4));
    const params = {
      chatId: A,
      since: k & 1 ? TS : null,
      till: k & 2 ? "2023-12-01 00:00:00" : null,
      threadId: k & 4 ? 1 : null,
      categories: null,
      limit: 100,
    };
    return [q.name ?? "", q, params];
  }),
  ["users.get", users.get, { chatId: A, userId: 5 }],
  ["users.byUsername", users.byUsername, { chatId: A, username: "u5" }],
  ["users.list", users.list(false), { chatId: A, seenSince: null, limit: 100 }],
  ["users.list[seenSince]", users.list(true), { chatId: A, seenSince: TS, limit: 100 }],
  ["users.chatsOf", users.chatsOf, { userId: 7 }],
  ["chats.info", chats.info, { chatId: A }],
  ["chats.groups", chats.groups, {}],
  ["chatSettings.all", chatSettings.all, { chatId: -5 }],
  ["cacheStorage.get", cache.cacheStorage.get, { namespace: "ns1", key: "k11" }],
  [
    "cache.weather.get",
    cache.typedCaches.get("weather")?.get as Query,
    { key: "k3", notBefore: TS },
  ],
  ["spam.byText", spam.byText, { text: "text 5" }],
  ["spam.byUser", spam.byUser, { chatId: A, userId: 5 }],
  ["spam.recent", spam.recent, { limit: 100 }],
  ["tasks.pending", tasks.pending, {}],
];

type PlanNode = { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] };
const nodes = (p: PlanNode): PlanNode[] => [p, ...(p.Plans ?? []).flatMap(nodes)];

describe.skipIf(!runPg)("plans (PostgreSQL)", () => {
  afterAll(closePgAdmin);

  test("the per-message reads use an index: no sequential scan of a large table, no sort of a whole chat", async () => {
    await using schema = await pgSchema();
    const source = new PostgresSource(pgSourceConfig("plans", schema.url));
    await source._ready();
    await source.close();
    const sql = new SQL({ url: schema.url, max: 1 });
    try {
      for (const s of fillSql(
        (sec) => `timestamptz '2023-11-14 22:13:20+00' + ${sec} * interval '1 second'`,
      ))
        await sql.unsafe(s);
      await sql.unsafe("ANALYZE");
      const schema = schemaInfo(LATEST_VERSION, await tableColumnsPg(sql));
      const problems: string[] = [];
      for (const [name, query, params] of PG_READS) {
        if (query.kind === "batch") continue;
        const statement = query.kind === "variant" ? query.pick(schema) : query;
        // PostgreSQL's own parameter list (a time bound binds fewer there: see timeCompare)
        const values = bind(statement, params, statement.pgNames);
        const [row] = (await sql.unsafe(`EXPLAIN (FORMAT JSON) ${statement.pg}`, values)) as {
          "QUERY PLAN": [{ Plan: PlanNode }];
        }[];
        const all = nodes((row as { "QUERY PLAN": [{ Plan: PlanNode }] })["QUERY PLAN"][0].Plan);
        for (const node of all) {
          if (node["Node Type"] === "Seq Scan" && BIG.includes(node["Relation Name"] ?? ""))
            problems.push(`${name}: Seq Scan on ${node["Relation Name"]}`);
          if (TOP_N.test(name) && node["Node Type"] === "Sort") problems.push(`${name}: Sort`);
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await sql.close();
    }
  }, 60_000);
});
