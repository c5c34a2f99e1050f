/** spam_messages and ham_messages: the same shape, so one set of queries per table. */
import { fromDbTime, toNum } from "../_internal/values.ts";
import { many, named, type Row, write } from "../sources/query.ts";
import type { SpamMessage } from "../types.ts";

export function mapSpam(r: Row, dataSource: string): SpamMessage {
  return {
    chatId: toNum(r.chat_id),
    userId: toNum(r.user_id),
    messageId: String(r.message_id),
    text: r.text as string,
    reason: r.reason as string,
    score: toNum(r.score),
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

function spamTable(table: "spam_messages" | "ham_messages") {
  const select = `SELECT chat_id, user_id, message_id, text, reason, score, created_at, updated_at FROM ${table}`;
  return named(table === "spam_messages" ? "spam" : "ham", {
    /** Insert-only: a duplicate (chat, user, message) resolves false. */
    add: write(`INSERT INTO ${table} (chat_id, user_id, message_id, text, reason, score, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
    byText: many(
      `${select} WHERE text = ? ORDER BY created_at, chat_id, user_id, message_id`,
      mapSpam,
    ),
    byUser: many(
      `${select} WHERE chat_id = ? AND user_id = ? ORDER BY created_at, message_id`,
      mapSpam,
    ),
    recent: many(
      `${select} ORDER BY created_at DESC, chat_id, user_id, message_id LIMIT ?`,
      mapSpam,
    ),
    deleteByUser: write(`DELETE FROM ${table} WHERE chat_id = ? AND user_id = ?`),
  });
}

export const spam = spamTable("spam_messages");
export const ham = spamTable("ham_messages");
