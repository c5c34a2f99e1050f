/** chat_users, and the cross-chat reads over chat_info ⋈ chat_users. */
import { fromDbTime, toBool, toNum } from "../_internal/values.ts";
import { type AllQuery, many, named, one, type Row, write } from "../sources/query.ts";
import type { ChatUser } from "../types.ts";
import { CHAT_INFO_COLUMNS, mapChatInfo } from "./chats.ts";

const SELECT = `SELECT chat_id, user_id, username, full_name, timezone, messages_count, is_spammer,
  metadata, created_at, updated_at FROM chat_users`;

export function mapChatUser(r: Row, dataSource: string): ChatUser {
  return {
    chatId: toNum(r.chat_id),
    userId: toNum(r.user_id),
    username: r.username as string,
    fullName: r.full_name as string,
    timezone: r.timezone as string | null,
    messagesCount: toNum(r.messages_count),
    isSpammer: toBool(r.is_spammer),
    metadata: r.metadata as string,
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

/** One statement with and one without `seenSince`, so the index ranges over it (see messages.ts). */
const LIST = [false, true].map((seen) => {
  const query = many(
    `${SELECT} WHERE chat_id = ? AND ${seen ? "({?ts} IS NOT NULL AND updated_at > {?ts})" : "({?ts} IS NULL AND {?ts} IS NULL)"}
     ORDER BY updated_at DESC, user_id LIMIT ?`,
    mapChatUser,
  );
  query.name = seen ? "users.list[seenSince]" : "users.list";
  return query;
});

export const users = named("users", {
  get: one(`${SELECT} WHERE chat_id = ? AND user_id = ?`, mapChatUser),
  // Exact, case-sensitive; the lowest user_id wins when several rows match (gromozeka: undefined).
  byUsername: one(
    `${SELECT} WHERE chat_id = ? AND username = ? ORDER BY user_id LIMIT 1`,
    mapChatUser,
  ),
  /** params: chatId, seenSince×2, limit. */
  list: (seenSince: boolean) => LIST[Number(seenSince)] as AllQuery<ChatUser[]>,
  /** A true upsert: counters, metadata, spammer flag and created_at survive. params: chat, user, username, name, now. */
  upsert:
    write(`INSERT INTO chat_users (chat_id, user_id, username, full_name, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id)
    DO UPDATE SET username = excluded.username, full_name = excluded.full_name, updated_at = excluded.updated_at`),
  // gromozeka did not touch updated_at here; chatdb does, so "seen since" reflects the change.
  setSpammer: write(
    "UPDATE chat_users SET is_spammer = ?, updated_at = ? WHERE chat_id = ? AND user_id = ?",
  ),
  setMetadata: write(
    "UPDATE chat_users SET metadata = ?, updated_at = ? WHERE chat_id = ? AND user_id = ?",
  ),
  /** Chats the user is a member of, in this source. */
  chatsOf: many(
    `SELECT ${CHAT_INFO_COLUMNS.map((c) => `ci.${c}`).join(", ")} FROM chat_info ci
     JOIN chat_users cu ON cu.chat_id = ci.chat_id WHERE cu.user_id = ? ORDER BY ci.chat_id`,
    mapChatInfo,
  ),
});
