/** spam_messages and ham_messages: the same shape, so one set of queries per table. */
import { fromDbTime, toNum } from "../_internal/values.ts";
import {
  type AllQuery,
  many,
  named,
  optionalColumns,
  type Params,
  type Row,
  sql,
  write,
} from "../sources/query.ts";
import type { SpamMessage } from "../types.ts";

export function mapSpam(r: Row, dataSource: string): SpamMessage {
  return {
    chatId: toNum(r.chat_id),
    userId: toNum(r.user_id),
    messageId: String(r.message_id),
    text: r.text as string,
    reason: r.reason as string,
    score: toNum(r.score),
    confidence: r.confidence === null ? null : toNum(r.confidence),
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

/** addSpamMessage / addHamMessage's row. */
export type SpamParams = {
  chatId: number;
  userId: number;
  messageId: string;
  text: string;
  reason: string;
  score: number;
  confidence: number;
  now: string;
};
type Member = { chatId: number; userId: number };

function spamTable(table: "spam_messages" | "ham_messages") {
  // confidence: gromozeka 011+; null before
  const read = <P extends Params>(build: (select: string) => AllQuery<SpamMessage[], P>) =>
    optionalColumns(table, ["confidence"], (col) =>
      build(`SELECT chat_id, user_id, message_id, text, reason, score, ${col("confidence")},
        created_at, updated_at FROM ${table}`),
    );
  return named(table === "spam_messages" ? "spam" : "ham", {
    /** Insert-only: a duplicate (chat, user, message) resolves false. */
    add: write(
      (p: SpamParams) => sql`INSERT INTO ${table} (chat_id, user_id, message_id, text, reason,
      score, confidence, created_at, updated_at) VALUES (${p.chatId}, ${p.userId}, ${p.messageId},
      ${p.text}, ${p.reason}, ${p.score}, ${p.confidence}, ${p.now}, ${p.now}) ON CONFLICT DO NOTHING`,
    ),
    /** Case-insensitive, as gromozeka's LOWER(text) = LOWER(?) (ASCII letters, as SQLite's LOWER). */
    byText: read((select) =>
      many(
        (p: { text: string }) =>
          sql`${select} WHERE lower(text) = lower(${p.text})
          ORDER BY created_at, chat_id, user_id, message_id`,
        mapSpam,
      ),
    ),
    byUser: read((select) =>
      many(
        (p: Member) => sql`${select} WHERE chat_id = ${p.chatId} AND user_id = ${p.userId}
        ORDER BY created_at, message_id`,
        mapSpam,
      ),
    ),
    recent: read((select) =>
      many(
        (p: { limit: number }) =>
          sql`${select} ORDER BY created_at DESC, chat_id, user_id, message_id LIMIT ${p.limit}`,
        mapSpam,
      ),
    ),
    deleteByUser: write(
      (p: Member) =>
        sql`DELETE FROM ${table} WHERE chat_id = ${p.chatId} AND user_id = ${p.userId}`,
    ),
  });
}

export const spam = spamTable("spam_messages");
export const ham = spamTable("ham_messages");
