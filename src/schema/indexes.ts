/**
 * chatdb's own indexes: one per query shape its repositories run, so a bot's per-message reads
 * cost the same on a 1M-message chat as on a 1k one. They are not part of gromozeka's schema
 * and not numbered with it: their own settings key (`chatdb-index-version`), every statement
 * `CREATE INDEX IF NOT EXISTS`, names prefixed `chatdb_`. gromozeka's code never names them, so a
 * file carrying them is read and written by gromozeka as before (SQLite and PostgreSQL keep
 * every index up to date on every write, whoever writes).
 *
 * They are applied to every writable source at open, at any schema version: whatever indexes of
 * the list are missing (a table rebuilt by someone else drops its indexes) are built, one
 * transaction each, so the write lock is released between them. Readonly sources are never
 * indexed; {@link unindexedCalls} says which calls will scan there, and on how big a table.
 */
import type { Database } from "bun:sqlite";
import type { SQL } from "bun";
import { nowDb } from "../_internal/values.ts";

/** The settings key recording the index set applied (never gromozeka's `db-migration-version`). */
export const INDEX_VERSION_KEY = "chatdb-index-version";

export interface ChatdbIndex {
  readonly name: string;
  readonly table: string;
  /** Plain columns the index needs (an older or foreign schema lacking one skips it). */
  readonly columns: readonly string[];
  /** The indexed expressions, both engines. */
  readonly on: string;
  /**
   * On PostgreSQL, a hash index on this one text column instead: a btree entry is limited to
   * ≈ 2.7 kB and chatdb stores any text, so a btree over free text would refuse a long value's
   * write. Equality only; the rest of the query's order is a sort of the rows found.
   */
  readonly pgHash?: string;
  /** The wrapper methods (and `repository.query` names) this index keeps off a scan. */
  readonly serves: readonly string[];
  /** The version of the index set that added it. */
  readonly version: number;
}

/** Every message read's order: newest first, ties by numeric-looking id (see messages.ts). */
const ORDER = "date, length(message_id), message_id";
const MESSAGE = ["chat_id", "message_id", "date"];

