/** Public record and option types. Every record carries `dataSource`: the source that served it. */

/** Options every read takes: `dataSource` overrides routing. */
export interface ReadOptions {
  dataSource?: string | undefined;
}

/** Cross-chat reads: `strict` makes a failing source fatal instead of skipped. */
export interface AggregateOptions extends ReadOptions {
  strict?: boolean | undefined;
}

/** A stored chat message, with its author's username and full name from the same source. */
export interface ChatMessage {
  chatId: number;
  /** Stored as TEXT, as gromozeka does. */
  messageId: string;
  date: Date;
  userId: number;
  replyId: string | null;
  threadId: number;
  rootMessageId: string | null;
  messageText: string;
  messageType: string;
  messageCategory: string;
  quoteText: string | null;
  mediaId: string | null;
  /** The album (Telegram media group) the message belongs to; null when none, or before gromozeka 008. */
  mediaGroupId: string | null;
  /** The message's reply markup as gromozeka stores it (JSON text, "" when none); null before 007. */
  markup: string | null;
  /** gromozeka's per-message metadata (JSON text, "" when none); null before 007. */
  metadata: string | null;
  createdAt: Date | null;
  /** From the author's chat_users row in the same source; null when there is none. */
  username: string | null;
  fullName: string | null;
  dataSource: string;
}

/** `getMessageThread`'s answer: the message, its thread's root and the replies under that root. */
export interface MessageThread {
  /** The thread's root; null when the message is itself a root (or its root is not stored). */
  rootMessage: ChatMessage | null;
  targetMessage: ChatMessage;
  /** The replies under the root, oldest first (the target among them, the root not); [target] when it is a root. */
  threadMessages: ChatMessage[];
}

/** A `searchChatMessages` hit: the message and its cosine similarity to the query (0 without one). */
export interface ScoredChatMessage extends ChatMessage {
  score: number;
}

/** `searchChatMessages`' filters and, with a query embedding, its ranking (gromozeka's names). */
export interface SearchOptions extends ReadOptions {
  /** At most this many results (10); null: no cap. */
  limit?: number | null | undefined;
  /** With an embedding: how many of the most similar are kept before `limit` (100). */
  topK?: number | undefined;
  /** Only this author's messages. */
  userFilter?: number | undefined;
  /** Only messages in one of these categories (an empty list matches nothing). */
  categoryFilter?: readonly string[] | undefined;
  /** Only messages newer than this many days. */
  maxAgeDays?: number | undefined;
  /** Only the replies under this root. */
  rootMessageId?: number | string | undefined;
  /** With an embedding: the model whose stored embeddings are compared (none: no result). */
  modelName?: string | undefined;
  /** With an embedding: only the newest this many embedded messages are candidates. */
  maxMessages?: number | undefined;
}

/** What `saveChatMessage` takes; absent optional fields are stored as gromozeka's defaults (type "text", category "user", thread 0). */
export interface NewChatMessage {
  date: Date;
  chatId: number;
  userId: number;
  messageId: number | string;
  messageText?: string;
  replyId?: number | string | null;
  threadId?: number | null;
  messageType?: string;
  messageCategory?: string;
  rootMessageId?: number | string | null;
  quoteText?: string | null;
  mediaId?: string | null;
  /** The album (media group) id, as gromozeka stores it. */
  mediaGroupId?: string | null;
  /** Reply markup, JSON text (default ""). */
  markup?: string;
  /** Per-message metadata, JSON text (default ""). */
  metadata?: string;
}

