/**
 * Cost as a chat grows: each read a bot makes per message, on one chat holding 1k, 10k, 100k
 * and 1M messages (the file's other chats small), through chatdb on SQLite and on PostgreSQL.
 * The sizes are interleaved round by round; ratio = that size ÷ the smallest, per round,
 * median. Goal: ≤ 1.5× at the largest size.
 *
 * SQLite: one file per size (the table grows with the chat), one wrapper each. PostgreSQL: one
 * schema holding one big chat per size, read through one wrapper on one connection — a point
 * read there is a ≈ 25 µs round trip, and separate connections alone differ by up to 2× (the
 * control rows show both setups' A/A spread), which would swamp what the size does.
 *
 * Each database is filled the way a real one grows under chatdb: chatdb creates the schema and
 * its indexes, the small chats are written through its API, the big chat is bulk-inserted by
 * one INSERT … SELECT (a recursive CTE on SQLite, generate_series on PostgreSQL) with chatdb's
 * indexes dropped, and the next open rebuilds them — the time of that open is the last column.
 * PostgreSQL gets an ANALYZE after the load (autovacuum would run one on a live table); SQLite
 * none (chatdb runs none either).
 */

import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { redactUrl } from "../../../src/_internal/redact.ts";
import { parseConfig } from "../../../src/config/load.ts";
import { DatabaseWrapper } from "../../../src/index.ts";
import { benchDir, chatIdOf, keyCycle, userIdOf } from "../dataset.ts";
import { compare, fmtNs, fmtRatio, type TimingOptions } from "../harness.ts";
import type { Section } from "../report.ts";
import { PG_URL, probe } from "./postgres.ts";

export const GROWTH_SIZES = [1_000, 10_000, 100_000, 1_000_000] as const;
export const GROWTH_QUICK = [1_000, 10_000] as const;
export const GROWTH_TARGET = 1.5;

const TITLE = "Growth: each per-message read on a chat of 1k … 1M messages";
/** The growing chat (on PostgreSQL, size k's chat is BIG + k); the small ones are chatIdOf(1…SMALL_CHATS). */
export const BIG = chatIdOf(0);
const bigChat = (engine: Engine, k: number) => (engine === "sqlite" ? BIG : BIG + k);
const SMALL_CHATS = 20;
const SMALL_MESSAGES = 50;
const MEMBERS = 50;
/** Members 0…4 write 60 % of the big chat, so each has ≥ 100 messages from 1k on. */
const REGULARS = 5;
const USERS = 200;
const T0 = Date.UTC(2024, 0, 1) / 1000;
const STEP_S = 30;
/** since/till sit within the newest WINDOW + 200 messages (needs sizes ≥ 1,000). */
const WINDOW = 800;

type Engine = "sqlite" | "postgres";

/** The big chat's m-th message (0-based), as SQL over `x` — one formula for both engines. */
const bigRows = (x: string) => ({
  id: `CAST(${x} + 1 AS TEXT)`,
  user: `CASE WHEN ${x} % 50 < 30 THEN ${userIdOf(0)} + ${x} % ${REGULARS}
    ELSE ${userIdOf(REGULARS)} + (${x} * 7) % ${MEMBERS - REGULARS} END`,
  reply: `CASE WHEN ${x} % 5 = 4 THEN CAST(${x} AS TEXT) END`,
  text: `'message ' || ${x} || ' lorem ipsum dolor sit amet consectetur adipiscing elit sed do'`,
});
const COLUMNS = `chat_id, message_id, date, user_id, reply_id, thread_id, root_message_id,
  message_text, message_type, message_category, created_at`;

