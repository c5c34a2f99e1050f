/**
 * DatabaseWrapper: gromozeka's data methods over many sources. Each method checks its
 * arguments, picks its query from a repository and hands it to the routed source; routing,
 * readonly refusal, aggregation and error typing live in `core.ts`. Each method's doc says
 * where the call goes: the chat's source, the default source, or every source.
 */

import { createHash } from "node:crypto";
import { requireBun } from "./_internal/runtime.ts";
import { boundParams } from "./_internal/time-bounds.ts";
import {
  bool,
  date,
  dayDb,
  id,
  limit,
  messageId,
  nowDb,
  num,
  nums,
  optId,
  options,
  optMessageId,
  optText,
  record,
  text,
  texts,
  toDbTime,
} from "./_internal/values.ts";
import { WrapperCore, type WrapperOptions } from "./core.ts";
import { DatabaseError } from "./errors.ts";
import { cacheStorage, oldCacheEntries, typedCaches } from "./repositories/cache.ts";
import { chats, userIds } from "./repositories/chats.ts";
import { divinations } from "./repositories/divinations.ts";
import { media } from "./repositories/media.ts";
import { type EmbeddedMessage, messages } from "./repositories/messages.ts";
import { chatSettings, settings, userData } from "./repositories/settings.ts";
import { ham, spam } from "./repositories/spam.ts";
import { stats } from "./repositories/stats.ts";
import { csid, summaries } from "./repositories/summaries.ts";
import { tasks } from "./repositories/tasks.ts";
import { users } from "./repositories/users.ts";
import type { Router } from "./routing.ts";
import type {
  AggregateOptions,
  CacheEntry,
  CacheStorageEntry,
  ChatInfo,
  ChatInfoUpdate,
  ChatMessage,
  ChatSettingMatch,
  ChatSummarization,
  ChatTopic,
  ChatTopicUpdate,
  ChatUser,
  DelayedTask,
  DivinationLayout,
  DivinationLayoutInput,
  DivinationReading,
  MediaAttachment,
  MediaAttachmentUpdate,
  MessageThread,
  NewChatMessage,
  NewDivinationReading,
  NewMediaAttachment,
  NewSpamMessage,
  ReadOptions,
  ScoredChatMessage,
  SearchOptions,
  SpamMessage,
  StatAggregate,
  SummarizationKey,
  UserIdMatch,
} from "./types.ts";

/** The typed cache tables for `cacheType`, or INVALID_ARGUMENT. */
function cacheOf(cacheType: string) {
  const c = typedCaches.get(cacheType);
  if (c === undefined) {
    throw new DatabaseError(
      "INVALID_ARGUMENT",
      `cacheType: unknown "${cacheType}" (known: ${[...typedCaches.keys()].join(", ")})`,
    );
  }
  return c;
}

/** addSpamMessage / addHamMessage: the message's row, checked. */
const spamChat = (message: NewSpamMessage) => id(record(message, "s").chatId, "chatId");
function spamRow(message: NewSpamMessage) {
  const s = record(message, "s");
  return {
    chatId: id(s.chatId, "chatId"),
    userId: id(s.userId, "userId"),
    messageId: messageId(s.messageId),
    text: text(s.text, "text"),
    reason: text(s.reason, "reason"),
    score: num(s.score, "score"),
    confidence: s.confidence === undefined ? 1 : num(s.confidence, "confidence"),
    now: nowDb(),
  };
}

/** Chat records: one per chat id, from the chat's home source, by chat id (as the SQL). */
const BY_CHAT = {
  key: (c: ChatInfo) => c.chatId,
  home: (c: ChatInfo, router: Router) => router.home(c.chatId),
  order: (a: ChatInfo, b: ChatInfo) => a.chatId - b.chatId,
};

/** A stored embedding (float32, as gromozeka's `array("f")`), or null when malformed. */
function vector(bytes: Uint8Array, dimensions: number): Float32Array | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== dimensions * 4) return null;
  return new Float32Array(bytes.slice().buffer);
}

const norm = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) * (v[i] as number);
  return Math.sqrt(s);
};

/**
 * gromozeka's numpy ranking: cosine similarity to the query (a zero vector's norm taken as 1),
 * the `topK` best, most similar first (ties: newest first), then at most `max` (−1: all).
 * Embeddings that are malformed, of another length than stored or than the query are skipped.
 */
function rankBySimilarity(
  query: readonly number[],
  candidates: readonly EmbeddedMessage[],
  topK: number,
  max: number,
): ScoredChatMessage[] {
  const qn = norm(query) || 1;
  const scored: ScoredChatMessage[] = [];
  for (const c of candidates) {
    const v = vector(c.embedding, c.dimensions);
    // numpy fails the whole search on a vector of another length than the query's (an
    // embedding of another model stored under this one): here that vector is skipped
    if (v === null || v.length !== query.length) continue;
    const n = norm(v) || 1;
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += (v[i] as number) * (query[i] as number);
    scored.push({ ...c.message, score: dot / (n * qn) });
  }
  scored.sort((a, b) => b.score - a.score);
  const top = scored.slice(0, topK);
  return max === -1 ? top : top.slice(0, max);
}

const time = (d: Date | null) => d?.getTime() ?? 0;

/** gromozeka's GLOBAL_CONSUMER_ID: the `consumer` label of the rollup over consumers. */
const GLOBAL_CONSUMER = "__global__";

