/** chat_users, and the cross-chat reads over chat_info ⋈ chat_users. */
import { fromDbTime, toBool, toNum } from "../_internal/values.ts";
import {
  type AllQuery,
  limit,
  many,
  named,
  one,
  type Row,
  sql,
  ts,
  write,
} from "../sources/query.ts";
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

type Member = { chatId: number; userId: number };
/** getChatUsers: `seenSince` null = any time. */
export type ListParams = { chatId: number; seenSince: string | null; limit: number };

/** One statement with and one without `seenSince`, so the index ranges over it (see messages.ts). */
const LIST = [false, true].map((seen) => {
  const query = many(
    (p: ListParams) => sql`${SELECT} WHERE chat_id = ${p.chatId}
     ${seen ? sql`AND updated_at > ${ts(p.seenSince)}` : ""}
     ORDER BY updated_at DESC, user_id LIMIT ${limit(p.limit)}`,
    mapChatUser,
  );
  query.name = seen ? "users.list[seenSince]" : "users.list";
  return query;
});

export const users = named("users", {
  get: one(
    (p: Member) => sql`${SELECT} WHERE chat_id = ${p.chatId} AND user_id = ${p.userId}`,
    mapChatUser,
  ),
  // Exact, case-sensitive; the lowest user_id wins when several rows match (gromozeka: undefined).
  byUsername: one(
    (p: { chatId: number; username: string }) =>
      sql`${SELECT} WHERE chat_id = ${p.chatId} AND username = ${p.username} ORDER BY user_id LIMIT 1`,
    mapChatUser,
  ),
  list: (seenSince: boolean) => LIST[Number(seenSince)] as AllQuery<ChatUser[], ListParams>,
  /** A true upsert: counters, metadata, spammer flag and created_at survive. */
  upsert: write(
    (p: Member & { username: string; fullName: string; now: string }) =>
      sql`INSERT INTO chat_users (chat_id, user_id, username, full_name, created_at, updated_at)
      VALUES (${p.chatId}, ${p.userId}, ${p.username}, ${p.fullName}, ${p.now}, ${p.now})
      ON CONFLICT (chat_id, user_id) DO UPDATE SET username = excluded.username,
      full_name = excluded.full_name, updated_at = excluded.updated_at`,
  ),
  // gromozeka did not touch updated_at here; chatdb does, so "seen since" reflects the change.
  setSpammer: write(
    (p: Member & { isSpammer: boolean; now: string }) =>
      sql`UPDATE chat_users SET is_spammer = ${p.isSpammer}, updated_at = ${p.now}
      WHERE chat_id = ${p.chatId} AND user_id = ${p.userId}`,
  ),
  setMetadata: write(
    (p: Member & { metadata: string; now: string }) =>
      sql`UPDATE chat_users SET metadata = ${p.metadata}, updated_at = ${p.now}
      WHERE chat_id = ${p.chatId} AND user_id = ${p.userId}`,
  ),
  /** Chats the user is a member of, in this source. */
  chatsOf: many(
    (p: { userId: number }) => sql`SELECT ${CHAT_INFO_COLUMNS.map((c) => `ci.${c}`).join(", ")}
     FROM chat_info ci JOIN chat_users cu ON cu.chat_id = ci.chat_id
     WHERE cu.user_id = ${p.userId} ORDER BY ci.chat_id`,
    mapChatInfo,
  ),
});