export const INDEXES: readonly ChatdbIndex[] = [
  {
    name: "chatdb_messages_by_date",
    table: "chat_messages",
    columns: MESSAGE,
    on: `chat_id, ${ORDER}`,
    serves: ["getChatMessagesSince"],
    version: 1,
  },
  {
    name: "chatdb_messages_by_user",
    table: "chat_messages",
    columns: [...MESSAGE, "user_id"],
    on: `chat_id, user_id, ${ORDER}`,
    serves: ["getChatMessagesByUser"],
    version: 1,
  },
  {
    name: "chatdb_messages_by_thread",
    table: "chat_messages",
    columns: [...MESSAGE, "thread_id"],
    on: `chat_id, thread_id, ${ORDER}`,
    serves: ["getChatMessagesSince (threadId)"],
    version: 1,
  },
  {
    name: "chatdb_messages_by_root",
    table: "chat_messages",
    columns: [...MESSAGE, "root_message_id"],
    on: `chat_id, root_message_id, ${ORDER}`,
    pgHash: "root_message_id",
    serves: ["getChatMessagesByRootId"],
    version: 1,
  },
  {
    name: "chatdb_messages_by_media_group",
    table: "chat_messages",
    columns: [...MESSAGE, "media_group_id"],
    on: `chat_id, media_group_id, ${ORDER}`,
    pgHash: "media_group_id",
    serves: ["getFirstChatMessageByMediaGroupId"],
    version: 3,
  },
  {
    name: "chatdb_users_by_user",
    table: "chat_users",
    columns: ["user_id", "chat_id"],
    on: "user_id, chat_id",
    serves: ["getUserChats"],
    version: 1,
  },
  {
    // gromozeka's lookup is LOWER(username) = LOWER(?): the index is on the same expression
    name: "chatdb_users_by_lower_username",
    table: "chat_users",
    columns: ["chat_id", "username", "user_id"],
    on: "chat_id, lower(username), user_id",
    pgHash: "(lower(username))",
    serves: ["getChatUserByUsername"],
    version: 2,
  },
  {
    name: "chatdb_users_by_seen",
    table: "chat_users",
    columns: ["chat_id", "updated_at", "user_id"],
    on: "chat_id, updated_at DESC, user_id",
    serves: ["getChatUsers"],
    version: 1,
  },
  {
    name: "chatdb_chats_by_type",
    table: "chat_info",
    columns: ["type", "chat_id"],
    on: "type, chat_id",
    pgHash: "type",
    serves: ["getAllGroupChats"],
    version: 1,
  },
  ...(["spam", "ham"] as const).flatMap((kind): ChatdbIndex[] => [
    {
      name: `chatdb_${kind}_by_lower_text`,
      table: `${kind}_messages`,
      columns: ["text"],
      on: "lower(text)",
      pgHash: "(lower(text))",
      serves: [kind === "spam" ? "getSpamMessagesByText" : "getHamMessagesByText"],
      version: 2,
    },
    {
      name: `chatdb_${kind}_by_created`,
      table: `${kind}_messages`,
      columns: ["created_at", "chat_id", "user_id", "message_id"],
      on: "created_at DESC, chat_id, user_id, message_id",
      serves: [kind === "spam" ? "getSpamMessages" : "getHamMessages"],
      version: 1,
    },
  ]),
  {
    name: "chatdb_tasks_pending",
    table: "delayed_tasks",
    columns: ["is_done", "delayed_ts", "id"],
    on: "is_done, delayed_ts, id",
    serves: ["getPendingDelayedTasks"],
    version: 1,
  },
  {
    name: "chatdb_tasks_done_by_updated",
    table: "delayed_tasks",
    columns: ["is_done", "updated_at"],
    on: "is_done, updated_at",
    serves: ["cleanupOldCompletedDelayedTasks"],
    version: 3,
  },
  {
    // one index for both shapes: every type (a range of updated_at) and one type (the same
    // range, the namespace checked on the old rows only, which are the ones deleted anyway)
    name: "chatdb_cache_by_updated",
    table: "cache",
    columns: ["updated_at"],
    on: "updated_at",
    serves: ["clearOldCacheEntries"],
    version: 3,
  },
  {
    name: "chatdb_chats_by_lower_username",
    table: "chat_info",
    columns: ["username", "chat_id"],
    on: "lower(username), chat_id",
    pgHash: "(lower(username))",
    serves: ["getUserIdByUserName"],
    version: 3,
  },
  {
    name: "chatdb_chat_settings_by_key",
    table: "chat_settings",
    columns: ["key", "chat_id"],
    on: "key, chat_id",
    serves: ["listChatsBySetting"],
    version: 3,
  },
];

/** Indexes of earlier index sets that a later one replaced: dropped when their successors are built. */
const RETIRED = ["chatdb_users_by_username", "chatdb_spam_by_text", "chatdb_ham_by_text"];

export const INDEX_VERSION = Math.max(...INDEXES.map((i) => i.version));

/** The DDL of one index on one engine. */
export function indexDdl(index: ChatdbIndex, dialect: "sqlite" | "pg"): string {
  const hash = dialect === "pg" ? index.pgHash : undefined;
  const on = hash ? `USING hash (${hash})` : `(${index.on})`;
  return `CREATE INDEX IF NOT EXISTS ${index.name} ON ${index.table} ${on}`;
}

/** What building the indexes did at an open. */
export interface IndexReport {
  /** Indexes built now (empty when all were there). */
  created: string[];
  /** Indexes of the list the schema cannot have (a table or column missing). */
  skipped: string[];
  /** Milliseconds spent building. */
  ms: number;
  /** Why building stopped (the rest are built at the next open); "" when it did not. */
  failed: string;
}