/** gromozeka's jsonDumps of a flat object: sorted keys, compact separators, no ASCII escaping. */
const canonicalJson = (o: Record<string, unknown>) =>
  `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`)
    .join(",")}}`;

/** A number as Python's json.dumps writes it (NaN and ±Infinity as its tokens). */
const pythonNumber = (v: number) =>
  Number.isFinite(v)
    ? JSON.stringify(v)
    : Number.isNaN(v)
      ? "NaN"
      : v > 0
        ? "Infinity"
        : "-Infinity";

/** gromozeka's _computePeriods: the UTC hour, day, month and the fixed total of an instant. */
function periods(d: Date): [StatAggregate["periodType"], string][] {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return [
    ["hourly", toDbTime(new Date(Date.UTC(y, m, d.getUTCDate(), d.getUTCHours())))],
    ["daily", toDbTime(new Date(Date.UTC(y, m, d.getUTCDate())))],
    ["monthly", toDbTime(new Date(Date.UTC(y, m, 1)))],
    ["total", toDbTime(new Date(0))],
  ];
}

/** SQLite's longest LIKE pattern (SQLITE_MAX_LIKE_PATTERN_LENGTH), in bytes. */
const LIKE_PATTERN_MAX = 50_000;

/** gromozeka's cleanup cutoff: `ttl` seconds before now; null or 0 = now (everything older). */
const olderThan = (ttl: number | null) =>
  new Date(Date.now() - (ttl === null ? 0 : num(ttl, "ttl")) * 1000);
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The option names of a plain read and of a cross-source read (see `options`). */
const READ = ["dataSource"] as const;
const AGG = ["dataSource", "strict"] as const;
/** `opts` with only these option names, else INVALID_ARGUMENT naming the unknown one. */
const readOpts = <T>(opts: T, ...extra: string[]) => options(opts, [...READ, ...extra]);
const aggOpts = <T>(opts: T, ...extra: string[]) => options(opts, [...AGG, ...extra]);

/** The key params most calls share, checked. */
const member = (chatId: number, userId: number) => ({
  chatId: id(chatId, "chatId"),
  userId: id(userId, "userId"),
});
const userChat = (userId: number, chatId: number) => ({
  userId: id(userId, "userId"),
  chatId: id(chatId, "chatId"),
});
const chatKey = (chatId: number, key: string) => ({
  chatId: id(chatId, "chatId"),
  key: text(key, "key"),
});
const storageKey = (namespace: string, key: string) => ({
  namespace: text(namespace, "namespace"),
  key: text(key, "key"),
});

const summaryKey = (key: SummarizationKey) => {
  const s = record(key, "s");
  const chatId = id(s.chatId, "chatId");
  const topicId = optId(s.topicId, "topicId");
  const first = messageId(s.firstMessageId, "firstMessageId");
  const last = messageId(s.lastMessageId, "lastMessageId");
  const prompt = text(s.prompt, "prompt");
  return { csid: csid(chatId, topicId, first, last, prompt), chatId, topicId, first, last, prompt };
};

/**
 * One data layer over the bot's own SQLite database, readonly archives, other bots' live
 * databases and PostgreSQL. Every data method returns a Promise and is one transaction.
 *
 * @example
 * ```ts
 * import { DatabaseWrapper, isDatabaseError } from "chatdb";
 *
 * await using db = new DatabaseWrapper({ configPath: "bot.toml", watch: true });
 * db.on("reloadError", ({ error }) => console.warn(error.message)); // last good config kept
 * await db.updateChatUser(-1001234567890, 42, "@ann", "Ann");       // routed by chat
 * const user = await db.getChatUser(-1001234567890, 42);          // { ..., dataSource: "primary" }
 * const old = await db.getChatUser(123456, 42, { dataSource: "archive" });
 * const chats = await db.getUserChats(42);                        // every source, deduplicated
 * db.explain({ chatId: 123456, write: true });                    // { source, rule, refused, ... }
 * ```
 */
export class DatabaseWrapper extends WrapperCore {
  /**
   * Opens every source and migrates the writable ones. Accepts a legacy path, `{ dbPath,
   * maxConnections, timeout }`, a resolved `{ config }` or a `{ configPath, watch }`.
   */
  constructor(options: WrapperOptions) {
    // a typed error on a Bun older than engines.bun, before anything opens
    super(requireBun(options));
  }

  // ── Global settings (default source) ────────────────────────────────────────────

  /** Sets a global setting on the default source; a true upsert (created_at kept). */
  async setSetting(key: string, value: string): Promise<boolean> {
    const params = { key: text(key, "key"), value: text(value, "value"), now: nowDb() };
    return this.write(undefined, settings.set, params);
  }

  /** A global setting, `opts.default` when absent. A stored NULL reads as null. */
  async getSetting(key: string, opts?: ReadOptions & { default?: string }): Promise<string | null> {
    const fallback = optText(readOpts(opts, "default")?.default, "default");
    const row = await this.read(undefined, opts, settings.get, { key: text(key, "key") });
    return row === null ? fallback : row.value;
  }

  /**
   * Reads the default source (or `opts.dataSource`); not routed by chat. Every global setting, key
   * → value.
   */
  async getSettings(opts?: ReadOptions): Promise<Record<string, string>> {
    return this.read(undefined, readOpts(opts), settings.all, {});
  }

  // ── Chat messages ────────────────────────────────────────────────────────

  /**
   * Stores a message and bumps the author's counter and the daily stats, in one transaction
   * (Cw). Resolves false when (chatId, messageId) is already stored.
   */
  async saveChatMessage(message: NewChatMessage): Promise<boolean> {
    const m = record(message, "m");
    const chatId = id(m.chatId, "chatId");
    const when = date(m.date, "date");
    return this.write(chatId, messages.save, {
      chatId,
      messageId: messageId(m.messageId),
      date: toDbTime(when),
      userId: id(m.userId, "userId"),
      replyId: optMessageId(m.replyId, "replyId"),
      threadId: optId(m.threadId, "threadId") ?? 0,
      rootMessageId: optMessageId(m.rootMessageId, "rootMessageId"),
      text: text(m.messageText ?? "", "messageText"),
      type: text(m.messageType ?? "text", "messageType"),
      category: text(m.messageCategory ?? "user", "messageCategory"),
      quote: optText(m.quoteText, "quoteText"),
      mediaId: optText(m.mediaId, "mediaId"),
      mediaGroupId: optText(m.mediaGroupId, "mediaGroupId"),
      markup: text(m.markup ?? "", "markup"),
      metadata: text(m.metadata ?? "", "metadata"),
      now: nowDb(),
      day: dayDb(when),
    });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * One message by its id, with its author's name from chat_users (null when none).
   */
  async getChatMessageByMessageId(
    chatId: number,
    msgId: number | string,
    opts?: ReadOptions,
  ): Promise<ChatMessage | null> {
    const params = { chatId: id(chatId, "chatId"), messageId: messageId(msgId) };
    return this.read(chatId, readOpts(opts), messages.byId, params);
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * The user's messages in the chat, newest first, at most `limit` (100).
   */
  async getChatMessagesByUser(
    chatId: number,
    userId: number,
    opts?: ReadOptions & { limit?: number },
  ): Promise<ChatMessage[]> {
    return this.read(chatId, readOpts(opts, "limit"), messages.byUser, {
      chatId: id(chatId, "chatId"),
      userId: id(userId, "userId"),
      limit: limit(opts?.limit, 100),
    });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the
   * default). Messages after `since` and before `till` (both exclusive), in a thread, in categories
   * (an empty list matches nothing), newest first, at most `limit` (no limit by default).
   */
  async getChatMessagesSince(
    chatId: number,
    opts?: ReadOptions & {
      since?: Date;
      till?: Date;
      threadId?: number;
      limit?: number;
      categories?: readonly string[];
    },
  ): Promise<ChatMessage[]> {
    readOpts(opts, "since", "till", "threadId", "limit", "categories");
    const since = opts?.since === undefined ? null : date(opts.since, "since");
    const till = opts?.till === undefined ? null : date(opts.till, "till");
    const threadId = optId(opts?.threadId, "threadId");
    const categories =
      opts?.categories === undefined ? null : JSON.stringify(texts(opts.categories, "categories"));
    return this.read(
      chatId,
      opts,
      messages.since(since !== null, till !== null, threadId !== null),
      {
        chatId: id(chatId, "chatId"),
        ...boundParams("since", since),
        ...boundParams("till", till),
        threadId,
        categories,
        limit: opts?.limit === undefined ? -1 : limit(opts.limit, 0),
      },
    );
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * Replies under a root message, oldest first; optionally only one thread.
   */
  async getChatMessagesByRootId(
    chatId: number,
    rootMessageId: number | string,
    opts?: ReadOptions & { threadId?: number },
  ): Promise<ChatMessage[]> {
    return this.read(chatId, readOpts(opts, "threadId"), messages.byRoot, {
      chatId: id(chatId, "chatId"),
      rootMessageId: messageId(rootMessageId, "rootMessageId"),
      threadId: optId(opts?.threadId, "threadId"),
    });
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Resolves false when no such message.
   */
  async updateChatMessageCategory(
    chatId: number,
    msgId: number | string,
    category: string,
  ): Promise<boolean> {
    return this.write(chatId, messages.setCategory, {
      category: text(category, "category"),
      chatId: id(chatId, "chatId"),
      messageId: messageId(msgId),
    });
  }

  // ── Media groups, message metadata, threads and search (gromozeka's later methods) ──

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * The earliest message of an album (Telegram media group), optionally only in one thread; null
   * when none (also on a file before gromozeka 008, which has no albums).
   */
  async getFirstChatMessageByMediaGroupId(
    chatId: number,
    mediaGroupId: string,
    opts?: ReadOptions & { threadId?: number },
  ): Promise<ChatMessage | null> {
    return this.read(chatId, readOpts(opts, "threadId"), messages.byMediaGroup, {
      chatId: id(chatId, "chatId"),
      mediaGroupId: text(mediaGroupId, "mediaGroupId"),
      threadId: optId(opts?.threadId, "threadId"),
    });
  }

  /**
   * Reads the default source (or `opts.dataSource`); not routed by chat. The attachments of an
   * album (gromozeka 008's media_groups) that are stored, in the order they joined it.
   */
  async getMediaAttachmentsByGroupId(
    mediaGroupId: string,
    opts?: ReadOptions,
  ): Promise<MediaAttachment[]> {
    const params = { mediaGroupId: text(mediaGroupId, "mediaGroupId") };
    return this.read(undefined, readOpts(opts), media.byGroup, params);
  }

  /**
   * Writes to the default source (not routed by chat). Puts the attachment in the album; one
   * already there is left as it is. Resolves true either way (as gromozeka).
   */
  async ensureMediaInGroup(mediaGroupId: string, mediaId: string): Promise<boolean> {
    await this.write(undefined, media.ensureInGroup, {
      mediaGroupId: text(mediaGroupId, "mediaGroupId"),
      mediaId: text(mediaId, "mediaId"),
      now: nowDb(),
    });
    return true;
  }

  /**
   * Reads the default source (or `opts.dataSource`); not routed by chat. When the album last
   * gained an attachment (to tell when it is complete); null when it has none.
   */
  async getMediaGroupLastUpdatedAt(mediaGroupId: string, opts?: ReadOptions): Promise<Date | null> {
    const params = { mediaGroupId: text(mediaGroupId, "mediaGroupId") };
    return this.read(undefined, readOpts(opts), media.groupUpdatedAt, params);
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Replaces the message's metadata text; resolves false when no such message.
   */
  async updateChatMessageMetadata(
    chatId: number,
    msgId: number | string,
    metadata: string,
  ): Promise<boolean> {
    return this.write(chatId, messages.setMetadata, {
      metadata: text(metadata, "metadata"),
      chatId: id(chatId, "chatId"),
      messageId: messageId(msgId),
    });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * The message, its thread's root and every reply under that root (the message among them);
   * a message that is itself a root is its whole thread. Null when no such message.
   */
  async getMessageThread(
    chatId: number,
    msgId: number | string,
    opts?: ReadOptions,
  ): Promise<MessageThread | null> {
    const read = { dataSource: readOpts(opts)?.dataSource };
    const target = await this.getChatMessageByMessageId(chatId, msgId, read);
    if (target === null) return null;
    const rootId = target.rootMessageId;
    if (rootId === null)
      return { rootMessage: null, targetMessage: target, threadMessages: [target] };
    return {
      rootMessage: await this.getChatMessageByMessageId(chatId, rootId, read),
      targetMessage: target,
      threadMessages: await this.getChatMessagesByRootId(chatId, rootId, read),
    };
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * Without a query embedding: the chat's messages that pass the filters, newest first, score 0.
   * With one: the candidates are the newest `maxMessages` messages `modelName` embedded (gromozeka
   * 017's message_embeddings) that pass the filters; the `topK` most cosine-similar are kept, most
   * similar first, then at most `limit`. No model: no result.
   */
  async searchChatMessages(
    chatId: number,
    queryEmbedding: readonly number[] | null,
    opts?: SearchOptions,
  ): Promise<ScoredChatMessage[]> {
    const query = queryEmbedding === null ? null : nums(queryEmbedding, "queryEmbedding");
    options(opts, [
      "dataSource",
      "limit",
      "topK",
      "userFilter",
      "categoryFilter",
      "maxAgeDays",
      "rootMessageId",
      "modelName",
      "maxMessages",
    ]);
    const days = opts?.maxAgeDays === undefined ? null : num(opts.maxAgeDays, "maxAgeDays");
    const max = opts?.limit === null ? -1 : limit(opts?.limit, 10);
    const filters = {
      chatId: id(chatId, "chatId"),
      userId: optId(opts?.userFilter, "userFilter"),
      rootMessageId: optMessageId(opts?.rootMessageId, "rootMessageId"),
      categories:
        opts?.categoryFilter === undefined
          ? null
          : JSON.stringify(texts(opts.categoryFilter, "categoryFilter")),
      ...boundParams("cutoff", days === null ? null : new Date(Date.now() - days * 86_400_000)),
    };
    if (query === null) {
      const rows = await this.read(chatId, opts, messages.search, { ...filters, limit: max });
      return rows.map((m) => ({ ...m, score: 0 }));
    }
    const topK = limit(opts?.topK, 100, "topK");
    const model = optText(opts?.modelName, "modelName");
    const maxMessages = limit(opts?.maxMessages, -1, "maxMessages");
    if (model === null) return [];
    const candidates = await this.read(chatId, opts, messages.embedded, {
      ...filters,
      limit: -1,
      model,
      maxMessages,
    });
    return rankBySimilarity(query, candidates, topK, max);
  }

  // ── Chat users ───────────────────────────────────────────────────────────

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Creates or renames the user; counters, metadata and spammer flag are kept.
   */
  async updateChatUser(
    chatId: number,
    userId: number,
    username: string,
    fullName: string,
  ): Promise<boolean> {
    return this.write(chatId, users.upsert, {
      chatId: id(chatId, "chatId"),
      userId: id(userId, "userId"),
      username: text(username, "username"),
      fullName: text(fullName, "fullName"),
      now: nowDb(),
    });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * One member of a chat, or null.
   */
  async getChatUser(chatId: number, userId: number, opts?: ReadOptions): Promise<ChatUser | null> {
    return this.read(chatId, readOpts(opts), users.get, member(chatId, userId));
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * Case-insensitive match, `lower(username) = lower(?)` (as gromozeka); the lowest user id wins.
   */
  async getChatUserByUsername(
    chatId: number,
    username: string,
    opts?: ReadOptions,
  ): Promise<ChatUser | null> {
    return this.read(chatId, readOpts(opts), users.byUsername, {
      chatId: id(chatId, "chatId"),
      username: text(username, "username"),
    });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * Most recently seen first, every user unless `limit` (no default, as gromozeka); only those
   * seen after `seenSince`, or within the last `lastActiveDays` days (which wins when both are
   * given, as gromozeka), and with at least `minMessages` messages.
   */
  async getChatUsers(
    chatId: number,
    opts?: ReadOptions & {
      limit?: number;
      seenSince?: Date;
      lastActiveDays?: number;
      minMessages?: number;
    },
  ): Promise<ChatUser[]> {
    readOpts(opts, "limit", "seenSince", "lastActiveDays", "minMessages");
    const given = opts?.seenSince === undefined ? null : date(opts.seenSince, "seenSince");
    const days =
      opts?.lastActiveDays === undefined ? null : num(opts.lastActiveDays, "lastActiveDays");
    const seenSince = days === null ? given : new Date(Date.now() - days * 86_400_000);
    return this.read(chatId, opts, users.list(seenSince !== null), {
      chatId: id(chatId, "chatId"),
      ...boundParams("seenSince", seenSince),
      minMessages:
        opts?.minMessages === undefined ? null : limit(opts.minMessages, 0, "minMessages"),
      limit: limit(opts?.limit, -1),
    });
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly.
   */
  async markUserIsSpammer(chatId: number, userId: number, isSpammer: boolean): Promise<boolean> {
    return this.write(chatId, users.setSpammer, {
      isSpammer: bool(isSpammer, "isSpammer"),
      now: nowDb(),
      ...member(chatId, userId),
    });
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly.
   */
  async updateUserMetadata(chatId: number, userId: number, metadata: string): Promise<boolean> {
    return this.write(chatId, users.setMetadata, {
      metadata: text(metadata, "metadata"),
      now: nowDb(),
      ...member(chatId, userId),
    });
  }

  /**
   * Reads every source (or only `opts.dataSource`) and merges; chats the user is in, over all
   * sources; deduplicated by chat id, home source wins.
   */
  async getUserChats(userId: number, opts?: AggregateOptions): Promise<ChatInfo[]> {
    return this.aggregate(users.chatsOf, { userId: id(userId, "userId") }, aggOpts(opts), BY_CHAT);
  }

  /**
   * Reads every source (or only `opts.dataSource`) and merges; every group and supergroup, over all
   * sources; deduplicated by chat id, home source wins.
   */
  async getAllGroupChats(opts?: AggregateOptions): Promise<ChatInfo[]> {
    return this.aggregate(chats.groups, {}, aggOpts(opts), BY_CHAT);
  }

  // ── User data (note: userId first, as gromozeka) ─────────────────────────

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Upsert of one key.
   */
  async addUserData(userId: number, chatId: number, key: string, data: string): Promise<boolean> {
    return this.write(chatId, userData.set, {
      ...userChat(userId, chatId),
      key: text(key, "key"),
      data: text(data, "data"),
      now: nowDb(),
    });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * The user's stored data in the chat, key → data.
   */
  async getUserData(
    userId: number,
    chatId: number,
    opts?: ReadOptions,
  ): Promise<Record<string, string>> {
    return this.read(chatId, readOpts(opts), userData.all, userChat(userId, chatId));
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Removes one key; false when it was not there.
   */
  async deleteUserData(userId: number, chatId: number, key: string): Promise<boolean> {
    const params = { ...userChat(userId, chatId), key: text(key, "key") };
    return this.write(chatId, userData.delete, params);
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Removes every key of the user in the chat.
   */
  async clearUserData(userId: number, chatId: number): Promise<boolean> {
    return this.write(chatId, userData.clear, userChat(userId, chatId));
  }

  // ── Chat settings ────────────────────────────────────────────────────────

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. A true upsert: created_at is kept (gromozeka's INSERT OR REPLACE reset it).
   */
  async setChatSetting(
    chatId: number,
    key: string,
    value: string,
    updatedBy = 0,
  ): Promise<boolean> {
    return this.write(chatId, chatSettings.set, {
      ...chatKey(chatId, key),
      value: text(value, "value"),
      updatedBy: id(updatedBy, "updatedBy"),
      now: nowDb(),
    });
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Removes one setting; false when it was not there.
   */
  async unsetChatSetting(chatId: number, key: string): Promise<boolean> {
    return this.write(chatId, chatSettings.unset, chatKey(chatId, key));
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Removes every setting of the chat.
   */
  async clearChatSettings(chatId: number): Promise<boolean> {
    return this.write(chatId, chatSettings.clear, { chatId: id(chatId, "chatId") });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * One chat setting, or null.
   */
  async getChatSetting(chatId: number, key: string, opts?: ReadOptions): Promise<string | null> {
    return this.read(chatId, readOpts(opts), chatSettings.get, chatKey(chatId, key));
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * Every setting of the chat, key → value.
   */
  async getChatSettings(chatId: number, opts?: ReadOptions): Promise<Record<string, string>> {
    return this.read(chatId, readOpts(opts), chatSettings.all, { chatId: id(chatId, "chatId") });
  }

  // ── Chat info and topics ─────────────────────────────────────────────────

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Overwrites type, title, username and isForum (absent → null / false); keeps
   * createdAt.
   */
  async updateChatInfo(chatId: number, info: ChatInfoUpdate): Promise<boolean> {
    return this.write(chatId, chats.upsertInfo, {
      chatId: id(chatId, "chatId"),
      type: text(info?.type, "info.type"),
      title: optText(info.title, "info.title"),
      username: optText(info.username, "info.username"),
      isForum: bool(info.isForum ?? false, "info.isForum"),
      now: nowDb(),
    });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * The chat's info, or null.
   */
  async getChatInfo(chatId: number, opts?: ReadOptions): Promise<ChatInfo | null> {
    return this.read(chatId, readOpts(opts), chats.info, { chatId: id(chatId, "chatId") });
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Upsert of one topic; the name defaults to "Default".
   */
  async updateChatTopicInfo(
    chatId: number,
    topicId: number,
    fields: ChatTopicUpdate = {},
  ): Promise<boolean> {
    const topic = record(fields, "topic");
    return this.write(chatId, chats.upsertTopic, {
      chatId: id(chatId, "chatId"),
      topicId: id(topicId, "topicId"),
      iconColor: optId(topic.iconColor, "iconColor"),
      customEmojiId: optText(topic.customEmojiId, "customEmojiId"),
      name: optText(topic.name, "name") ?? "Default",
      now: nowDb(),
    });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * Ordered by topic id.
   */
  async getChatTopics(chatId: number, opts?: ReadOptions): Promise<ChatTopic[]> {
    return this.read(chatId, readOpts(opts), chats.topics, { chatId: id(chatId, "chatId") });
  }

  // ── Summarization cache ──────────────────────────────────────────────────

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Upsert by gromozeka's CSID; on conflict only the summary changes.
   */
  async addChatSummarization(s: SummarizationKey & { summary: string }): Promise<boolean> {
    const k = summaryKey(s);
    const params = { ...k, summary: text(s.summary, "summary"), now: nowDb() };
    return this.write(k.chatId, summaries.upsert, params);
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * The summary stored for exactly this chat, topic, message range and prompt, or null.
   */
  async getChatSummarization(
    s: SummarizationKey,
    opts?: ReadOptions,
  ): Promise<ChatSummarization | null> {
    const k = summaryKey(s);
    return this.read(k.chatId, readOpts(opts), summaries.get, { csid: k.csid });
  }

  // ── Media attachments (default source) ───────────────────────────────────

  /**
   * Writes to the default source (not routed by chat). Insert-only: resolves false when the
   * fileUniqueId is already stored.
   */
  async addMediaAttachment(attachment: NewMediaAttachment): Promise<boolean> {
    const m = record(attachment, "m");
    return this.write(undefined, media.add, {
      fileUniqueId: text(m.fileUniqueId, "fileUniqueId"),
      fileId: text(m.fileId, "fileId"),
      fileSize: optId(m.fileSize, "fileSize"),
      mediaType: text(m.mediaType ?? "image", "mediaType"),
      metadata: text(m.metadata ?? "{}", "metadata"),
      status: text(m.status ?? "new", "status"),
      mimeType: optText(m.mimeType, "mimeType"),
      localUrl: optText(m.localUrl, "localUrl"),
      prompt: optText(m.prompt, "prompt"),
      description: optText(m.description, "description"),
      now: nowDb(),
    });
  }

  /**
   * Writes to the default source (not routed by chat). Sets the given fields (and updatedAt);
   * resolves false when no such attachment.
   */
  async updateMediaAttachment(
    fileUniqueId: string,
    update: MediaAttachmentUpdate,
  ): Promise<boolean> {
    const f = record(update, "fields");
    // a field given is checked (null is refused, as any other wrong type); one absent is kept
    const given = <T>(v: unknown, check: (v: unknown, name: string) => T, name: string) =>
      v === undefined ? null : check(v, name);
    return this.write(undefined, media.update, {
      fileSize: given(f.fileSize, id, "fileSize"),
      status: given(f.status, text, "status"),
      metadata: given(f.metadata, text, "metadata"),
      mimeType: given(f.mimeType, text, "mimeType"),
      localUrl: given(f.localUrl, text, "localUrl"),
      description: given(f.description, text, "description"),
      prompt: given(f.prompt, text, "prompt"),
      now: nowDb(),
      fileUniqueId: text(fileUniqueId, "fileUniqueId"),
    });
  }

  /** Reads the default source (or `opts.dataSource`); not routed by chat. */
  async getMediaAttachment(
    fileUniqueId: string,
    opts?: ReadOptions,
  ): Promise<MediaAttachment | null> {
    const params = { fileUniqueId: text(fileUniqueId, "fileUniqueId") };
    return this.read(undefined, readOpts(opts), media.get, params);
  }

  // ── Delayed tasks (default source) ───────────────────────────────────────

  /**
   * Writes to the default source (not routed by chat). Insert-only: resolves false when the id
   * exists.
   */
  async addDelayedTask(
    taskId: string,
    fn: string,
    kwargs: string,
    delayedTs: number,
  ): Promise<boolean> {
    return this.write(undefined, tasks.add, {
      id: text(taskId, "taskId"),
      delayedTs: num(delayedTs, "delayedTs"),
      function: text(fn, "function"),
      kwargs: text(kwargs, "kwargs"),
      now: nowDb(),
    });
  }

  /** Writes to the default source (not routed by chat). */
  async updateDelayedTask(taskId: string, isDone: boolean): Promise<boolean> {
    return this.write(undefined, tasks.setDone, {
      id: text(taskId, "taskId"),
      isDone: bool(isDone, "isDone"),
      now: nowDb(),
    });
  }

  /**
   * Reads the default source (or `opts.dataSource`); not routed by chat. Tasks not done, by due
   * time.
   */
  async getPendingDelayedTasks(opts?: ReadOptions): Promise<DelayedTask[]> {
    return this.read(undefined, readOpts(opts), tasks.pending, {});
  }

  // ── Spam and ham ─────────────────────────────────────────────────────────

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Insert-only: resolves false for a duplicate (chatId, userId, messageId).
   */
  async addSpamMessage(s: NewSpamMessage): Promise<boolean> {
    return this.write(spamChat(s), spam.add, spamRow(s));
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. Same as addSpamMessage, into ham_messages.
   */
  async addHamMessage(s: NewSpamMessage): Promise<boolean> {
    return this.write(spamChat(s), ham.add, spamRow(s));
  }

  /**
   * Reads the default source (or `opts.dataSource`); not routed by chat. Case-insensitive text
   * match, as gromozeka (not aggregated, as gromozeka).
   */
  async getSpamMessagesByText(messageText: string, opts?: ReadOptions): Promise<SpamMessage[]> {
    return this.read(undefined, readOpts(opts), spam.byText, { text: text(messageText, "text") });
  }

  /**
   * Reads every source (or only `opts.dataSource`) and merges; newest first, at most `limit` (1000)
   * in all; deduplicated by (chat, user, message).
   */
  async getSpamMessages(opts?: AggregateOptions & { limit?: number }): Promise<SpamMessage[]> {
    const max = limit(aggOpts(opts, "limit")?.limit, 1000);
    return this.aggregate(spam.recent, { limit: max }, opts, {
      key: (s) => `${s.chatId}\u0000${s.userId}\u0000${s.messageId}`,
      home: (s, router) => router.home(s.chatId),
      // spam.recent's ORDER BY: created_at DESC, chat_id, user_id, message_id
      order: (a, b) =>
        time(b.createdAt) - time(a.createdAt) ||
        a.chatId - b.chatId ||
        a.userId - b.userId ||
        compareText(a.messageId, b.messageId),
      limit: max,
    });
  }

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly.
   */
  async deleteSpamMessagesByUserId(chatId: number, userId: number): Promise<boolean> {
    return this.write(chatId, spam.deleteByUser, member(chatId, userId));
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   */
  async getSpamMessagesByUserId(
    chatId: number,
    userId: number,
    opts?: ReadOptions,
  ): Promise<SpamMessage[]> {
    return this.read(chatId, readOpts(opts), spam.byUser, member(chatId, userId));
  }

  // ── Cache storage and typed caches ───────────────────────────────────────

  /**
   * Reads every source (or only `opts.dataSource`) and merges; every (namespace, key) over all
   * sources; the default source's copy wins.
   */
  async getCacheStorage(opts?: AggregateOptions): Promise<CacheStorageEntry[]> {
    return this.aggregate(cacheStorage.all, {}, aggOpts(opts), {
      key: (e) => `${e.namespace}\u0000${e.key}`,
      home: (_, router) => router.config.defaultSource,
      // cacheStorage.all's ORDER BY: updated_at DESC, namespace, key
      order: (a, b) =>
        time(b.updatedAt) - time(a.updatedAt) ||
        compareText(a.namespace, b.namespace) ||
        compareText(a.key, b.key),
    });
  }

  /**
   * One cache-storage entry by namespace and key, from the default source (or `dataSource`):
   * a single primary-key lookup, not the whole table. Null when absent.
   */
  async getCacheStorageEntry(
    namespace: string,
    key: string,
    opts?: ReadOptions,
  ): Promise<CacheStorageEntry | null> {
    return this.read(undefined, readOpts(opts), cacheStorage.get, storageKey(namespace, key));
  }

  /**
   * The keys of one cache-storage namespace, in key order, from the default source (or
   * `dataSource`).
   */
  async getCacheStorageKeys(namespace: string, opts?: ReadOptions): Promise<string[]> {
    const params = { namespace: text(namespace, "namespace") };
    return this.read(undefined, readOpts(opts), cacheStorage.keys, params);
  }

  /** Writes to the default source (not routed by chat). Upsert. */
  async setCacheStorage(namespace: string, key: string, value: string): Promise<boolean> {
    return this.write(undefined, cacheStorage.set, {
      ...storageKey(namespace, key),
      value: text(value, "value"),
      now: nowDb(),
    });
  }

  /** Writes to the default source (not routed by chat). */
  async unsetCacheStorage(namespace: string, key: string): Promise<boolean> {
    return this.write(undefined, cacheStorage.unset, storageKey(namespace, key));
  }

  /**
   * The first live entry: default source first, then config order. `ttl` seconds: entries
   * older are ignored; `ttl <= 0` always misses; absent = no expiry.
   */
  async getCacheEntry(
    key: string,
    cacheType: string,
    opts?: AggregateOptions & { ttl?: number },
  ): Promise<CacheEntry | null> {
    aggOpts(opts, "ttl");
    const cache = cacheOf(cacheType);
    const ttl = opts?.ttl === undefined ? undefined : num(opts.ttl, "ttl");
    text(key, "key");
    if (ttl !== undefined && ttl <= 0) return null;
    const notBefore = ttl === undefined ? null : new Date(Date.now() - ttl * 1000);
    return this.firstMatch(cache.get, { key, ...boundParams("notBefore", notBefore) }, opts);
  }

  /** Writes to the default source (not routed by chat). Upsert. */
  async setCacheEntry(key: string, data: string, cacheType: string): Promise<boolean> {
    return this.write(undefined, cacheOf(cacheType).set, {
      key: text(key, "key"),
      data: text(data, "data"),
      now: nowDb(),
    });
  }

  /**
   * Writes to the default source (not routed by chat). Deletes every entry of the type; resolves
   * true when any was deleted.
   */
  async clearCache(cacheType: string): Promise<boolean> {
    return this.write(undefined, cacheOf(cacheType).clear, {});
  }

  // ── gromozeka's later methods: cleanup, lookups over every source ─────────

  /**
   * Writes to the default source (not routed by chat). Deletes the done delayed tasks last
   * updated more than `ttl` seconds ago (`ttl` null or 0: every done task), as gromozeka's
   * cleanupOldCompletedDelayedTasks; pending tasks are never touched. Resolves true when any
   * was deleted (gromozeka: true unless the statement failed; chatdb rejects then).
   */
  async cleanupOldCompletedDelayedTasks(ttl: number | null = null): Promise<boolean> {
    return this.write(undefined, tasks.cleanupDone, boundParams("before", olderThan(ttl)));
  }

  /**
   * Writes to the default source (not routed by chat). Deletes the typed-cache entries last
   * updated more than `ttl` seconds ago (`ttl` null or 0: every entry), of `cacheType` or of
   * every type, as gromozeka's clearOldCacheEntries. Resolves true when any was deleted.
   */
  async clearOldCacheEntries(ttl: number | null = null, cacheType?: string): Promise<boolean> {
    const before = boundParams("before", olderThan(ttl));
    if (cacheType === undefined) return this.write(undefined, oldCacheEntries.clearOld, before);
    cacheOf(cacheType);
    return this.write(undefined, oldCacheEntries.clearOldOf, { ...before, namespace: cacheType });
  }

  /**
   * Reads every source (or only `opts.dataSource`) and merges; the ids of the users whose
   * private chat has this username, case-insensitively (gromozeka's getUserIdByUserName reads
   * chat_info, where a private chat's id is the user's), by id; deduplicated by id, the chat's
   * home source wins.
   */
  async getUserIdByUserName(username: string, opts?: AggregateOptions): Promise<UserIdMatch[]> {
    const params = { username: text(username, "username") };
    return this.aggregate(userIds.byUsername, params, aggOpts(opts), {
      key: (m) => m.userId,
      home: (m, router) => router.home(m.userId),
      order: (a, b) => a.userId - b.userId,
    });
  }

  /**
   * Reads every source (or only `opts.dataSource`) and merges; every chat that has the setting
   * `key` (non-null), with its value, by chat id, as gromozeka's listChatsBySetting (which
   * returns chatId → value); deduplicated by chat id, the chat's home source wins (gromozeka: the
   * first source in config order).
   */
  async listChatsBySetting(key: string, opts?: AggregateOptions): Promise<ChatSettingMatch[]> {
    return this.aggregate(chatSettings.chatsWith, { key: text(key, "key") }, aggOpts(opts), {
      key: (m) => m.chatId,
      home: (m, router) => router.home(m.chatId),
      order: (a, b) => a.chatId - b.chatId,
    });
  }

  /**
   * Reads the default source (or `opts.dataSource`); not routed by chat. Same as
   * getSpamMessagesByText, from ham_messages: whole text, case-insensitive.
   */
  async getHamMessagesByText(messageText: string, opts?: ReadOptions): Promise<SpamMessage[]> {
    return this.read(undefined, readOpts(opts), ham.byText, { text: text(messageText, "text") });
  }

  // ── Divinations (gromozeka 014/015) ──────────────────────────────────────

  /**
   * Writes to the chat's source (chat_mapping, else the default); refused with READONLY_SOURCE
   * there if readonly. gromozeka's insertReading: one reading per (chat, message), insert-only,
   * so a second one for the same message resolves false. `drawsJson` as a list is stored as JSON.
   */
  async insertDivinationReading(reading: NewDivinationReading): Promise<boolean> {
    const r = record(reading, "reading");
    const chatId = id(r.chatId, "chatId");
    const draws = r.drawsJson;
    return this.write(chatId, divinations.insertReading, {
      chatId,
      messageId: messageId(r.messageId),
      userId: id(r.userId, "userId"),
      systemId: text(r.systemId, "systemId"),
      deckId: text(r.deckId, "deckId"),
      layoutId: text(r.layoutId, "layoutId"),
      question: text(r.question, "question"),
      drawsJson: Array.isArray(draws)
        ? text(JSON.stringify(draws.map((d, i) => record(d, `drawsJson[${i}]`))), "drawsJson")
        : text(draws, "drawsJson"),
      interpretation: text(r.interpretation, "interpretation"),
      imagePrompt: optText(r.imagePrompt, "imagePrompt"),
      invokedVia: text(r.invokedVia, "invokedVia"),
      now: nowDb(),
    });
  }

  /**
   * Reads the chat's source (an explicit `dataSource` wins, then chat_mapping, then the default).
   * The reading answering one message, or null (chatdb's own: gromozeka stores readings only).
   */
  async getDivinationReading(
    chatId: number,
    msgId: number | string,
    opts?: ReadOptions,
  ): Promise<DivinationReading | null> {
    const params = { chatId: id(chatId, "chatId"), messageId: messageId(msgId) };
    return this.read(chatId, readOpts(opts), divinations.reading, params);
  }

  /**
   * Reads the default source (or `opts.dataSource`); not routed by chat. gromozeka's getLayout:
   * for each name given (trimmed), then the same without what is between parentheses: the
   * system's layout whose id, English or Russian name is that name in any case, else one whose
   * id or names contain it (LIKE, its `%`/`_` as wildcards); the first found, or null. Ties:
   * the lowest layout id (gromozeka: whichever row comes first).
   */
  async getDivinationLayout(
    systemId: string,
    layoutName: string | readonly string[],
    opts?: ReadOptions,
  ): Promise<DivinationLayout | null> {
    readOpts(opts);
    const system = text(systemId, "systemId");
    const names =
      typeof layoutName === "string"
        ? [text(layoutName, "layoutName")]
        : texts(layoutName, "layoutName");
    if (names.length === 0) text(undefined, "layoutName");
    const variants: string[] = [];
    for (const name of names) {
      variants.push(name.trim());
      const bare = name.replace(/\(.*\)/g, "");
      if (bare !== name) variants.push(bare.trim());
    }
    for (const name of variants) {
      const exact = await this.read(undefined, opts, divinations.layoutExact, {
        systemId: system,
        name,
      });
      if (exact !== null) return exact;
      // SQLite refuses a LIKE pattern over 50,000 bytes (gromozeka's call then finds nothing)
      if (Buffer.byteLength(name) > LIKE_PATTERN_MAX - 2) continue;
      const near = await this.read(undefined, opts, divinations.layoutLike, {
        systemId: system,
        name: `%${name}%`,
      });
      if (near !== null) return near;
    }
    return null;
  }

  /**
   * Writes to the default source (not routed by chat). gromozeka's saveLayout: an upsert by
   * (systemId, layoutId), every field replaced but createdAt.
   */
  async saveDivinationLayout(layout: DivinationLayoutInput): Promise<boolean> {
    const l = record(layout, "layout");
    return this.write(undefined, divinations.saveLayout, {
      systemId: text(l.systemId, "systemId"),
      layoutId: text(l.layoutId, "layoutId"),
      nameEn: text(l.nameEn, "nameEn"),
      nameRu: text(l.nameRu, "nameRu"),
      nSymbols: id(l.nSymbols, "nSymbols"),
      positions: JSON.stringify(texts(l.positions, "positions")),
      description: optText(l.description, "description"),
      now: nowDb(),
    });
  }

  /**
   * Writes to the default source (not routed by chat). gromozeka's saveNegativeCache: records
   * that the layout does not exist (empty names, no symbols; see isNegativeDivinationLayout);
   * a layout already stored, real or not, only gets a new updatedAt.
   */
  async saveDivinationNegativeCache(systemId: string, layoutId: string): Promise<boolean> {
    return this.write(undefined, divinations.saveNegative, {
      systemId: text(systemId, "systemId"),
      layoutId: text(layoutId, "layoutId"),
      now: nowDb(),
    });
  }

  // ── Stat events and aggregates (gromozeka 016, its DatabaseStatsStorage) ──

  /**
   * Writes to the default source (not routed by chat). gromozeka's record: appends one
   * unprocessed event of `eventType` with the metric values `metrics` (non-finite ones are kept,
   * written as Python writes them, and skipped when aggregated), its `labels` plus `consumer`
   * (`consumerId`, or `__global__`), at `eventTime` (now). Labels and data are stored as
   * canonical JSON (sorted keys, compact), as gromozeka's jsonDumps.
   */
  async recordStatEvent(
    eventType: string,
    metrics: Record<string, number>,
    opts?: { consumerId?: string; labels?: Record<string, string>; eventTime?: Date },
  ): Promise<boolean> {
    options(opts, ["consumerId", "labels", "eventTime"]);
    const data = record(metrics, "metrics");
    const values = Object.keys(data)
      .sort()
      .map((k) => {
        const v = data[k];
        if (typeof v !== "number") num(v, `metrics.${k}`);
        return `${JSON.stringify(text(k, "metrics key"))}:${pythonNumber(v as number)}`;
      });
    const labels: Record<string, string> = {};
    const given = opts?.labels === undefined ? {} : record(opts.labels, "labels");
    if (Array.isArray(given)) {
      throw new DatabaseError(
        "INVALID_ARGUMENT",
        "labels: expected an object of strings, got a list",
      );
    }
    for (const [k, v] of Object.entries(given)) labels[k] = text(v, `labels.${k}`);
    labels.consumer =
      opts?.consumerId === undefined ? GLOBAL_CONSUMER : text(opts.consumerId, "consumerId");
    const now = nowDb();
    return this.write(undefined, stats.record, {
      eventId: crypto.randomUUID(),
      eventType: text(eventType, "eventType"),
      eventTime: opts?.eventTime === undefined ? now : toDbTime(date(opts.eventTime, "eventTime")),
      data: `{${values.join(",")}}`,
      labels: canonicalJson(labels),
      now,
    });
  }

  /**
   * Writes to the default source (not routed by chat). gromozeka's aggregate: claims up to
   * `limit` (1000) unprocessed events of `eventType`, oldest first, with those claimed more
   * than `orphanTimeoutSeconds` (3600) ago by a run that did not finish; adds their finite
   * values to the hourly, daily, monthly and total sums of their label set and of its global
   * rollup (`consumer` = `__global__`); marks them processed. The sums and the mark are one
   * transaction (gromozeka: separate statements). Resolves to the number of events claimed.
   */
  async aggregateStatEvents(
    eventType: string,
    opts?: { limit?: number; orphanTimeoutSeconds?: number },
  ): Promise<number> {
    options(opts, ["limit", "orphanTimeoutSeconds"]);
    const type = text(eventType, "eventType");
    const max = limit(opts?.limit, 1000);
    const timeout =
      opts?.orphanTimeoutSeconds === undefined
        ? 3600
        : num(opts.orphanTimeoutSeconds, "orphanTimeoutSeconds");
    const batchId = crypto.randomUUID();
    const nowMs = Date.now();
    const now = toDbTime(new Date(nowMs));
    await this.write(undefined, stats.claim, {
      batchId,
      eventType: type,
      now,
      limit: max,
      ...boundParams("orphan", new Date(nowMs - timeout * 1000)),
    });
    const events = await this.read(undefined, undefined, stats.claimed, { batchId });
    if (events.length === 0) return 0;
    const sums = new Map<string, [string, string, string, string, string, string, number]>();
    for (const event of events) {
      const labels = canonicalJson(event.labels);
      const global = canonicalJson({ ...event.labels, consumer: GLOBAL_CONSUMER });
      const when = event.eventTime ?? new Date(0);
      for (const [periodType, start] of periods(when)) {
        for (const [key, raw] of Object.entries(event.data)) {
          const value = typeof raw === "number" ? raw : Number(raw);
          if (!Number.isFinite(value)) continue;
          for (const set of [labels, global]) {
            const hash = createHash("md5").update(set).digest("hex");
            const k = JSON.stringify([start, periodType, hash, key]);
            const row = sums.get(k);
            if (row) row[6] += value;
            else sums.set(k, [type, start, periodType, hash, set, key, value]);
          }
        }
      }
    }
    await this.write(undefined, stats.finish, {
      batchId,
      rows: JSON.stringify([...sums.values()]),
      now,
    });
    return events.length;
  }

  /**
   * Reads the default source (or `opts.dataSource`); not routed by chat. The sums of
   * `eventType`, optionally of one `periodType` and one `metricKey`, by period type, start,
   * labels and metric (chatdb's: gromozeka reads them with its own SQL).
   */
  async getStatAggregates(
    eventType: string,
    opts?: ReadOptions & { periodType?: StatAggregate["periodType"]; metricKey?: string },
  ): Promise<StatAggregate[]> {
    return this.read(undefined, readOpts(opts, "periodType", "metricKey"), stats.aggregates, {
      eventType: text(eventType, "eventType"),
      periodType: optText(opts?.periodType, "periodType"),
      metricKey: optText(opts?.metricKey, "metricKey"),
    });
  }
}