function sqliteBulk(path: string, n: number, chat: number): void {
  const db = new Database(path, { readwrite: true });
  try {
    db.run("PRAGMA journal_mode = WAL");
    const r = bigRows("x");
    db.transaction(() => {
      for (const { name } of db
        .query("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'chatdb_%'")
        .all() as { name: string }[])
        db.run(`DROP INDEX ${name}`);
      db.run(
        `WITH RECURSIVE g(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM g WHERE x < ? - 1)
         INSERT INTO chat_messages (${COLUMNS})
         SELECT ${chat}, ${r.id}, strftime('%Y-%m-%d %H:%M:%S', ${T0} + x * ${STEP_S}, 'unixepoch'),
           ${r.user}, ${r.reply}, 0, ${r.reply}, ${r.text}, 'text', 'user', '2024-01-01 00:00:00'
         FROM g`,
        [n],
      );
    })();
    db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

async function pgBulk(sql: SQL, n: number, chat: number): Promise<void> {
  const r = bigRows("g");
  const idx = (await sql.unsafe(
    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'chatdb\\_%'",
  )) as { indexname: string }[];
  for (const { indexname } of idx) await sql.unsafe(`DROP INDEX ${indexname}`);
  await sql.unsafe(
    `INSERT INTO chat_messages (${COLUMNS})
     SELECT ${chat}, ${r.id}, to_timestamp(${T0} + g * ${STEP_S}), ${r.user}, ${r.reply}, 0, ${r.reply},
       ${r.text}, 'text', 'user', timestamptz '2024-01-01 00:00:00+00'
     FROM generate_series(0, ${n - 1}) g`,
  );
  await sql.unsafe("ANALYZE");
}

/** The small chats and every chat's members, info and settings, through chatdb's API. */
async function smallData(db: DatabaseWrapper, bigChats: readonly number[]): Promise<void> {
  const all = [...bigChats, ...Array.from({ length: SMALL_CHATS }, (_, k) => chatIdOf(k + 1))];
  for (const chat of all) {
    const k = bigChats.includes(chat) ? 0 : chatIdOf(0) - chat;
    await db.updateChatInfo(chat, { type: k ? "group" : "supergroup", title: `Chat ${k}` });
    for (let s = 0; s < 10; s++) await db.setChatSetting(chat, `key${s}`, `value ${s}`);
    const members = k
      ? Array.from({ length: 20 }, (_, j) => userIdOf((k * 7 + j * 3) % USERS))
      : Array.from({ length: MEMBERS }, (_, j) => userIdOf(j));
    for (const u of new Set(members)) await db.updateChatUser(chat, u, `user${u}`, `User ${u}`);
    if (k)
      for (let m = 0; m < SMALL_MESSAGES; m++)
        await db.saveChatMessage({
          chatId: chat,
          userId: members[m % members.length] as number,
          messageId: m + 1,
          date: new Date((T0 + m * 600) * 1000),
          messageText: `small chat message ${m}`,
        });
  }
}

const sourceToml = (engine: Engine, where: string) =>
  engine === "postgres"
    ? `[database.sources.primary]\ntype = "postgres"\nurl = ${JSON.stringify(where)}\nmax_connections = 1\n`
    : `[database.sources.primary]\npath = ${JSON.stringify(where)}\n`;
const open = (engine: Engine, where: string) =>
  new DatabaseWrapper({ config: parseConfig(sourceToml(engine, where)) });

/** A fresh database: chatdb's schema and indexes, the small chats and the big chats' members. */
async function prepare(engine: Engine, where: string, bigChats: readonly number[]): Promise<void> {
  const db = open(engine, where);
  await smallData(db, bigChats);
  await db.close();
}

/**
 * Adds a big chat of `n` messages with chatdb's indexes dropped, then opens chatdb, which
 * rebuilds them; returns it and that open's ms.
 */
export async function grow(
  engine: Engine,
  where: string,
  n: number,
  chat: number,
): Promise<{ db: DatabaseWrapper; reopenMs: number }> {
  if (engine === "sqlite") sqliteBulk(where, n, chat);
  else {
    const sql = new SQL({ url: where, max: 1 });
    try {
      await pgBulk(sql, n, chat);
    } finally {
      await sql.close();
    }
  }
  const t0 = performance.now();
  const db = open(engine, where);
  await db.getChatInfo(chat); // the open (and the index rebuild) finishes before the first answer
  const reopenMs = performance.now() - t0;
  if (engine === "postgres") {
    const sql = new SQL({ url: where, max: 1 });
    await sql.unsafe("ANALYZE chat_messages"); // statistics of the rebuilt expression indexes
    await sql.close();
  }
  return { db, reopenMs };
}

/** One database per size (SQLite) or one for all (PostgreSQL); chatdb on it per size. */
export async function build(
  engine: Engine,
  sizes: readonly number[],
  whereOf: (n: number) => string,
): Promise<{ dbs: DatabaseWrapper[]; reopenMs: number[]; control: DatabaseWrapper[] }> {
  const dbs: DatabaseWrapper[] = [];
  const reopenMs: number[] = [];
  if (engine === "postgres") {
    const where = whereOf(sizes[0] as number);
    await prepare(
      engine,
      where,
      sizes.map((_, k) => bigChat(engine, k)),
    );
    for (const [k, n] of sizes.entries()) {
      const built = await grow(engine, where, n, bigChat(engine, k));
      await dbs.pop()?.close();
      dbs.push(built.db);
      reopenMs.push(built.reopenMs);
    }
    const db = dbs[0] as DatabaseWrapper;
    return { dbs: sizes.map(() => db), reopenMs, control: sizes.map(() => db) };
  }
  for (const n of sizes) {
    await prepare(engine, whereOf(n), [BIG]);
    const built = await grow(engine, whereOf(n), n, BIG);
    dbs.push(built.db);
    reopenMs.push(built.reopenMs);
  }
  const first = whereOf(sizes[0] as number);
  return {
    dbs,
    reopenMs,
    control: [dbs[0] as DatabaseWrapper, ...sizes.slice(1).map(() => open(engine, first))],
  };
}

/** The big chat's message m (0-based) was sent at this time. */
export const sentAt = (m: number) => new Date((T0 + m * STEP_S) * 1000);

interface Op {
  name: string;
  /** `chat` holds `n` messages. */
  run: (db: DatabaseWrapper, chat: number, n: number, i: number) => Promise<unknown>;
}

function ops(): Op[] {
  const back = keyCycle(
    Array.from({ length: WINDOW }, (_, j) => j),
    11,
  );
  const regular = keyCycle(
    Array.from({ length: REGULARS }, (_, j) => userIdOf(j)),
    12,
  );
  const member = keyCycle(
    Array.from({ length: MEMBERS }, (_, j) => userIdOf(j)),
    13,
  );
  return [
    {
      name: "getChatMessagesSince newest 100",
      run: (db, chat) => db.getChatMessagesSince(chat, { limit: 100 }),
    },
    {
      name: "getChatMessagesSince since (100 of ≥ 200 newer)",
      run: (db, chat, n, i) =>
        db.getChatMessagesSince(chat, { since: sentAt(n - 200 - back(i)), limit: 100 }),
    },
    {
      name: "getChatMessagesSince till (100 older)",
      run: (db, chat, n, i) =>
        db.getChatMessagesSince(chat, { till: sentAt(n - 100 - back(i)), limit: 100 }),
    },
    {
      name: "getChatMessagesByUser limit 100",
      run: (db, chat, _n, i) => db.getChatMessagesByUser(chat, regular(i), { limit: 100 }),
    },
    { name: "getChatUser", run: (db, chat, _n, i) => db.getChatUser(chat, member(i)) },
    { name: "getChatInfo", run: (db, chat) => db.getChatInfo(chat) },
    { name: "getChatSettings", run: (db, chat) => db.getChatSettings(chat) },
    { name: "getUserChats", run: (db, _chat, _n, i) => db.getUserChats(regular(i)) },
  ];
}

const short = (n: number) =>
  n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n);

export async function growthSuite(
  t: TimingOptions,
  sizes: readonly number[] = GROWTH_SIZES,
  url = PG_URL,
): Promise<Section> {
  if (sizes.some((n) => n < WINDOW + 200))
    throw new Error(`growth sizes must be ≥ ${WINDOW + 200}`);
  using dir = benchDir();
  const why = await probe(url);
  const engines: Engine[] = why === "" ? ["sqlite", "postgres"] : ["sqlite"];
  const admin = why === "" ? new SQL({ url, max: 1 }) : undefined;
  let schema = "";
  const dbs = new Map<Engine, DatabaseWrapper[]>();
  const reopen = new Map<Engine, number[]>();
  /** Per engine: the smallest chat read the way each size is (an A/A run: the noise floor). */
  const controls = new Map<Engine, DatabaseWrapper[]>();
  try {
    for (const engine of engines) {
      let whereOf = (n: number) => dir.file(`growth-${n}.db`);
      if (engine === "postgres") {
        schema = `chatdb_growth_${process.pid}_${Date.now().toString(36)}`;
        await admin?.unsafe(`CREATE SCHEMA ${schema}`);
        const pgUrl = `${url}${url.includes("?") ? "&" : "?"}search_path=${schema}`;
        whereOf = () => pgUrl;
      }
      const built = await build(engine, sizes, whereOf);
      dbs.set(engine, built.dbs);
      reopen.set(engine, built.reopenMs);
      controls.set(engine, built.control);
    }
    const rows: string[][] = [];
    const data: unknown[] = [];
    const missed: string[] = [];
    const last = sizes.length - 1;
    for (const op of ops()) {
      for (const engine of engines) {
        const list = dbs.get(engine) as DatabaseWrapper[];
        const c = await compare(
          sizes.map((n, k) => ({
            name: String(n),
            async: true,
            run: (i: number) => op.run(list[k] as DatabaseWrapper, bigChat(engine, k), n, i),
          })),
          t,
        );
        const ratios = sizes.slice(1).map((n) => c.ratios[String(n)] as number);
        const top = ratios[ratios.length - 1] ?? 1;
        const ok = top <= GROWTH_TARGET;
        if (!ok) missed.push(`${op.name} (${engine}, ${fmtRatio(top)})`);
        rows.push([
          op.name,
          engine === "sqlite" ? "SQLite" : "PostgreSQL",
          ...c.variants.map((v) => fmtNs(v.nsPerOp)),
          ...ratios.map(fmtRatio),
          `≤ ${GROWTH_TARGET}× ${ok ? "met" : "MISSED"}`,
        ]);
        data.push({ op: op.name, engine, ...c });
      }
    }
    const control = ops().find((o) => o.name === "getChatUser") as Op;
    for (const engine of engines) {
      const list = controls.get(engine) as DatabaseWrapper[];
      const c = await compare(
        list.map((db, k) => ({
          name: String(k),
          async: true,
          run: (i: number) => control.run(db, bigChat(engine, 0), sizes[0] as number, i),
        })),
        t,
      );
      rows.push([
        `control: getChatUser, every column the ${short(sizes[0] as number)} chat`,
        engine === "sqlite" ? "SQLite" : "PostgreSQL",
        ...c.variants.map((v) => fmtNs(v.nsPerOp)),
        ...list.slice(1).map((_, k) => fmtRatio(c.ratios[String(k + 1)] as number)),
        "(noise floor)",
      ]);
      data.push({ op: "control", engine, ...c });
    }
    for (const engine of engines)
      rows.push([
        "open that rebuilds chatdb's indexes (ms)",
        engine === "sqlite" ? "SQLite" : "PostgreSQL",
        ...(reopen.get(engine) as number[]).map((ms) => ms.toFixed(0)),
        ...sizes.slice(1).map(() => "—"),
        "(report)",
      ]);
    return {
      title: TITLE,
      note:
        `A chat of N messages (${REGULARS} regulars write 60 %) next to ${SMALL_CHATS} chats of ` +
        `${SMALL_MESSAGES}, ${USERS} users; every read returns 100 rows or one record. SQLite: one file per ` +
        `size, one wrapper each; PostgreSQL: every size's chat in one schema, one wrapper on one connection ` +
        `(see the control rows). Per call through chatdb, awaited; ratio = N ÷ ${short(sizes[0] as number)}, ` +
        `per round, median. ` +
        (why === ""
          ? `PostgreSQL ${redactUrl(url)}.`
          : `PostgreSQL skipped: no PostgreSQL at ${redactUrl(url)} (${why}); set CHATDB_PG_URL.`),
      head: [
        "read",
        "engine",
        ...sizes.map(short),
        ...sizes.slice(1).map((n) => `${short(n)} ÷ ${short(sizes[0] as number)}`),
        `target at ${short(sizes[last] as number)}`,
      ],
      textColumns: 2,
      rows,
      footer: [
        ...(missed.length ? [`Growth target missed: ${missed.join("; ")}`] : []),
        ...(engines.includes("postgres")
          ? [
              "PostgreSQL's open after adding size N's chat rebuilds the indexes over every chat added so far.",
            ]
          : []),
      ],
      data: { sizes, cases: data, reopenMs: Object.fromEntries(reopen), skipped: why || undefined },
    };
  } finally {
    const all = new Set([...dbs.values(), ...controls.values()].flat());
    await Promise.all([...all].map((db) => db.close()));
    if (schema) await admin?.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.close();
  }
}