/** A member of a chat, with the per-chat message counter `saveChatMessage` keeps. */
export interface ChatUser {
  chatId: number;
  userId: number;
  username: string;
  fullName: string;
  timezone: string | null;
  messagesCount: number;
  isSpammer: boolean;
  metadata: string;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

/** A chat: what `getChatInfo`, `getUserChats` and `getAllGroupChats` return. */
export interface ChatInfo {
  chatId: number;
  title: string | null;
  username: string | null;
  type: string;
  isForum: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

/** What `updateChatInfo` takes; it overwrites all four fields (absent → null / false). */
export interface ChatInfoUpdate {
  type: string;
  title?: string | null;
  username?: string | null;
  isForum?: boolean;
}

/** A forum topic of a chat. */
export interface ChatTopic {
  chatId: number;
  topicId: number;
  iconColor: number | null;
  iconCustomEmojiId: string | null;
  name: string | null;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

/** What `updateChatTopicInfo` takes. */
export interface ChatTopicUpdate {
  iconColor?: number | null;
  customEmojiId?: string | null;
  /** Default "Default", as gromozeka. */
  name?: string | null;
}

/** Identifies a cached summary: chat, topic, message range and prompt. */
export interface SummarizationKey {
  chatId: number;
  topicId: number | null;
  firstMessageId: number | string;
  lastMessageId: number | string;
  prompt: string;
}

/** A cached summary of a range of messages. */
export interface ChatSummarization {
  csid: string;
  chatId: number;
  topicId: number | null;
  firstMessageId: string;
  lastMessageId: string;
  prompt: string;
  summary: string;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

/** A stored media file's metadata, keyed by Telegram's `fileUniqueId` (default source). */
export interface MediaAttachment {
  fileUniqueId: string;
  fileId: string | null;
  fileSize: number | null;
  mediaType: string;
  metadata: string;
  status: string;
  mimeType: string | null;
  localUrl: string | null;
  prompt: string | null;
  description: string | null;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

/** What `addMediaAttachment` takes. */
export interface NewMediaAttachment {
  fileUniqueId: string;
  fileId: string;
  fileSize?: number | null;
  /** Default "image". */
  mediaType?: string;
  mimeType?: string | null;
  /** Default "{}". */
  metadata?: string;
  /** Default "new". */
  status?: string;
  localUrl?: string | null;
  prompt?: string | null;
  description?: string | null;
}

/** Fields of a media attachment that can be changed; an absent field is left as it is. */
export interface MediaAttachmentUpdate {
  fileSize?: number;
  status?: string;
  metadata?: string;
  mimeType?: string;
  localUrl?: string;
  description?: string;
  prompt?: string;
}

/** A task scheduled for later (default source). */
export interface DelayedTask {
  id: string;
  delayedTs: number;
  function: string;
  kwargs: string;
  isDone: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

/** A message recorded as spam (or ham) with its reason and score. */
export interface SpamMessage {
  chatId: number;
  userId: number;
  messageId: string;
  text: string;
  reason: string;
  score: number;
  /** How sure the classifier was (gromozeka 011+; 1.0 by default); null before. */
  confidence: number | null;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

/** What `addSpamMessage` and `addHamMessage` take. */
export interface NewSpamMessage {
  chatId: number;
  userId: number;
  messageId: number | string;
  text: string;
  reason: string;
  score: number;
  /** How sure the classifier was, as gromozeka's `confidence` (default 1.0). */
  confidence?: number;
}

/** One `(namespace, key)` value of the generic cache storage. */
export interface CacheStorageEntry {
  namespace: string;
  key: string;
  value: string;
  updatedAt: Date | null;
  dataSource: string;
}

/** One entry of a typed cache table (see `CACHE_TYPES`). */
export interface CacheEntry {
  key: string;
  data: string;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

/** A user id found by `getUserIdByUserName`, and the source it came from. */
export interface UserIdMatch {
  userId: number;
  dataSource: string;
}

/** A chat that has a setting, from `listChatsBySetting`: the stored value and its source. */
export interface ChatSettingMatch {
  chatId: number;
  value: string;
  dataSource: string;
}

/** What `insertDivinationReading` takes (gromozeka's insertReading). */
export interface NewDivinationReading {
  chatId: number;
  /** The user's command message the reading answers. */
  messageId: number | string;
  userId: number;
  /** "tarot" or "runes". */
  systemId: string;
  deckId: string;
  layoutId: string;
  question: string;
  /** The drawn symbols: JSON text, or a list of objects chatdb serializes. */
  drawsJson: string | readonly Record<string, unknown>[];
  interpretation: string;
  imagePrompt?: string | null;
  /** "command" or "llm_tool". */
  invokedVia: string;
}

/** A cached layout of a divination system (gromozeka's divination_layouts row). */
export interface DivinationLayout {
  systemId: string;
  layoutId: string;
  nameEn: string;
  nameRu: string;
  nSymbols: number;
  /** The stored JSON list ([] for the negative-cache entry). */
  positions: unknown[];
  description: string | null;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

/** What `saveDivinationLayout` takes. */
export interface DivinationLayoutInput {
  systemId: string;
  layoutId: string;
  nameEn: string;
  nameRu: string;
  nSymbols: number;
  /** The positions' names, stored as a JSON list. */
  positions: readonly string[];
  description?: string | null;
}

/** A stored divination reading (`getDivinationReading`). */
export interface DivinationReading {
  chatId: number;
  messageId: string;
  userId: number;
  systemId: string;
  deckId: string;
  layoutId: string;
  question: string;
  /** As stored: JSON text. */
  drawsJson: string;
  interpretation: string;
  imagePrompt: string | null;
  invokedVia: string;
  createdAt: Date | null;
  dataSource: string;
}

/** One sum of stat_aggregates: a metric over one period for one label set. */
export interface StatAggregate {
  eventType: string;
  /** The period's start, Python isoformat (`2024-06-15T14:00:00+00:00`; total: 1970-01-01). */
  periodStart: string;
  periodType: "hourly" | "daily" | "monthly" | "total";
  /** MD5 of `labels` as canonical JSON (sorted keys, compact), as gromozeka. */
  labelsHash: string;
  /** The label set, `consumer` included (`__global__` for the rollup over consumers). */
  labels: Record<string, string>;
  metricKey: string;
  metricValue: number;
  updatedAt: Date | null;
  dataSource: string;
}
