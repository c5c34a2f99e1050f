/** chat_messages (+ the counters saveChatMessage bumps: chat_users, chat_stats, chat_user_stats). */
import { fromDbTime, toNum, toStrOrNull } from "../_internal/values.ts";
import {
  batch,
  bigint,
  jsonStrings,
  limit,
  many,
  named,
  needsTable,
  one,
  optionalColumns,
  type Row,
  sql,
  text,
  timeCompare,
  ts,
  type VariantQuery,
  variant,
  write,
} from "../sources/query.ts";
import type { ChatMessage } from "../types.ts";

/** Columns gromozeka added later (007: markup, metadata; 008: media_group_id): null before. */
const LATER = ["media_group_id", "markup", "metadata"];

// LEFT JOIN: unlike gromozeka, a message whose author has no chat_users row is still returned.
const select = (
  col: (name: string) => string,
  extra = "",
) => `SELECT c.chat_id, c.message_id, c.date,
  c.user_id, c.reply_id, c.thread_id, c.root_message_id, c.message_text, c.message_type,
  c.message_category, c.quote_text, c.media_id, c.created_at, ${LATER.map(col).join(", ")},
  u.username, u.full_name${extra}
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
    mediaGroupId: r.media_group_id as string | null,
    markup: r.markup as string | null,
    metadata: r.metadata as string | null,
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

/** A time bound's three texts (see `boundParams` in _internal/time-bounds.ts); null = not given. */
type Bound<N extends string> = Record<N | `${N}Iso` | `${N}Day`, string | null>;

/** What getChatMessagesSince filters by; null = not given, limit −1 = none. */
export type SinceParams = {
  chatId: number;
  threadId: number | null;
  /** A JSON array of categories (an empty one matches nothing). */
  categories: string | null;
  limit: number;
} & Bound<"since"> &
  Bound<"till">;

/**
 * One `since` statement per combination of since/till/thread: a filter that is given is a
 * condition the index can range over, one that is not is left out. gromozeka's one statement,
 * `(? IS NULL OR col > ?)`, matches the same rows but hides the range from the planner (a scan
 * of the whole chat for a `since`, or for the rows newer than a `till`). Time bounds hold for
 * both of gromozeka's timestamp encodings ({@link timeCompare}).
 */
function sinceQuery(since: boolean, till: boolean, thread: boolean) {
  const query = optionalColumns(
    "chat_messages",
    LATER,
    (col) =>
      many(
        (p: SinceParams) => sql`${select(col)} WHERE c.chat_id = ${p.chatId}
     ${since ? sql`AND ${timeCompare("c.date", ">", { space: p.since, iso: p.sinceIso, day: p.sinceDay })}` : ""}
     ${till ? sql`AND ${timeCompare("c.date", "<", { space: p.till, iso: p.tillIso, day: p.tillDay })}` : ""}
     ${thread ? sql`AND c.thread_id = ${bigint(p.threadId)}` : ""}
     AND (${text(p.categories)} IS NULL OR c.message_category IN ${jsonStrings(p.categories)})
     ORDER BY ${NEWEST_FIRST} LIMIT ${limit(p.limit)}`,
        mapMessage,
      ),
    "c.",
  );
  const filters = [since && "since", till && "till", thread && "thread"].filter(Boolean);
  query.name = `messages.since${filters.length ? `[${filters.join(",")}]` : ""}`;
  return query;
}
const SINCE = Array.from({ length: 8 }, (_, k) => sinceQuery(!!(k & 1), !!(k & 2), !!(k & 4)));

/** saveChatMessage's values: the row, plus `now` and the message's `day` for the stats. */
export type SaveParams = {
  chatId: number;
  messageId: string;
  date: string;
  userId: number;
  replyId: string | null;
  threadId: number;
  rootMessageId: string | null;
  text: string;
  type: string;
  category: string;
  quote: string | null;
  mediaId: string | null;
  mediaGroupId: string | null;
  markup: string;
  metadata: string;
  now: string;
  day: string;
};

type Key = { chatId: number; messageId: string };

/** A read of a file before gromozeka 008 (no media groups): it holds none, so it finds nothing. */
type GroupKey = { chatId: number; mediaGroupId: string; threadId: number | null };
const NO_ROW = one<ChatMessage, GroupKey>("SELECT NULL AS none WHERE 1 = 0", mapMessage);

const FIRST_IN_GROUP = optionalColumns(
  "chat_messages",
  LATER,
  (col) =>
    one(
      (p: GroupKey) =>
        sql`${select(col)} WHERE c.chat_id = ${p.chatId} AND c.media_group_id = ${p.mediaGroupId}
        AND (${bigint(p.threadId)} IS NULL OR c.thread_id = ${bigint(p.threadId)})
        ORDER BY ${OLDEST_FIRST} LIMIT 1`,
      mapMessage,
    ),
  "c.",
);

/** searchChatMessages' filters; null = not given, limit −1 = none. */
export type SearchParams = {
  chatId: number;
  userId: number | null;
  rootMessageId: string | null;
  /** A JSON array of categories; null (or an empty list, as gromozeka) = any. */
  categories: string | null;
  limit: number;
} & Bound<"cutoff">;

/** searchChatMessages' filters over `c`, as gromozeka's filter-only search and its pre-filter. */
const searchFilters = (
  p: SearchParams,
) => sql`AND (${bigint(p.userId)} IS NULL OR c.user_id = ${bigint(p.userId)})
  AND (${text(p.rootMessageId)} IS NULL OR c.root_message_id = ${text(p.rootMessageId)})
  AND (${ts(p.cutoff)} IS NULL OR ${timeCompare("c.date", ">", { space: p.cutoff, iso: p.cutoffIso, day: p.cutoffDay })})
  AND (${text(p.categories)} IS NULL OR c.message_category IN ${jsonStrings(p.categories)})`;

/** One embedded message of a semantic search: the message, its vector's bytes and length. */
export type EmbeddedMessage = { message: ChatMessage; embedding: Uint8Array; dimensions: number };

/** What the semantic search reads: the model's newest `maxMessages` embeddings, then the filters. */
export type EmbeddedParams = SearchParams & { model: string; maxMessages: number };

export const messages = named("messages", {
  byId: optionalColumns(
    "chat_messages",
    LATER,
    (col) =>
      one(
        (p: Key) =>
          sql`${select(col)} WHERE c.chat_id = ${p.chatId} AND c.message_id = ${p.messageId} LIMIT 1`,
        mapMessage,
      ),
    "c.",
  ),
  byUser: optionalColumns(
    "chat_messages",
    LATER,
    (col) =>
      many(
        (p: { chatId: number; userId: number; limit: number }) =>
          sql`${select(col)} WHERE c.chat_id = ${p.chatId} AND c.user_id = ${p.userId}
          ORDER BY ${NEWEST_FIRST} LIMIT ${p.limit}`,
        mapMessage,
      ),
    "c.",
  ),
  byRoot: optionalColumns(
    "chat_messages",
    LATER,
    (col) =>
      many(
        (p: { chatId: number; rootMessageId: string; threadId: number | null }) =>
          sql`${select(col)} WHERE c.chat_id = ${p.chatId} AND c.root_message_id = ${p.rootMessageId}
          AND (${bigint(p.threadId)} IS NULL OR c.thread_id = ${bigint(p.threadId)})
          ORDER BY ${OLDEST_FIRST}`,
        mapMessage,
      ),
    "c.",
  ),
  /** The variant for the filters given (see {@link sinceQuery}). */
  since: (since: boolean, till: boolean, thread: boolean) =>
    SINCE[Number(since) | (Number(till) << 1) | (Number(thread) << 2)] as VariantQuery<
      ChatMessage[],
      SinceParams
    >,
  /** The album's earliest message (gromozeka 008's chat_messages.media_group_id). */
  byMediaGroup: variant((schema) =>
    schema.has("chat_messages", "media_group_id") ? FIRST_IN_GROUP.pick(schema) : NO_ROW,
  ),
  setMetadata: write(
    (p: Key & { metadata: string }) =>
      sql`UPDATE chat_messages SET metadata = ${p.metadata}
      WHERE chat_id = ${p.chatId} AND message_id = ${p.messageId}`,
  ),
  /** gromozeka's filter-only search: the chat's messages that pass the filters, newest first. */
  search: optionalColumns(
    "chat_messages",
    LATER,
    (col) =>
      many(
        (p: SearchParams) => sql`${select(col)} WHERE c.chat_id = ${p.chatId} ${searchFilters(p)}
        ORDER BY ${NEWEST_FIRST} LIMIT ${limit(p.limit)}`,
        mapMessage,
      ),
    "c.",
  ),
  /**
   * The semantic search's candidates: the `maxMessages` (−1: all) newest messages the model
   * embedded, those of them that pass the filters, with their vectors (gromozeka 017).
   */
  embedded: needsTable(
    "message_embeddings",
    "gromozeka 017",
    optionalColumns(
      "chat_messages",
      LATER,
      (col) =>
        many(
          (p: EmbeddedParams) => sql`${select(col, ", e.embedding, e.dimensions")}
        JOIN (SELECT me.message_id, me.embedding, me.dimensions FROM message_embeddings me
          JOIN chat_messages c ON c.chat_id = me.chat_id AND c.message_id = me.message_id
          WHERE me.chat_id = ${p.chatId} AND me.model = ${p.model}
          ORDER BY ${NEWEST_FIRST} LIMIT ${limit(p.maxMessages)}) e ON e.message_id = c.message_id
        WHERE c.chat_id = ${p.chatId} ${searchFilters(p)}
        ORDER BY ${NEWEST_FIRST}`,
          (r, source): EmbeddedMessage => ({
            message: mapMessage(r, source),
            embedding: r.embedding as Uint8Array,
            dimensions: toNum(r.dimensions),
          }),
        ),
      "c.",
    ),
  ),
  setCategory: write(
    (p: Key & { category: string }) =>
      sql`UPDATE chat_messages SET message_category = ${p.category}
      WHERE chat_id = ${p.chatId} AND message_id = ${p.messageId}`,
  ),
  /**
   * One transaction: the insert (a duplicate (chat_id, message_id) resolves false and stops
   * here), then the author's message counter and the daily per-chat and per-user stats.
   */
  save: batch([
    write(
      (p: SaveParams) => sql`INSERT INTO chat_messages (chat_id, message_id, date, user_id,
      reply_id, thread_id, root_message_id, message_text, message_type, message_category,
      quote_text, media_id, media_group_id, markup, metadata, created_at)
      VALUES (${p.chatId}, ${p.messageId}, ${p.date}, ${p.userId}, ${p.replyId}, ${p.threadId},
      ${p.rootMessageId}, ${p.text}, ${p.type}, ${p.category}, ${p.quote}, ${p.mediaId},
      ${p.mediaGroupId}, ${p.markup}, ${p.metadata}, ${p.now})
      ON CONFLICT DO NOTHING`,
    ),
    write(
      (p: SaveParams) => sql`UPDATE chat_users SET messages_count = messages_count + 1,
      updated_at = ${p.now} WHERE chat_id = ${p.chatId} AND user_id = ${p.userId}`,
    ),
    write(
      (p: SaveParams) => sql`INSERT INTO chat_stats (chat_id, date, messages_count, created_at,
      updated_at) VALUES (${p.chatId}, ${p.day}, 1, ${p.now}, ${p.now}) ON CONFLICT (chat_id, date)
      DO UPDATE SET messages_count = chat_stats.messages_count + 1, updated_at = excluded.updated_at`,
    ),
    write(
      (p: SaveParams) => sql`INSERT INTO chat_user_stats (chat_id, user_id, date, messages_count,
      created_at, updated_at) VALUES (${p.chatId}, ${p.userId}, ${p.day}, 1, ${p.now}, ${p.now})
      ON CONFLICT (chat_id, user_id, date)
      DO UPDATE SET messages_count = chat_user_stats.messages_count + 1, updated_at = excluded.updated_at`,
    ),
  ]),
});
