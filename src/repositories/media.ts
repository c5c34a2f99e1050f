/** media_attachments (default source only, as gromozeka). */
import { fromDbTime, toNumOrNull } from "../_internal/values.ts";
import { named, one, type Row, write } from "../sources/query.ts";
import type { MediaAttachment } from "../types.ts";

export function mapMedia(r: Row, dataSource: string): MediaAttachment {
  return {
    fileUniqueId: r.file_unique_id as string,
    fileId: r.file_id as string | null,
    fileSize: toNumOrNull(r.file_size),
    mediaType: r.media_type as string,
    metadata: r.metadata as string,
    status: r.status as string,
    mimeType: r.mime_type as string | null,
    localUrl: r.local_url as string | null,
    prompt: r.prompt as string | null,
    description: r.description as string | null,
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

/** Columns updateMediaAttachment may set, in the order of its parameters. */
export const MEDIA_UPDATABLE = [
  "file_size",
  "status",
  "metadata",
  "mime_type",
  "local_url",
  "description",
  "prompt",
] as const;

export const media = named("media", {
  get: one(
    `SELECT file_unique_id, file_id, file_size, media_type, metadata, status, mime_type, local_url, prompt,
     description, created_at, updated_at FROM media_attachments WHERE file_unique_id = ?`,
    mapMedia,
  ),
  /** Insert-only: a duplicate file_unique_id resolves false. */
  add: write(`INSERT INTO media_attachments (file_unique_id, file_id, file_size, media_type, metadata, status,
    mime_type, local_url, prompt, description, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
  /**
   * Sets each column whose "given" flag is 1, leaving the rest. One statement serves every
   * combination of fields. params: per column (flag, value)…, now, fileUniqueId.
   */
  update: write(`UPDATE media_attachments SET
    ${MEDIA_UPDATABLE.map((c) => `${c} = CASE WHEN ? = 1 THEN ? ELSE ${c} END`).join(",\n    ")},
    updated_at = ? WHERE file_unique_id = ?`),
});
