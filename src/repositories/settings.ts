/** Key → value tables: settings (global), chat_settings, user_data. True upserts keep created_at. */
import { fold, named, one, type Row, write } from "../sources/query.ts";

/** Rows of (k, v) → a plain record. */
const toRecord = (rows: Row[]) => {
  const out: Record<string, string> = {};
  for (const r of rows) out[r.k as string] = r.v as string;
  return out;
};
const value = (r: Row) => r.v as string | null;

/** A true upsert on `table` (never INSERT OR REPLACE, which resets created_at). */
const upsert = (table: string, keyCols: string[], valueCol: string) =>
  write(`INSERT INTO ${table} (${keyCols.join(", ")}, ${valueCol}, created_at, updated_at)
    VALUES (${keyCols.map(() => "?").join(", ")}, ?, ?, ?) ON CONFLICT (${keyCols.join(", ")})
    DO UPDATE SET ${valueCol} = excluded.${valueCol}, updated_at = excluded.updated_at`);

export const settings = named("settings", {
  /** The row, so a stored NULL (`{ value: null }`) differs from no row (null). */
  get: one("SELECT value AS v FROM settings WHERE key = ?", (r) => ({ value: value(r) })),
  all: fold("SELECT key AS k, value AS v FROM settings ORDER BY key", toRecord),
  /** params: key, value, now, now. */
  set: upsert("settings", ["key"], "value"),
});

export const chatSettings = named("chatSettings", {
  get: one("SELECT value AS v FROM chat_settings WHERE chat_id = ? AND key = ?", value),
  all: fold(
    "SELECT key AS k, value AS v FROM chat_settings WHERE chat_id = ? ORDER BY key",
    toRecord,
  ),
  /** params: chat, key, value, now, now. */
  set: upsert("chat_settings", ["chat_id", "key"], "value"),
  unset: write("DELETE FROM chat_settings WHERE chat_id = ? AND key = ?"),
  clear: write("DELETE FROM chat_settings WHERE chat_id = ?"),
});

export const userData = named("userData", {
  all: fold(
    "SELECT key AS k, data AS v FROM user_data WHERE user_id = ? AND chat_id = ? ORDER BY key",
    toRecord,
  ),
  /** params: user, chat, key, data, now, now. */
  set: upsert("user_data", ["user_id", "chat_id", "key"], "data"),
  delete: write("DELETE FROM user_data WHERE user_id = ? AND chat_id = ? AND key = ?"),
  clear: write("DELETE FROM user_data WHERE user_id = ? AND chat_id = ?"),
});