// created_at too: from gromozeka's migration 013 on, settings.created_at has no default
const UPSERT = `INSERT INTO settings (key, value, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;

/** table → columns, for the tables the indexes are on. */
function sqliteColumns(db: Database): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const table of new Set(INDEXES.map((i) => i.table))) {
    const cols = db.query("SELECT name FROM pragma_table_info(?)").all(table) as { name: string }[];
    if (cols.length) out.set(table, new Set(cols.map((c) => c.name)));
  }
  return out;
}

const fits = (i: ChatdbIndex, live: ReadonlyMap<string, ReadonlySet<string>>) =>
  i.columns.every((c) => live.get(i.table)?.has(c));

/** The names of chatdb's indexes present in a SQLite file. */
export function sqliteIndexNames(db: Database): Set<string> {
  const rows = db
    .query(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'chatdb\\_%' ESCAPE '\\'",
    )
    .all() as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

/** The indexes of the list a SQLite file lacks and can have, and the most rows of their tables. */
export function missingIndexesSqlite(db: Database): { missing: ChatdbIndex[]; rows: number } {
  const have = sqliteIndexNames(db);
  if (INDEXES.every((i) => have.has(i.name))) return { missing: [], rows: 0 };
  const live = sqliteColumns(db);
  const missing = INDEXES.filter((i) => !have.has(i.name) && fits(i, live));
  const rows = Math.max(0, ...new Set(missing.map((i) => maxRowid(db, i.table))));
  return { missing, rows };
}

/**
 * Tables up to this many rows get their missing indexes at open, on the thread (a few ms);
 * larger ones are indexed by a worker thread (index-worker.ts) while the bot keeps answering.
 */
export const INLINE_INDEX_ROWS = 20_000;

/**
 * Builds whatever of {@link INDEXES} a writable SQLite file lacks; a no-op read of
 * sqlite_master when nothing is. Each index is one IMMEDIATE transaction: other writers wait
 * at most one index long, readers are never blocked (WAL). `next()` is asked before each
 * index: false stops the build (the rest are built at the next open).
 */
export function ensureIndexesSqlite(db: Database, next: () => boolean = () => true): IndexReport {
  const have = sqliteIndexNames(db);
  const missing = INDEXES.filter((i) => !have.has(i.name));
  const report: IndexReport = { created: [], skipped: [], ms: 0, failed: "" };
  if (missing.length === 0) return report;
  const started = performance.now();
  for (const name of RETIRED) if (have.has(name)) db.run(`DROP INDEX IF EXISTS ${name}`);
  const live = sqliteColumns(db);
  for (const index of missing) {
    if (!fits(index, live)) {
      report.skipped.push(index.name);
      continue;
    }
    if (!next()) {
      report.failed = "stopped (the source was closed)";
      break;
    }
    try {
      db.transaction(() => db.run(indexDdl(index, "sqlite"))).immediate();
    } catch (e) {
      // an index is an optimization: a file locked for longer than busy_timeout still opens
      report.failed = `${index.name}: ${(e as Error).message}`;
      break;
    }
    report.created.push(index.name);
  }
  if (report.created.length && !report.failed) {
    const stored = db.query("SELECT value FROM settings WHERE key = ?").get(INDEX_VERSION_KEY) as {
      value: string;
    } | null;
    // a newer chatdb's higher version stays: its extra indexes are its own
    if (Number(stored?.value ?? 0) < INDEX_VERSION) {
      db.run(UPSERT, [INDEX_VERSION_KEY, String(INDEX_VERSION), nowDb()]);
    }
  }
  report.ms = performance.now() - started;
  return report;
}

/** Serializes index builds of one schema across processes, like the migrations' lock. */
const PG_LOCK = "SELECT pg_advisory_xact_lock(hashtext('chatdb-migrate:' || current_schema()))";

/** PostgreSQL: the same, after `migratePg` (so every table and column exists). */
export async function ensureIndexesPg(sql: SQL): Promise<IndexReport> {
  const rows = (await sql.unsafe(
    "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'chatdb\\_%'",
  )) as { name: string }[];
  const have = new Set(rows.map((r) => r.name));
  const report: IndexReport = { created: [], skipped: [], ms: 0, failed: "" };
  const missing = INDEXES.filter((i) => !have.has(i.name));
  if (missing.length === 0) return report;
  const started = performance.now();
  for (const name of RETIRED) if (have.has(name)) await sql.unsafe(`DROP INDEX IF EXISTS ${name}`);
  for (const index of missing) {
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(PG_LOCK);
        await tx.unsafe(indexDdl(index, "pg"));
      });
    } catch (e) {
      report.failed = `${index.name}: ${(e as Error).message}`;
      break;
    }
    report.created.push(index.name);
  }
  // a newer chatdb's higher version stays: its extra indexes are its own
  if (!report.failed)
    await sql.unsafe(
      `${UPSERT.replace("?1, ?2, ?3, ?3", "$1, $2, $3, $3")} WHERE settings.value IS NULL
     OR settings.value !~ '^[0-9]+$' OR settings.value::bigint < $4::bigint`,
      [INDEX_VERSION_KEY, String(INDEX_VERSION), nowDb(), INDEX_VERSION],
    );
  report.ms = performance.now() - started;
  return report;
}

/** Calls that will scan a table on a source lacking chatdb's indexes, and that table's size. */
export interface UnindexedTable {
  table: string;
  /** Rows in the table (an estimate on a large PostgreSQL table). */
  rows: number;
  /** The wrapper methods that scan it there. */
  calls: string[];
}

/** Tables below this many rows are not reported: a scan of them is as fast as a lookup. */
export const SCAN_REPORT_ROWS = 10_000;

function group(missing: readonly ChatdbIndex[], rowsOf: (table: string) => number) {
  const out: UnindexedTable[] = [];
  for (const table of new Set(missing.map((i) => i.table))) {
    const rows = rowsOf(table);
    if (rows < SCAN_REPORT_ROWS) continue;
    const calls = missing.filter((i) => i.table === table).flatMap((i) => i.serves);
    out.push({ table, rows, calls: [...new Set(calls)] });
  }
  return out;
}

/** What a readonly SQLite file without chatdb's indexes will scan (rows by `max(rowid)`). */
export function unindexedCallsSqlite(db: Database): UnindexedTable[] {
  const have = sqliteIndexNames(db);
  const live = sqliteColumns(db);
  const missing = INDEXES.filter((i) => !have.has(i.name) && fits(i, live));
  return group(missing, (table) => maxRowid(db, table));
}

/** A table's size by `max(rowid)`: O(log n), the count for a table never deleted from. */
function maxRowid(db: Database, table: string): number {
  const row = db.query(`SELECT max(rowid) AS n FROM ${table}`).get() as { n: number | null };
  return Number(row.n ?? 0);
}

/** The same on PostgreSQL; rows by the planner's estimate (`reltuples`, −1 before ANALYZE → 0). */
export async function unindexedCallsPg(sql: Pick<SQL, "unsafe">): Promise<UnindexedTable[]> {
  const rows = (await sql.unsafe(
    `SELECT c.relname AS t, greatest(c.reltuples, 0)::bigint AS n,
      (SELECT array_agg(indexname::text) FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = c.relname) AS idx
     FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'`,
  )) as { t: string; n: number | string; idx: string[] | null }[];
  const byTable = new Map(rows.map((r) => [r.t, r]));
  const missing = INDEXES.filter((i) => {
    const r = byTable.get(i.table);
    return r !== undefined && !(r.idx ?? []).includes(i.name);
  });
  return group(missing, (t) => Number(byTable.get(t)?.n ?? 0));
}

/** One line for health and `chatdb check`: "chat_messages (≈1,000,000 rows): getChatMessagesSince, …". */
export function describeUnindexed(tables: readonly UnindexedTable[]): string {
  return tables
    .map((t) => `${t.table} (≈${t.rows.toLocaleString("en-US")} rows): ${t.calls.join(", ")}`)
    .join("; ");
}
