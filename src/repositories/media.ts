/** media_attachments (default source only, as gromozeka). */
import { fromDbTime, toNumOrNull } from "../_internal/values.ts";
import { fold, many, named, one, type Row, sql, variant, write } from "../sources/query.ts";
import type { MediaAttachment } from "../types.ts";

const COLUMNS = (a: string) =>
  [
    "file_unique_id",
    "file_id",
    "file_size",
    "media_type",
    "metadata",
    "status",
    "mime_type",
    "local_url",
    "prompt",
    "description",
    "created_at",
    "updated_at",
  ]
    .map((c) => a + c)
    .join(", ");

/** A read of a file before gromozeka 008 (no media_groups): it holds no album, so it finds none. */
type Group = { mediaGroupId: string };
const NO_GROUP = fold<MediaAttachment[], Group>("SELECT NULL AS none WHERE 1 = 0", () => []);

const BY_GROUP = many(
  (p: Group) =>
    sql`SELECT ${COLUMNS("ma.")} FROM media_groups mg
    JOIN media_attachments ma ON ma.file_unique_id = mg.media_id
    WHERE mg.media_group_id = ${p.mediaGroupId} ORDER BY mg.created_at, mg.media_id`,
  mapMedia,
);

/** The album's times: its latest is found here, so both of gromozeka's encodings compare right. */
const GROUP_TIMES = fold(
  (p: Group) => sql`SELECT created_at FROM media_groups WHERE media_group_id = ${p.mediaGroupId}`,
  (rows): Date | null => {
    let last: Date | null = null;
    for (const r of rows) {
      const t = fromDbTime(r.created_at);
      if (t !== null && (last === null || t > last)) last = t;
    }
    return last;
  },
);

const NO_GROUP_TIME = fold<Date | null, Group>("SELECT NULL AS none WHERE 1 = 0", () => null);

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

/** updateMediaAttachment's fields: null (not given) leaves the column as it is. */
export type MediaUpdate = {
  fileUniqueId: string;
  fileSize: number | null;
  status: string | null;
  metadata: string | null;
  mimeType: string | null;
  localUrl: string | null;
  description: string | null;
  prompt: string | null;
  now: string;
};

export const media = named("media", {
  get: one(
    (p: { fileUniqueId: string }) =>
      sql`SELECT file_unique_id, file_id, file_size, media_type, metadata, status, mime_type,
      local_url, prompt, description, created_at, updated_at FROM media_attachments
      WHERE file_unique_id = ${p.fileUniqueId}`,
    mapMedia,
  ),
  /** The album's attachments (gromozeka 008's media_groups), in the order they were added. */
  byGroup: variant((schema) => (schema.has("media_groups") ? BY_GROUP : NO_GROUP)),
  /** When the album last gained an attachment; null when it has none. */
  groupUpdatedAt: variant((schema) => (schema.has("media_groups") ? GROUP_TIMES : NO_GROUP_TIME)),
  /** Insert-only: the pair already there is left as it is (created_at kept). */
  ensureInGroup: write(
    (p: { mediaGroupId: string; mediaId: string; now: string }) =>
      sql`INSERT INTO media_groups (media_group_id, media_id, created_at)
      VALUES (${p.mediaGroupId}, ${p.mediaId}, ${p.now}) ON CONFLICT DO NOTHING`,
  ),
  /** Insert-only: a duplicate file_unique_id resolves false. */
  add: write(
    (p: {
      fileUniqueId: string;
      fileId: string;
      fileSize: number | null;
      mediaType: string;
      metadata: string;
      status: string;
      mimeType: string | null;
      localUrl: string | null;
      prompt: string | null;
      description: string | null;
      now: string;
    }) => sql`INSERT INTO media_attachments (file_unique_id, file_id, file_size, media_type,
    metadata, status, mime_type, local_url, prompt, description, created_at, updated_at)
    VALUES (${p.fileUniqueId}, ${p.fileId}, ${p.fileSize}, ${p.mediaType}, ${p.metadata},
    ${p.status}, ${p.mimeType}, ${p.localUrl}, ${p.prompt}, ${p.description}, ${p.now}, ${p.now})
    ON CONFLICT DO NOTHING`,
  ),
  /**
   * Sets each column given, leaving the rest: one statement serves every combination of fields.
   * A given value is never null (the wrapper checks it), so COALESCE tells given from not.
   */
  update: write(
    (
      p: MediaUpdate,
    ) => sql`UPDATE media_attachments SET file_size = COALESCE(${p.fileSize}, file_size),
    status = COALESCE(${p.status}, status), metadata = COALESCE(${p.metadata}, metadata),
    mime_type = COALESCE(${p.mimeType}, mime_type), local_url = COALESCE(${p.localUrl}, local_url),
    description = COALESCE(${p.description}, description), prompt = COALESCE(${p.prompt}, prompt),
    updated_at = ${p.now} WHERE file_unique_id = ${p.fileUniqueId}`,
  ),
});
