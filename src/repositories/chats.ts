/** chat_info and chat_topics. */
import { fromDbTime, toBool, toNum, toNumOrNull } from "../_internal/values.ts";
import { many, named, one, type Row, sql, write } from "../sources/query.ts";
import type { ChatInfo, ChatTopic, UserIdMatch } from "../types.ts";

export const CHAT_INFO_COLUMNS = [
  "chat_id",
  "title",
  "username",
  "type",
  "is_forum",
  "created_at",
  "updated_at",
];
const SELECT_INFO = `SELECT ${CHAT_INFO_COLUMNS.join(", ")} FROM chat_info`;

export function mapChatInfo(r: Row, dataSource: string): ChatInfo {
  return {
    chatId: toNum(r.chat_id),
    title: r.title as string | null,
    username: r.username as string | null,
    type: r.type as string,
    isForum: toBool(r.is_forum),
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

export function mapTopic(r: Row, dataSource: string): ChatTopic {
  return {
    chatId: toNum(r.chat_id),
    topicId: toNum(r.topic_id),
    iconColor: toNumOrNull(r.icon_color),
    iconCustomEmojiId: r.icon_custom_emoji_id as string | null,
    name: r.name as string | null,
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

export const chats = named("chats", {
  info: one(
    (p: { chatId: number }) => sql`${SELECT_INFO} WHERE chat_id = ${p.chatId}`,
    mapChatInfo,
  ),
  groups: many(
    `${SELECT_INFO} WHERE type IN ('group', 'supergroup') ORDER BY chat_id`,
    mapChatInfo,
  ),
  /** Overwrites type, title, username and is_forum, keeps created_at. */
  upsertInfo: write(
    (p: {
      chatId: number;
      type: string;
      title: string | null;
      username: string | null;
      isForum: boolean;
      now: string;
    }) => sql`INSERT INTO chat_info (chat_id, type, title, username, is_forum, created_at, updated_at)
    VALUES (${p.chatId}, ${p.type}, ${p.title}, ${p.username}, ${p.isForum}, ${p.now}, ${p.now})
    ON CONFLICT (chat_id) DO UPDATE SET type = excluded.type, title = excluded.title,
    username = excluded.username, is_forum = excluded.is_forum, updated_at = excluded.updated_at`,
  ),
  topics: many(
    (p: { chatId: number }) =>
      sql`SELECT chat_id, topic_id, icon_color, icon_custom_emoji_id, name, created_at, updated_at
      FROM chat_topics WHERE chat_id = ${p.chatId} ORDER BY topic_id`,
    mapTopic,
  ),
  upsertTopic: write(
    (p: {
      chatId: number;
      topicId: number;
      iconColor: number | null;
      customEmojiId: string | null;
      name: string;
      now: string;
    }) => sql`INSERT INTO chat_topics (chat_id, topic_id, icon_color, icon_custom_emoji_id, name,
    created_at, updated_at)
    VALUES (${p.chatId}, ${p.topicId}, ${p.iconColor}, ${p.customEmojiId}, ${p.name}, ${p.now}, ${p.now})
    ON CONFLICT (chat_id, topic_id) DO UPDATE SET icon_color = excluded.icon_color,
    icon_custom_emoji_id = excluded.icon_custom_emoji_id, name = excluded.name,
    updated_at = excluded.updated_at`,
  ),
});

/**
 * gromozeka's getUserIdByUserName: a private chat's id is its user's id, so the chat_info rows
 * whose username matches, case-insensitively (`lower(username) = lower(?)`, as chatdb's other
 * lookups; gromozeka lowercases the argument in Python).
 */
export const userIds = named("chats", {
  byUsername: many(
    (p: { username: string }) =>
      sql`SELECT chat_id FROM chat_info WHERE lower(username) = lower(${p.username}) ORDER BY chat_id`,
    (r, dataSource): UserIdMatch => ({ userId: toNum(r.chat_id), dataSource }),
  ),
});
