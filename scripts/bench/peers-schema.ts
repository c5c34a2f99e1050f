/**
 * chatdb's tables (gromozeka's schema 018) as a Drizzle schema and a Kysely database type,
 * written the way their docs show them, for the peers bench. Timestamps are the stored text
 * (neither library parses chatdb's "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00" into a Date by itself).
 */

import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Generated } from "kysely";

export const chatMessages = sqliteTable(
  "chat_messages",
  {
    chatId: integer("chat_id").notNull(),
    messageId: text("message_id").notNull(),
    date: text("date").notNull(),
    userId: integer("user_id").notNull(),
    replyId: text("reply_id"),
    threadId: integer("thread_id").notNull().default(0),
    rootMessageId: text("root_message_id"),
    messageText: text("message_text").notNull(),
    messageType: text("message_type").notNull().default("text"),
    messageCategory: text("message_category").notNull().default("user"),
    quoteText: text("quote_text"),
    mediaId: text("media_id"),
    mediaGroupId: text("media_group_id"),
    markup: text("markup").notNull().default(""),
    metadata: text("metadata").notNull().default(""),
    createdAt: text("created_at"),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.messageId] })],
);

export const chatUsers = sqliteTable(
  "chat_users",
  {
    chatId: integer("chat_id").notNull(),
    userId: integer("user_id").notNull(),
    username: text("username").notNull(),
    fullName: text("full_name").notNull(),
    timezone: text("timezone"),
    messagesCount: integer("messages_count").notNull().default(0),
    metadata: text("metadata").notNull().default(""),
    createdAt: text("created_at"),
    updatedAt: text("updated_at"),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.userId] })],
);

export const chatInfo = sqliteTable("chat_info", {
  chatId: integer("chat_id").primaryKey(),
  title: text("title"),
  username: text("username"),
  type: text("type").notNull(),
  isForum: integer("is_forum", { mode: "boolean" }).notNull().default(false),
  createdAt: text("created_at"),
  updatedAt: text("updated_at"),
});

export const chatSettings = sqliteTable(
  "chat_settings",
  {
    chatId: integer("chat_id").notNull(),
    key: text("key").notNull(),
    value: text("value"),
    createdAt: text("created_at"),
    updatedAt: text("updated_at"),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.key] })],
);

export const chatStats = sqliteTable(
  "chat_stats",
  {
    chatId: integer("chat_id").notNull(),
    date: text("date").notNull(),
    messagesCount: integer("messages_count").notNull().default(0),
    createdAt: text("created_at"),
    updatedAt: text("updated_at"),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.date] })],
);

export const chatUserStats = sqliteTable(
  "chat_user_stats",
  {
    chatId: integer("chat_id").notNull(),
    userId: integer("user_id").notNull(),
    date: text("date").notNull(),
    messagesCount: integer("messages_count").notNull().default(0),
    createdAt: text("created_at"),
    updatedAt: text("updated_at"),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.userId, t.date] })],
);

// Kysely: the same tables as types (see kysely.dev "Getting started").
interface ChatMessagesTable {
  chat_id: number;
  message_id: string;
  date: string;
  user_id: number;
  reply_id: string | null;
  thread_id: Generated<number>;
  root_message_id: string | null;
  message_text: string;
  message_type: Generated<string>;
  message_category: Generated<string>;
  quote_text: string | null;
  media_id: string | null;
  media_group_id: string | null;
  markup: Generated<string>;
  metadata: Generated<string>;
  created_at: string | null;
}
interface ChatUsersTable {
  chat_id: number;
  user_id: number;
  username: string;
  full_name: string;
  timezone: string | null;
  messages_count: Generated<number>;
  metadata: Generated<string>;
  created_at: string | null;
  updated_at: string | null;
}
interface ChatInfoTable {
  chat_id: number;
  title: string | null;
  username: string | null;
  type: string;
  is_forum: Generated<number>;
  created_at: string | null;
  updated_at: string | null;
}
interface ChatSettingsTable {
  chat_id: number;
  key: string;
  value: string | null;
  created_at: string | null;
  updated_at: string | null;
}
interface ChatStatsTable {
  chat_id: number;
  date: string;
  messages_count: number;
  created_at: string | null;
  updated_at: string | null;
}
interface ChatUserStatsTable extends ChatStatsTable {
  user_id: number;
}
export interface KyselyDb {
  chat_messages: ChatMessagesTable;
  chat_users: ChatUsersTable;
  chat_info: ChatInfoTable;
  chat_settings: ChatSettingsTable;
  chat_stats: ChatStatsTable;
  chat_user_stats: ChatUserStatsTable;
}
