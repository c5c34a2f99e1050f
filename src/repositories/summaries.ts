/** chat_summarization_cache, keyed by gromozeka's CSID. */
import { fromDbTime, toNum, toNumOrNull } from "../_internal/values.ts";
import { named, one, type Row, sql, write } from "../sources/query.ts";
import type { ChatSummarization } from "../types.ts";

/**
 * gromozeka's key: lowercase SHA-512 hex of `{chatId}:{topicId}_{first}:{last}-{prompt}`,
 * with a missing topic rendered as Python renders None, so both programs find each other's rows.
 */
export function csid(
  chatId: number,
  topicId: number | null,
  first: string,
  last: string,
  prompt: string,
): string {
  // Bun's own hasher: node:crypto would add ≈ 4 ms to every bot's start
  return new Bun.CryptoHasher("sha512")
    .update(`${chatId}:${topicId ?? "None"}_${first}:${last}-${prompt}`)
    .digest("hex");
}

export function mapSummary(r: Row, dataSource: string): ChatSummarization {
  return {
    csid: r.csid as string,
    chatId: toNum(r.chat_id),
    topicId: toNumOrNull(r.topic_id),
    firstMessageId: String(r.first_message_id),
    lastMessageId: String(r.last_message_id),
    prompt: r.prompt as string,
    summary: r.summary as string,
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

export const summaries = named("summaries", {
  get: one(
    (p: { csid: string }) =>
      sql`SELECT csid, chat_id, topic_id, first_message_id, last_message_id, prompt, summary,
      created_at, updated_at FROM chat_summarization_cache WHERE csid = ${p.csid}`,
    mapSummary,
  ),
  /** On conflict only the summary changes, as gromozeka. */
  upsert: write(
    (p: {
      csid: string;
      chatId: number;
      topicId: number | null;
      first: string;
      last: string;
      prompt: string;
      summary: string;
      now: string;
    }) => sql`INSERT INTO chat_summarization_cache (csid, chat_id, topic_id, first_message_id,
    last_message_id, prompt, summary, created_at, updated_at)
    VALUES (${p.csid}, ${p.chatId}, ${p.topicId}, ${p.first}, ${p.last}, ${p.prompt}, ${p.summary},
    ${p.now}, ${p.now})
    ON CONFLICT (csid) DO UPDATE SET summary = excluded.summary, updated_at = excluded.updated_at`,
  ),
});
