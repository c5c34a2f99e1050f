/** chat_messages (+ the counters saveChatMessage bumps: chat_users, chat_stats, chat_user_stats). */
import { fromDbTime, toNum, toStrOrNull } from "../_internal/values.ts";
import { type AllQuery, batch, many, named, one, type Row, write } from "../sources/query.ts";
import type { ChatMessage } from "../types.ts";

// LEFT JOIN: unlike gromozeka, a message whose author has no chat_users row is still returned.
const SELECT = `SELECT c.chat_id, c.message_id, c.date, c.user_id, c.reply_id, c.thread_id,
  c.root_message_id, c.message_text, c.message_type, c.message_category, c.quote_text, c.media_id,
  c.created_at, u.username, u.full_name
  FROM chat_messages c LEFT JOIN chat_users u ON u.chat_id = c.chat_id AND u.user_id = c.user_id`;

export function mapMessage(r: Row, dataSource: string): ChatMessage {
  return {
    chatId: toNum(r.chat_id),
    messageId: String(r.message_id),
    date: fromDbTime(r.date) as Date,
    userId: toNum(r.user_id),
    replyId: toStrOrNull(r.reply_id),
    threadId: toNum(r.thread_id),
    rootMessageId: toStrOrNull(r.root_message_id),
    messageText: r.message_text as string,
    messageType: r.message_type as string,
    messageCategory: r.message_category as string,
    quoteText: r.quote_text as string | null,
    mediaId: r.media_id as string | null,
    createdAt: fromDbTime(r.created_at),
    username: r.username as string | null,
    fullName: r.full_name as string | null,
    dataSource,
  };
}

/**
 * Ties on `date` (Telegram dates are whole seconds) break by message id. Ids are TEXT, so
 * gromozeka's 2026 `message_id DESC` put "9" after "10"; shorter-first keeps numeric ids in
 * numeric order, and any other ids still in one fixed order.
 */
const NEWEST_FIRST = "c.date DESC, length(c.message_id) DESC, c.message_id DESC";
const OLDEST_FIRST = "c.date ASC, length(c.message_id) ASC, c.message_id ASC";
/**
 * A filter that is given → a plain condition the index can range over; one that is not → a
 * constant true. Both keep the two placeholders of gromozeka's `(? IS NULL OR col > ?)`, which
 * matches the same rows but hides the range from the planner (a scan of the whole chat for a
 * `since`, or for the rows newer than a `till`). Each variant equals that expression for the
 * values it is chosen for, so results are the same.
 */
const given = (present: boolean, token: string, condition: string) =>
  present ? `(${token} IS NOT NULL AND ${condition})` : `(${token} IS NULL AND ${token} IS NULL)`;

/**
 * One `since` statement per combination of since/till/thread. PostgreSQL binds the JSON as
 * text and casts it (Bun would encode a string bound to a jsonb parameter as a JSON string);
 * see QUERY_DIALECT.
 */
function sinceQuery(since: boolean, till: boolean, thread: boolean): AllQuery<ChatMessage[]> {
  const query = many(
    `${SELECT} WHERE c.chat_id = ? AND ${given(since, "{?ts}", "c.date > {?ts}")}
     AND ${given(till, "{?ts}", "c.date < {?ts}")} AND ${given(thread, "{?id}", "c.thread_id = {?id}")}
     AND ({?text} IS NULL OR c.message_category IN {?json_strings})
     ORDER BY ${NEWEST_FIRST} LIMIT {?limit}`,
    mapMessage,
  );
  const filters = [since && "since", till && "till", thread && "thread"].filter(Boolean);
  query.name = `messages.since${filters.length ? `[${filters.join(",")}]` : ""}`;
  return query;
}
const SINCE = Array.from({ length: 8 }, (_, k) => sinceQuery(!!(k & 1), !!(k & 2), !!(k & 4)));

export const messages = named("messages", {
  byId: one(`${SELECT} WHERE c.chat_id = ? AND c.message_id = ? LIMIT 1`, mapMessage),
  byUser: many(
    `${SELECT} WHERE c.chat_id = ? AND c.user_id = ? ORDER BY ${NEWEST_FIRST} LIMIT ?`,
    mapMessage,
  ),
  /** params: chatId, rootMessageId, thread×2. */
  byRoot: many(
    `${SELECT} WHERE c.chat_id = ? AND c.root_message_id = ? AND ({?id} IS NULL OR c.thread_id = {?id})
     ORDER BY ${OLDEST_FIRST}`,
    mapMessage,
  ),
  /**
   * The variant for the filters given (see {@link sinceQuery}). params: chatId, since×2,
   * till×2, thread×2, categories-json×2, limit (−1 = none).
   */
  since: (since: boolean, till: boolean, thread: boolean) =>
    SINCE[Number(since) | (Number(till) << 1) | (Number(thread) << 2)] as AllQuery<ChatMessage[]>,
  setCategory: write(
    "UPDATE chat_messages SET message_category = ? WHERE chat_id = ? AND message_id = ?",
  ),
  /**
   * One transaction: the insert (a duplicate (chat_id, message_id) resolves false and stops
   * here), then the author's message counter and the daily per-chat and per-user stats.
   * params: chatId, messageId, date, userId, replyId, threadId, rootMessageId, text, type,
   * category, quote, mediaId, now, day.
   */
  save: batch([
    {
      query:
        write(`INSERT INTO chat_messages (chat_id, message_id, date, user_id, reply_id, thread_id,
        root_message_id, message_text, message_type, message_category, quote_text, media_id, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      params: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    },
    {
      query: write(
        "UPDATE chat_users SET messages_count = messages_count + 1, updated_at = ? WHERE chat_id = ? AND user_id = ?",
      ),
      params: [12, 0, 3],
    },
    {
      query: write(`INSERT INTO chat_stats (chat_id, date, messages_count, created_at, updated_at)
        VALUES (?, ?, 1, ?, ?) ON CONFLICT (chat_id, date)
        DO UPDATE SET messages_count = chat_stats.messages_count + 1, updated_at = excluded.updated_at`),
      params: [0, 13, 12, 12],
    },
    {
      query:
        write(`INSERT INTO chat_user_stats (chat_id, user_id, date, messages_count, created_at, updated_at)
        VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (chat_id, user_id, date)
        DO UPDATE SET messages_count = chat_user_stats.messages_count + 1, updated_at = excluded.updated_at`),
      params: [0, 3, 13, 12, 12],
    },
  ]),
});
