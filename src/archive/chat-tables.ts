/**
 * The per-chat tables `chatdb archive` moves, and the SQL it builds for them. Every one has a
 * `chat_id` column; the copy and the checks use the columns both databases share, so a source
 * on an older schema still archives.
 */
import type { Database } from "bun:sqlite";

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
