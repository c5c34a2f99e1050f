/** chat_users, and the cross-chat reads over chat_info ⋈ chat_users. */
import { fromDbTime, toBool, toNum } from "../_internal/values.ts";
import {
  type AllQuery,
  bigint,
  boolean,
  type GetQuery,
  limit,
  many,
  named,
  one,
  optionalColumns,
  type Params,
  perDialect,
  type Row,
  sql,
  timeCompare,
  type VariantQuery,
  write,
} from "../sources/query.ts";
import type { ChatUser } from "../types.ts";
import { CHAT_INFO_COLUMNS, mapChatInfo } from "./chats.ts";

/**
 * Columns a file may lack: `is_spammer` (gromozeka 002–008; 009 moved spam status into
 * `metadata` JSON, `"isSpammer": true`) and `metadata` (003+).
 */
const LATER = ["is_spammer", "metadata"];

const select = (col: (name: string) => string) =>
  `SELECT chat_id, user_id, username, full_name, timezone, messages_count, ${LATER.map(col).join(", ")},
  created_at, updated_at FROM chat_users`;

/** gromozeka 009+: the flag in the metadata JSON (false when absent or not a JSON object). */
function spammerIn(metadata: unknown): boolean {
  if (typeof metadata !== "string" || !metadata.includes('"isSpammer"')) return false;
  try {
    const parsed: unknown = JSON.parse(metadata);
    return (
      typeof parsed === "object" &&
      parsed !== null &&
      (parsed as { isSpammer?: unknown }).isSpammer === true
    );
  } catch {
    return false;
  }
}

export function mapChatUser(r: Row, dataSource: string): ChatUser {
  return {
    chatId: toNum(r.chat_id),
    userId: toNum(r.user_id),
    username: r.username as string,
    fullName: r.full_name as string,
    timezone: r.timezone as string | null,
    messagesCount: toNum(r.messages_count),
    isSpammer: r.is_spammer === null ? spammerIn(r.metadata) : toBool(r.is_spammer),
    metadata: (r.metadata as string | null) ?? "",
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

/** A chat_users read over whatever columns the file has. */
const read = <R, P extends Params>(build: (select: string) => GetQuery<R, P> | AllQuery<R, P>) =>
  optionalColumns("chat_users", LATER, (col) => build(select(col)));

type Member = { chatId: number; userId: number };
/**
 * getChatUsers: `seenSince` null = any time (see `boundParams`), `minMessages` null = any count,
 * `limit` −1 = every row.
 */
export type ListParams = { chatId: number; minMessages: number | null; limit: number } & Record<
  "seenSince" | "seenSinceIso" | "seenSinceDay",
  string | null
>;

/** One statement with and one without `seenSince`, so the index ranges over it (see messages.ts). */
const LIST = [false, true].map((seen) => {
  const query = read((select) =>
    many(
      (p: ListParams) => sql`${select} WHERE chat_id = ${p.chatId}
     ${seen ? sql`AND ${timeCompare("updated_at", ">", { space: p.seenSince, iso: p.seenSinceIso, day: p.seenSinceDay })}` : ""}
     AND (${bigint(p.minMessages)} IS NULL OR messages_count >= ${p.minMessages})
     ORDER BY updated_at DESC, user_id LIMIT ${limit(p.limit)}`,
      mapChatUser,
    ),
  );
  query.name = seen ? "users.list[seenSince]" : "users.list";
  return query;
});

export const users = named("users", {
  get: read((select) =>
    one(
      (p: Member) => sql`${select} WHERE chat_id = ${p.chatId} AND user_id = ${p.userId}`,
      mapChatUser,
    ),
  ),
  // Case-insensitive, as gromozeka's LOWER(username) = LOWER(?); the lowest user_id wins when
  // several rows match (gromozeka: whichever comes first).
  byUsername: read((select) =>
    one(
      (p: { chatId: number; username: string }) =>
        sql`${select} WHERE chat_id = ${p.chatId} AND lower(username) = lower(${p.username})
        ORDER BY user_id LIMIT 1`,
      mapChatUser,
    ),
  ),
  list: (seenSince: boolean) => LIST[Number(seenSince)] as VariantQuery<ChatUser[], ListParams>,
  /** A true upsert: counters, metadata, spammer flag and created_at survive. */
  upsert: write(
    (p: Member & { username: string; fullName: string; now: string }) =>
      sql`INSERT INTO chat_users (chat_id, user_id, username, full_name, created_at, updated_at)
      VALUES (${p.chatId}, ${p.userId}, ${p.username}, ${p.fullName}, ${p.now}, ${p.now})
      ON CONFLICT (chat_id, user_id) DO UPDATE SET username = excluded.username,
      full_name = excluded.full_name, updated_at = excluded.updated_at`,
  ),
  /**
   * Where gromozeka 009+ keeps it: `"isSpammer"` in the metadata JSON, the other keys kept
   * (metadata that is not a JSON object becomes `{}` first). gromozeka did not touch
   * updated_at here; chatdb does, so "seen since" reflects the change.
   */
  setSpammer: write(
    (p: Member & { isSpammer: boolean; now: string }) =>
      sql`UPDATE chat_users SET metadata = ${perDialect({
        sqlite: sql`json_set(CASE WHEN json_valid(metadata) AND json_type(metadata) = 'object'
          THEN metadata ELSE '{}' END, '$.isSpammer', json(CASE WHEN ${p.isSpammer} THEN 'true' ELSE 'false' END))`,
        // (\\ in this template: the tag reads its cooked text, where "\s" would be just "s")
        pg: sql`(CASE WHEN metadata ~ '^\\s*\\{' THEN metadata::jsonb ELSE '{}'::jsonb END
          || jsonb_build_object('isSpammer', ${boolean(p.isSpammer)}))::text`,
      })}, updated_at = ${p.now}
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
