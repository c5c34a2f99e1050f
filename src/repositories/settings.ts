/** Key → value tables: settings (global), chat_settings, user_data. True upserts keep created_at. */
import { toNum } from "../_internal/values.ts";
import { fold, many, named, one, type Row, sql, write } from "../sources/query.ts";
import type { ChatSettingMatch } from "../types.ts";

/** Rows of (k, v) → a plain record. */
const toRecord = (rows: Row[]) => {
  const out: Record<string, string> = {};
  for (const r of rows) out[r.k as string] = r.v as string;
  return out;
};
const value = (r: Row) => r.v as string | null;

type Stamp = { now: string };
type ChatKey = { chatId: number; key: string };
type UserChat = { userId: number; chatId: number };

export const settings = named("settings", {
  /** The row, so a stored NULL (`{ value: null }`) differs from no row (null). */
  get: one(
    (p: { key: string }) => sql`SELECT value AS v FROM settings WHERE key = ${p.key}`,
    (r) => ({ value: value(r) }),
  ),
  all: fold("SELECT key AS k, value AS v FROM settings ORDER BY key", toRecord),
  /** A true upsert (never INSERT OR REPLACE, which resets created_at); so are the others. */
  set: write(
    (p: { key: string; value: string } & Stamp) =>
      sql`INSERT INTO settings (key, value, created_at, updated_at)
      VALUES (${p.key}, ${p.value}, ${p.now}, ${p.now}) ON CONFLICT (key)
      DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ),
});

export const chatSettings = named("chatSettings", {
  get: one(
    (p: ChatKey) =>
      sql`SELECT value AS v FROM chat_settings WHERE chat_id = ${p.chatId} AND key = ${p.key}`,
    value,
  ),
  all: fold(
    (p: { chatId: number }) =>
      sql`SELECT key AS k, value AS v FROM chat_settings WHERE chat_id = ${p.chatId} ORDER BY key`,
    toRecord,
  ),
  /** `updatedBy`: the user who changed it (gromozeka 010's column; 0 = the bot itself). */
  set: write(
    (p: ChatKey & { value: string; updatedBy: number } & Stamp) =>
      sql`INSERT INTO chat_settings (chat_id, key, value, updated_by, created_at, updated_at)
      VALUES (${p.chatId}, ${p.key}, ${p.value}, ${p.updatedBy}, ${p.now}, ${p.now})
      ON CONFLICT (chat_id, key) DO UPDATE SET value = excluded.value,
      updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
  ),
  /** gromozeka's listChatsBySetting: every chat with the key set (a NULL value is skipped). */
  chatsWith: many(
    (p: { key: string }) => sql`SELECT chat_id, value FROM chat_settings
    WHERE key = ${p.key} AND value IS NOT NULL ORDER BY chat_id`,
    (r, dataSource): ChatSettingMatch => ({
      chatId: toNum(r.chat_id),
      value: r.value as string,
      dataSource,
    }),
  ),
  unset: write(
    (p: ChatKey) => sql`DELETE FROM chat_settings WHERE chat_id = ${p.chatId} AND key = ${p.key}`,
  ),
  clear: write(
    (p: { chatId: number }) => sql`DELETE FROM chat_settings WHERE chat_id = ${p.chatId}`,
  ),
});

export const userData = named("userData", {
  all: fold(
    (p: UserChat) => sql`SELECT key AS k, data AS v FROM user_data
    WHERE user_id = ${p.userId} AND chat_id = ${p.chatId} ORDER BY key`,
    toRecord,
  ),
  set: write(
    (p: UserChat & { key: string; data: string } & Stamp) =>
      sql`INSERT INTO user_data (user_id, chat_id, key, data, created_at, updated_at)
      VALUES (${p.userId}, ${p.chatId}, ${p.key}, ${p.data}, ${p.now}, ${p.now})
      ON CONFLICT (user_id, chat_id, key) DO UPDATE SET data = excluded.data,
      updated_at = excluded.updated_at`,
  ),
  delete: write(
    (p: UserChat & { key: string }) => sql`DELETE FROM user_data
    WHERE user_id = ${p.userId} AND chat_id = ${p.chatId} AND key = ${p.key}`,
  ),
  clear: write(
    (p: UserChat) =>
      sql`DELETE FROM user_data WHERE user_id = ${p.userId} AND chat_id = ${p.chatId}`,
  ),
});
