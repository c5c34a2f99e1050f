/** Public record and option types. Every record carries `dataSource`: the source that served it. */

/** Options every read takes: `dataSource` overrides routing. */
export interface ReadOptions {
  dataSource?: string | undefined;
}

/** Cross-chat reads: `strict` makes a failing source fatal instead of skipped. */
export interface AggregateOptions extends ReadOptions {
  strict?: boolean | undefined;
}

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
  createdAt: Date | null;
  /** From the author's chat_users row in the same source; null when there is none. */
  username: string | null;
  fullName: string | null;
  dataSource: string;
}

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
}

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

export interface ChatInfoUpdate {
  type: string;
  title?: string | null;
  username?: string | null;
  isForum?: boolean;
}

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

export interface ChatTopicUpdate {
  iconColor?: number | null;
  customEmojiId?: string | null;
  /** Default "Default", as gromozeka. */
  name?: string | null;
}

export interface SummarizationKey {
  chatId: number;
  topicId: number | null;
  firstMessageId: number | string;
  lastMessageId: number | string;
  prompt: string;
}

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

export interface SpamMessage {
  chatId: number;
  userId: number;
  messageId: string;
  text: string;
  reason: string;
  score: number;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}

export interface NewSpamMessage {
  chatId: number;
  userId: number;
  messageId: number | string;
  text: string;
  reason: string;
  score: number;
}

export interface CacheStorageEntry {
  namespace: string;
  key: string;
  value: string;
  updatedAt: Date | null;
  dataSource: string;
}

export interface CacheEntry {
  key: string;
  data: string;
  createdAt: Date | null;
  updatedAt: Date | null;
  dataSource: string;
}
