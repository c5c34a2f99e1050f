/**
 * The per-chat tables `chatdb archive` moves, and the SQL it builds for them. Every one has a
 * `chat_id` column; the copy and the checks use the columns both databases share, so a source
 * on an older schema still archives.
 */
import type { Database, SQLQueryBindings } from "bun:sqlite";

/** Tables holding one chat's rows, in copy order (the order a reader would want them in). */
export const CHAT_TABLES = [
  "chat_info",
  "chat_settings",
  "chat_topics",
  "chat_users",
  "user_data",
  "chat_messages",
  "spam_messages",
  "ham_messages",
  "chat_summarization_cache",
  "chat_stats",
  "chat_user_stats",
] as const;

export type ChatTable = (typeof CHAT_TABLES)[number];

/** Column names of `schema.table`, or [] when the table does not exist there. */
export function columnsOf(db: Database, schema: string, table: string): string[] {
  const rows = db.query(`SELECT name FROM pragma_table_info(?, ?)`).all(table, schema) as {
    name: string;
  }[];
  return rows.map((r) => r.name);
}

/** Columns present in both `a.table` and `b.table`, in `a`'s order. */
export function sharedColumns(db: Database, table: string, a: string, b: string): string[] {
  const inB = new Set(columnsOf(db, b, table));
  return columnsOf(db, a, table).filter((c) => inB.has(c));
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** `INSERT OR REPLACE INTO dst.t (cols) SELECT cols FROM src.t WHERE chat_id = ?`. */
export function copySql(table: string, cols: readonly string[], src: string, dst: string): string {
  const list = cols.map(q).join(", ");
  return `INSERT OR REPLACE INTO ${dst}.${q(table)} (${list}) SELECT ${list} FROM ${src}.${q(table)} WHERE chat_id = ?`;
}

/** A predicate true when `outer`'s row has an identical row (NULL-safe, all `cols`) in `other.t`. */
function identicalIn(table: string, cols: readonly string[], other: string, outer: string): string {
  const same = cols.map((c) => `o.${q(c)} IS ${outer}.${q(c)}`).join(" AND ");
  return `EXISTS (SELECT 1 FROM ${other}.${q(table)} o WHERE ${same})`;
}

/** Count of `src` rows of the chat that have no identical copy in `dst` (0 = fully copied). */
export function missingSql(
  table: string,
  cols: readonly string[],
  src: string,
  dst: string,
): string {
  return `SELECT count(*) AS n FROM ${src}.${q(table)} s WHERE s.chat_id = ? AND NOT ${identicalIn(table, cols, dst, "s")}`;
}

/** Deletes the chat's rows of `main.t` that have an identical copy in `archive.t`. */
export function deleteCopiedSql(table: string, cols: readonly string[], archive: string): string {
  return `DELETE FROM main.${q(table)} WHERE chat_id = ? AND ${identicalIn(table, cols, archive, `main.${q(table)}`)}`;
}

export function countSql(table: string, schema: string): string {
  return `SELECT count(*) AS n FROM ${schema}.${q(table)} WHERE chat_id = ?`;
}

/** Rows per statement when copying or deleting: a 1M-row chat moves in 0.5 % steps. */
export const BATCH_ROWS = 5000;

/** The primary-key columns of `schema.table` in key order ([] without a declared key). */
export function keyColumns(db: Database, table: string, schema: string): string[] {
  const rows = db
    .query(`SELECT name FROM pragma_table_info(?, ?) WHERE pk > 0 ORDER BY pk`)
    .all(table, schema) as { name: string }[];
  return rows.map((r) => r.name);
}

/**
 * Copies the chat's rows of `table` from `src` to `dst` in batches of `BATCH_ROWS`, walking the
 * source's primary key (keyset pagination: each batch starts where the last one ended, so the
 * whole copy reads the key index once). Calls `onBatch` with the rows each batch copied.
 */
export function copyInBatches(
  db: Database,
  table: string,
  cols: readonly string[],
  src: string,
  dst: string,
  chatId: number,
  onBatch: (rows: number) => void,
): void {
  // chat_id is fixed by the WHERE: walk the rest of the key (so the index range is used)
  const full = keyColumns(db, table, src);
  const key = full.filter((k) => k !== "chat_id");
  const base = copySql(table, cols, src, dst);
  // no key to walk (or one row per chat): one statement
  if (key.length === 0 || !full.every((k) => cols.includes(k))) {
    onBatch(db.run(base, [chatId]).changes);
    return;
  }
  const list = `(${key.map(q).join(", ")})`;
  const marks = `(${key.map(() => "?").join(", ")})`;
  const from = `${src}.${q(table)} WHERE chat_id = ?`;
  const probeFirst = db.prepare(
    `SELECT ${key.map(q).join(", ")} FROM ${from} ORDER BY ${key.map(q).join(", ")} LIMIT 1 OFFSET ${BATCH_ROWS - 1}`,
  );
  const probeNext = db.prepare(
    `SELECT ${key.map(q).join(", ")} FROM ${from} AND ${list} > ${marks} ORDER BY ${key.map(q).join(", ")} LIMIT 1 OFFSET ${BATCH_ROWS - 1}`,
  );
  try {
    let lo: SQLQueryBindings[] | null = null;
    for (;;) {
      const rows: SQLQueryBindings[][] =
        lo === null ? probeFirst.values(chatId) : probeNext.values(chatId, ...lo);
      const hi: SQLQueryBindings[] | null = rows[0] ?? null;
      const where = [
        lo === null ? "" : ` AND ${list} > ${marks}`,
        hi === null ? "" : ` AND ${list} <= ${marks}`,
      ];
      const args: SQLQueryBindings[] = [chatId, ...(lo ?? []), ...(hi ?? [])];
      onBatch(db.run(`${base}${where.join("")}`, args).changes);
      if (hi === null) return;
      lo = hi;
    }
  } finally {
    probeFirst.finalize();
    probeNext.finalize();
  }
}

/**
 * Deletes the chat's rows of `main.table` that have an identical copy in `archive.table`, in
 * batches of `BATCH_ROWS` (a rowid table) or in one statement (WITHOUT ROWID).
 */
export function deleteInBatches(
  db: Database,
  table: string,
  cols: readonly string[],
  archive: string,
  chatId: number,
  onBatch: (rows: number) => void,
): void {
  const all = deleteCopiedSql(table, cols, archive);
  const withoutRowid = db
    .query("SELECT 1 FROM pragma_table_list WHERE schema = 'main' AND name = ? AND wr = 1")
    .get(table);
  if (withoutRowid) {
    onBatch(db.run(all, [chatId]).changes);
    return;
  }
  const t = `main.${q(table)}`;
  const sql = `DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE chat_id = ? AND ${identicalIn(table, cols, archive, t)} LIMIT ${BATCH_ROWS})`;
  for (;;) {
    const n = db.run(sql, [chatId]).changes;
    if (n > 0) onBatch(n);
    if (n < BATCH_ROWS) return;
  }
}

/** Runs a `countSql`-shaped query for one chat. */
export function count(db: Database, sql: string, chatId: number): number {
  return (db.query(sql).get(chatId) as { n: number }).n;
}
