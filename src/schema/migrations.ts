/**
 * The schema, as versioned migrations. Versions 1–6 are gromozeka's 001–006 (its schema at
 * cdb02b0): same tables, columns and declared types, and the version kept in
 * `settings['db-migration-version']`, so a database written by either program is read by the other.
 *
 * DDL is written once; `{id}`, `{ts}`, `{float}` (and, for gromozeka's later migrations, `{real}`,
 * `{blob}`, `{""}` and the fragments in {@link DIALECT_FRAGMENTS}) are the dialect-specific tokens.
 */

import type { Migration } from "./migrator.ts";

export * from "./migrator.ts";

/** gromozeka's CacheType at cdb02b0 (001–006): one `cache_<type>` table each. */
const V6_CACHE_TYPES = [
  "weather",
  "geocoding",
  "yandex_search",
  "geocode_maps_search",
  "geocode_maps_reverse",
  "geocode_maps_lookup",
] as const;

const TS = "{ts} DEFAULT CURRENT_TIMESTAMP";

/** Created before any migration, as gromozeka's `_initDatabase` does. */
export const SETTINGS_DDL = `CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY, value TEXT, created_at ${TS}, updated_at ${TS})`;

export const cacheTables = (types: readonly string[]) =>
  types.map(
    (t) => `CREATE TABLE IF NOT EXISTS cache_${t} (
      key TEXT PRIMARY KEY, data TEXT NOT NULL, created_at ${TS}, updated_at ${TS})`,
  );

const spamLike = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
  chat_id {id} NOT NULL, user_id {id} NOT NULL, message_id TEXT NOT NULL, text TEXT NOT NULL,
  reason TEXT NOT NULL, score {float} NOT NULL, created_at ${TS}, updated_at ${TS},
  PRIMARY KEY (chat_id, user_id, message_id))`;

/** gromozeka's 001–006, as chatdb first implemented them. */
const BASE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    up: [
      `CREATE TABLE IF NOT EXISTS chat_messages (
        chat_id {id} NOT NULL, message_id TEXT NOT NULL, date {ts} NOT NULL, user_id {id} NOT NULL,
        reply_id TEXT, thread_id {id} NOT NULL DEFAULT 0, root_message_id TEXT,
        message_text TEXT NOT NULL, message_type TEXT NOT NULL DEFAULT 'text',
        message_category TEXT NOT NULL DEFAULT 'user', quote_text TEXT, media_id TEXT,
        created_at ${TS}, PRIMARY KEY (chat_id, message_id))`,
      `CREATE TABLE IF NOT EXISTS chat_settings (
        chat_id {id} NOT NULL, key TEXT NOT NULL, value TEXT, created_at ${TS}, updated_at ${TS},
        PRIMARY KEY (chat_id, key))`,
      `CREATE TABLE IF NOT EXISTS chat_users (
        chat_id {id} NOT NULL, user_id {id} NOT NULL, username TEXT NOT NULL, full_name TEXT NOT NULL,
        timezone TEXT, messages_count {id} NOT NULL DEFAULT 0, created_at ${TS}, updated_at ${TS},
        PRIMARY KEY (chat_id, user_id))`,
      `CREATE TABLE IF NOT EXISTS chat_info (
        chat_id {id} PRIMARY KEY, title TEXT, username TEXT, type TEXT NOT NULL,
        is_forum BOOLEAN NOT NULL DEFAULT FALSE, created_at ${TS}, updated_at ${TS})`,
      `CREATE TABLE IF NOT EXISTS chat_stats (
        chat_id {id} NOT NULL, date {ts} NOT NULL, messages_count {id} NOT NULL DEFAULT 0,
        created_at ${TS}, updated_at ${TS}, PRIMARY KEY (chat_id, date))`,
      `CREATE TABLE IF NOT EXISTS chat_user_stats (
        chat_id {id} NOT NULL, user_id {id} NOT NULL, date {ts} NOT NULL,
        messages_count {id} NOT NULL DEFAULT 0, created_at ${TS}, updated_at ${TS},
        PRIMARY KEY (chat_id, user_id, date))`,
      `CREATE TABLE IF NOT EXISTS media_attachments (
        file_unique_id TEXT PRIMARY KEY, file_id TEXT, file_size {id}, media_type TEXT NOT NULL,
        metadata TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', mime_type TEXT,
        local_url TEXT, prompt TEXT, description TEXT, created_at ${TS}, updated_at ${TS})`,
      `CREATE TABLE IF NOT EXISTS delayed_tasks (
        id TEXT PRIMARY KEY NOT NULL, delayed_ts {id} NOT NULL, function TEXT NOT NULL,
        kwargs TEXT NOT NULL, is_done BOOLEAN NOT NULL DEFAULT FALSE, created_at ${TS}, updated_at ${TS})`,
      `CREATE TABLE IF NOT EXISTS user_data (
        user_id {id} NOT NULL, chat_id {id} NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
        created_at ${TS}, updated_at ${TS}, PRIMARY KEY (user_id, chat_id, key))`,
      spamLike("spam_messages"),
      spamLike("ham_messages"),
      `CREATE TABLE IF NOT EXISTS chat_topics (
        chat_id {id} NOT NULL, topic_id {id} NOT NULL, icon_color {id}, icon_custom_emoji_id TEXT,
        name TEXT, created_at ${TS}, updated_at ${TS}, PRIMARY KEY (chat_id, topic_id))`,
      `CREATE TABLE IF NOT EXISTS chat_summarization_cache (
        csid TEXT PRIMARY KEY, chat_id {id} NOT NULL, topic_id {id}, first_message_id TEXT NOT NULL,
        last_message_id TEXT NOT NULL, prompt TEXT NOT NULL, summary TEXT NOT NULL,
        created_at ${TS}, updated_at ${TS})`,
      `CREATE INDEX IF NOT EXISTS chat_summarization_cache_ctfl_index
        ON chat_summarization_cache (chat_id, topic_id, first_message_id, last_message_id, prompt)`,
      `CREATE TABLE IF NOT EXISTS bayes_tokens (
        token TEXT NOT NULL, chat_id {id}, spam_count {id} DEFAULT 0, ham_count {id} DEFAULT 0,
        total_count {id} DEFAULT 0, created_at ${TS}, updated_at ${TS}, PRIMARY KEY (token, chat_id))`,
      "CREATE INDEX IF NOT EXISTS bayes_tokens_chat_idx ON bayes_tokens (chat_id)",
      "CREATE INDEX IF NOT EXISTS bayes_tokens_total_idx ON bayes_tokens (total_count)",
      `CREATE TABLE IF NOT EXISTS bayes_classes (
        chat_id {id}, is_spam BOOLEAN NOT NULL, message_count {id} DEFAULT 0, token_count {id} DEFAULT 0,
        created_at ${TS}, updated_at ${TS}, PRIMARY KEY (chat_id, is_spam))`,
      "CREATE INDEX IF NOT EXISTS bayes_classes_chat_idx ON bayes_classes (chat_id)",
      ...cacheTables(V6_CACHE_TYPES),
    ],
  },
  {
    version: 2,
    name: "chat_users.is_spammer",
    up: ["ALTER TABLE chat_users ADD COLUMN is_spammer BOOLEAN NOT NULL DEFAULT FALSE"],
  },
  {
    version: 3,
    name: "chat_users.metadata",
    up: ["ALTER TABLE chat_users ADD COLUMN metadata TEXT NOT NULL DEFAULT ''"],
  },
  {
    version: 4,
    name: "cache_storage",
    up: [
      `CREATE TABLE IF NOT EXISTS cache_storage (
        namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at ${TS},
        PRIMARY KEY (namespace, key))`,
      "CREATE INDEX IF NOT EXISTS idx_cache_namespace ON cache_storage (namespace)",
    ],
  },
  // 005 and 006 re-ran the cache-table loop as the CacheType enum grew; idempotent here.
  { version: 5, name: "yandex search cache", up: cacheTables(["yandex_search"]) },
  { version: 6, name: "geocode maps caches", up: cacheTables(V6_CACHE_TYPES.slice(3)) },
];

/*
 * gromozeka's migrations 007–018 (NotA-Company/gromozeka at 40685ba,
 * internal/database/migrations/versions/): the same tables, columns, declared types, defaults and
 * indexes, written once for both engines with the tokens of `ddl()` (migrations.ts). On SQLite
 * the result equals the schema gromozeka's own code makes (test/fixtures/gromozeka/v18.sqlite3).
 *
 * Where gromozeka drops data, chatdb moves it first, so a chatdb v6 file loses nothing:
 * - 009: `chat_users.is_spammer = TRUE` becomes `"isSpammer": true` in `chat_users.metadata`,
 *   where gromozeka v9+ keeps spam status. Metadata '' (or blanks) counts as `{}`; metadata that
 *   is not a JSON object (invalid JSON, `null`, an array…) is kept untouched, and that row's flag
 *   is not moved (gromozeka's `json.loads` fails on such metadata anyway).
 * - 012: every row of every `cache_<type>` table is copied into `cache` with namespace = the type
 *   (gromozeka's CacheType values) before the tables are dropped.
 * - 013: the day keys of chat_stats/chat_user_stats are rewritten from chatdb v6's
 *   '2025-11-28 00:00:00' to gromozeka's '2025-11-28T00:00:00+00:00' during the table copy,
 *   counts summed where both forms key one (chat, day) or (chat, user, day). On PostgreSQL the
 *   column is TIMESTAMPTZ: both texts were one instant already, nothing to rewrite.
 */

/** gromozeka's CacheType values (internal/database/models.py): one `cache_<type>` table each before 012. */
export const GROMOZEKA_CACHE_TYPES = [
  "weather",
  "geocoding",
  "yandex_search",
  "url_content",
  "url_content_condensed",
  "geocode_maps_search",
  "geocode_maps_reverse",
  "geocode_maps_lookup",
] as const;
/**
 * The `cacheType` values `getCacheEntry`/`setCacheEntry`/`clearCache` accept: gromozeka's
 * CacheType today. Anything else is `INVALID_ARGUMENT`.
 */
export const CACHE_TYPES = GROMOZEKA_CACHE_TYPES;
export type CacheType = (typeof CACHE_TYPES)[number];

/**
 * 013's step for one table: a copy without `DEFAULT CURRENT_TIMESTAMP`, the rows copied, the
 * old table dropped and the copy renamed, then its indexes made again. `select` is the copy's
 * SELECT (default: the same columns from the old table).
 */
function recreate(
  table: string,
  body: string,
  columns: readonly string[],
  opts: { select?: string; indexes?: readonly string[] } = {},
): string[] {
  const list = columns.join(", ");
  return [
    `CREATE TABLE ${table}_new (${body})`,
    `INSERT INTO ${table}_new (${list}) ${opts.select ?? `SELECT ${list} FROM ${table}`}`,
    `DROP TABLE ${table}`,
    `ALTER TABLE ${table}_new RENAME TO ${table}`,
    ...(opts.indexes ?? []),
  ];
}

const STATS_COLS = ["messages_count", "created_at", "updated_at"];

/** chat_stats/chat_user_stats' copy: one row per key in gromozeka's form, counts summed. */
const statsSelect = (table: string, keys: string) =>
  `SELECT ${keys}, {day_key}, SUM(messages_count), MIN(created_at), MAX(updated_at)
   FROM ${table} GROUP BY ${keys}, {day_key}`;

const spamLikeWithoutDefaults = (table: string) =>
  recreate(
    table,
    `chat_id {id} NOT NULL, user_id {id} NOT NULL, message_id TEXT NOT NULL, text TEXT NOT NULL,
     reason TEXT NOT NULL, score {float} NOT NULL, confidence {float} NOT NULL DEFAULT 1.0,
     created_at {ts} NOT NULL, updated_at {ts} NOT NULL, PRIMARY KEY (chat_id, user_id, message_id)`,
    [
      "chat_id",
      "user_id",
      "message_id",
      "text",
      "reason",
      "score",
      "confidence",
      "created_at",
      "updated_at",
    ],
  );

const CACHE_INDEXES = [
  "CREATE INDEX IF NOT EXISTS idx_cache_namespace_key ON cache (namespace, key)",
  "CREATE INDEX IF NOT EXISTS idx_cache_updated_at ON cache (updated_at)",
];

const GROMOZEKA_MIGRATIONS: readonly Migration[] = [
  {
    version: 7,
    name: "chat_messages.markup, chat_messages.metadata",
    up: [
      `ALTER TABLE chat_messages ADD COLUMN markup TEXT DEFAULT {""} NOT NULL`,
      `ALTER TABLE chat_messages ADD COLUMN metadata TEXT DEFAULT {""} NOT NULL`,
    ],
  },
  {
    version: 8,
    name: "media groups",
    up: [
      "ALTER TABLE chat_messages ADD COLUMN media_group_id TEXT",
      `CREATE TABLE IF NOT EXISTS media_groups (
        media_group_id TEXT NOT NULL, media_id TEXT NOT NULL, created_at {ts} NOT NULL,
        PRIMARY KEY (media_group_id, media_id))`,
    ],
  },
  {
    version: 9,
    name: "chat_users.is_spammer into chat_users.metadata",
    up: [
      "{metadata_object_fn}",
      `UPDATE chat_users SET metadata = {metadata_spammer}
        WHERE is_spammer AND {metadata_object} IS NOT NULL`,
      "ALTER TABLE chat_users DROP COLUMN is_spammer",
    ],
  },
  {
    version: 10,
    name: "chat_settings.updated_by",
    up: ["ALTER TABLE chat_settings ADD COLUMN updated_by {id} NOT NULL DEFAULT 0"],
  },
  {
    version: 11,
    name: "spam_messages.confidence, ham_messages.confidence",
    up: [
      "ALTER TABLE spam_messages ADD COLUMN confidence {float} NOT NULL DEFAULT 1.0",
      "ALTER TABLE ham_messages ADD COLUMN confidence {float} NOT NULL DEFAULT 1.0",
    ],
  },
  {
    version: 12,
    name: "unified cache table",
    up: [
      `CREATE TABLE IF NOT EXISTS cache (
        namespace TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
        created_at {ts} NOT NULL, updated_at {ts} NOT NULL, PRIMARY KEY (namespace, key))`,
      ...CACHE_INDEXES,
      // a file may lack some types' tables (chatdb v6 has no url_content ones): made empty first
      ...cacheTables(GROMOZEKA_CACHE_TYPES),
      ...GROMOZEKA_CACHE_TYPES.map(
        (t) => `INSERT INTO cache (namespace, key, data, created_at, updated_at)
          SELECT '${t}', key, data, created_at, updated_at FROM cache_${t}`,
      ),
      ...GROMOZEKA_CACHE_TYPES.map((t) => `DROP TABLE IF EXISTS cache_${t}`),
    ],
  },
  {
    version: 13,
    name: "timestamps without defaults",
    up: [
      ...recreate(
        "settings",
        "key TEXT PRIMARY KEY, value TEXT, created_at {ts} NOT NULL, updated_at {ts} NOT NULL",
        ["key", "value", "created_at", "updated_at"],
      ),
      ...recreate(
        "chat_messages",
        `chat_id {id} NOT NULL, message_id TEXT NOT NULL, date {ts} NOT NULL, user_id {id} NOT NULL,
         reply_id TEXT, thread_id {id} NOT NULL DEFAULT 0, root_message_id TEXT,
         message_text TEXT NOT NULL, message_type TEXT DEFAULT 'text' NOT NULL,
         message_category TEXT DEFAULT 'user' NOT NULL, quote_text TEXT, media_id TEXT,
         media_group_id TEXT, markup TEXT DEFAULT {""} NOT NULL, metadata TEXT DEFAULT {""} NOT NULL,
         created_at {ts} NOT NULL, PRIMARY KEY (chat_id, message_id)`,
        [
          "chat_id",
          "message_id",
          "date",
          "user_id",
          "reply_id",
          "thread_id",
          "root_message_id",
          "message_text",
          "message_type",
          "message_category",
          "quote_text",
          "media_id",
          "media_group_id",
          "markup",
          "metadata",
          "created_at",
        ],
      ),
      ...recreate(
        "chat_settings",
        `chat_id {id} NOT NULL, key TEXT NOT NULL, value TEXT, updated_by {id} NOT NULL DEFAULT 0,
         created_at {ts} NOT NULL, updated_at {ts} NOT NULL, PRIMARY KEY (chat_id, key)`,
        ["chat_id", "key", "value", "updated_by", "created_at", "updated_at"],
      ),
      ...recreate(
        "chat_users",
        `chat_id {id} NOT NULL, user_id {id} NOT NULL, username TEXT NOT NULL, full_name TEXT NOT NULL,
         timezone TEXT, messages_count {id} DEFAULT 0 NOT NULL, metadata TEXT DEFAULT '' NOT NULL,
         created_at {ts} NOT NULL, updated_at {ts} NOT NULL, PRIMARY KEY (chat_id, user_id)`,
        [
          "chat_id",
          "user_id",
          "username",
          "full_name",
          "timezone",
          "messages_count",
          "metadata",
          "created_at",
          "updated_at",
        ],
      ),
      ...recreate(
        "chat_info",
        `chat_id {id} PRIMARY KEY, title TEXT, username TEXT, type TEXT NOT NULL,
         is_forum BOOLEAN NOT NULL DEFAULT FALSE, created_at {ts} NOT NULL, updated_at {ts} NOT NULL`,
        ["chat_id", "title", "username", "type", "is_forum", "created_at", "updated_at"],
      ),
      ...recreate(
        "chat_stats",
        `chat_id {id} NOT NULL, date {ts} NOT NULL, messages_count {id} DEFAULT 0 NOT NULL,
         created_at {ts} NOT NULL, updated_at {ts} NOT NULL, PRIMARY KEY (chat_id, date)`,
        ["chat_id", "date", ...STATS_COLS],
        { select: statsSelect("chat_stats", "chat_id") },
      ),
      ...recreate(
        "chat_user_stats",
        `chat_id {id} NOT NULL, user_id {id} NOT NULL, date {ts} NOT NULL,
         messages_count {id} DEFAULT 0 NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL,
         PRIMARY KEY (chat_id, user_id, date)`,
        ["chat_id", "user_id", "date", ...STATS_COLS],
        { select: statsSelect("chat_user_stats", "chat_id, user_id") },
      ),
      ...recreate(
        "media_attachments",
        `file_unique_id TEXT PRIMARY KEY, file_id TEXT, file_size {id}, media_type TEXT NOT NULL,
         metadata TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', mime_type TEXT,
         local_url TEXT, prompt TEXT, description TEXT, created_at {ts} NOT NULL, updated_at {ts} NOT NULL`,
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
        ],
      ),
      ...recreate(
        "delayed_tasks",
        `id TEXT PRIMARY KEY NOT NULL, delayed_ts {id} NOT NULL, function TEXT NOT NULL,
         kwargs TEXT NOT NULL, is_done BOOLEAN NOT NULL DEFAULT FALSE, created_at {ts} NOT NULL,
         updated_at {ts} NOT NULL`,
        ["id", "delayed_ts", "function", "kwargs", "is_done", "created_at", "updated_at"],
      ),
      ...recreate(
        "user_data",
        `user_id {id} NOT NULL, chat_id {id} NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
         created_at {ts} NOT NULL, updated_at {ts} NOT NULL, PRIMARY KEY (user_id, chat_id, key)`,
        ["user_id", "chat_id", "key", "data", "created_at", "updated_at"],
      ),
      ...spamLikeWithoutDefaults("spam_messages"),
      ...spamLikeWithoutDefaults("ham_messages"),
      ...recreate(
        "chat_topics",
        `chat_id {id} NOT NULL, topic_id {id} NOT NULL, icon_color {id}, icon_custom_emoji_id TEXT,
         name TEXT, created_at {ts} NOT NULL, updated_at {ts} NOT NULL, PRIMARY KEY (chat_id, topic_id)`,
        [
          "chat_id",
          "topic_id",
          "icon_color",
          "icon_custom_emoji_id",
          "name",
          "created_at",
          "updated_at",
        ],
      ),
      ...recreate(
        "chat_summarization_cache",
        `csid TEXT PRIMARY KEY, chat_id {id} NOT NULL, topic_id {id}, first_message_id TEXT NOT NULL,
         last_message_id TEXT NOT NULL, prompt TEXT NOT NULL, summary TEXT NOT NULL,
         created_at {ts} NOT NULL, updated_at {ts} NOT NULL`,
        [
          "csid",
          "chat_id",
          "topic_id",
          "first_message_id",
          "last_message_id",
          "prompt",
          "summary",
          "created_at",
          "updated_at",
        ],
        {
          indexes: [
            `CREATE INDEX IF NOT EXISTS chat_summarization_cache_ctfl_index
              ON chat_summarization_cache (chat_id, topic_id, first_message_id, last_message_id, prompt)`,
          ],
        },
      ),
      ...recreate(
        "bayes_tokens",
        `token TEXT NOT NULL, chat_id {id}, spam_count {id} DEFAULT 0, ham_count {id} DEFAULT 0,
         total_count {id} DEFAULT 0, created_at {ts} NOT NULL, updated_at {ts} NOT NULL,
         PRIMARY KEY (token, chat_id)`,
        ["token", "chat_id", "spam_count", "ham_count", "total_count", "created_at", "updated_at"],
        {
          indexes: [
            "CREATE INDEX IF NOT EXISTS bayes_tokens_chat_idx ON bayes_tokens (chat_id)",
            "CREATE INDEX IF NOT EXISTS bayes_tokens_total_idx ON bayes_tokens (total_count)",
          ],
        },
      ),
      ...recreate(
        "bayes_classes",
        `chat_id {id}, is_spam BOOLEAN NOT NULL, message_count {id} DEFAULT 0, token_count {id} DEFAULT 0,
         created_at {ts} NOT NULL, updated_at {ts} NOT NULL, PRIMARY KEY (chat_id, is_spam)`,
        ["chat_id", "is_spam", "message_count", "token_count", "created_at", "updated_at"],
        {
          indexes: ["CREATE INDEX IF NOT EXISTS bayes_classes_chat_idx ON bayes_classes (chat_id)"],
        },
      ),
      ...recreate(
        "cache_storage",
        `namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at {ts} NOT NULL,
         PRIMARY KEY (namespace, key)`,
        ["namespace", "key", "value", "updated_at"],
        {
          indexes: ["CREATE INDEX IF NOT EXISTS idx_cache_namespace ON cache_storage (namespace)"],
        },
      ),
      ...recreate(
        "cache",
        `namespace TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, created_at {ts} NOT NULL,
         updated_at {ts} NOT NULL, PRIMARY KEY (namespace, key)`,
        ["namespace", "key", "data", "created_at", "updated_at"],
        { indexes: CACHE_INDEXES },
      ),
      ...recreate(
        "media_groups",
        `media_group_id TEXT NOT NULL, media_id TEXT NOT NULL, created_at {ts} NOT NULL,
         PRIMARY KEY (media_group_id, media_id)`,
        ["media_group_id", "media_id", "created_at"],
      ),
    ],
  },
  {
    version: 14,
    name: "divinations",
    up: [
      `CREATE TABLE IF NOT EXISTS divinations (
        chat_id {id} NOT NULL, message_id TEXT NOT NULL, user_id {id} NOT NULL,
        system_id TEXT NOT NULL, deck_id TEXT NOT NULL, layout_id TEXT NOT NULL,
        question TEXT NOT NULL, draws_json TEXT NOT NULL, interpretation TEXT NOT NULL,
        image_prompt TEXT, invoked_via TEXT NOT NULL, created_at {ts} NOT NULL,
        PRIMARY KEY (chat_id, message_id))`,
      `CREATE INDEX IF NOT EXISTS idx_divinations_user_created
        ON divinations (chat_id, user_id, created_at)`,
    ],
  },
  {
    version: 15,
    name: "divination_layouts",
    up: [
      `CREATE TABLE IF NOT EXISTS divination_layouts (
        system_id TEXT NOT NULL, layout_id TEXT NOT NULL, name_en TEXT NOT NULL,
        name_ru TEXT NOT NULL, n_symbols {id} NOT NULL, positions TEXT NOT NULL, description TEXT,
        created_at {ts} NOT NULL, updated_at {ts} NOT NULL, PRIMARY KEY (system_id, layout_id))`,
      "CREATE INDEX IF NOT EXISTS idx_divination_layouts_system ON divination_layouts (system_id)",
    ],
  },
  {
    version: 16,
    name: "stat_events, stat_aggregates",
    up: [
      `CREATE TABLE IF NOT EXISTS stat_events (
        event_id TEXT NOT NULL, event_type TEXT NOT NULL, event_time {ts} NOT NULL,
        data TEXT NOT NULL, labels TEXT NOT NULL, processed {id} NOT NULL DEFAULT 0,
        processed_id TEXT DEFAULT NULL, claimed_at {ts} DEFAULT NULL, created_at {ts} NOT NULL,
        PRIMARY KEY (event_id))`,
      `CREATE INDEX IF NOT EXISTS idx_stat_events_unprocessed
        ON stat_events (processed, processed_id, claimed_at)`,
      "CREATE INDEX IF NOT EXISTS idx_stat_events_lookup ON stat_events (event_type, event_time)",
      `CREATE TABLE IF NOT EXISTS stat_aggregates (
        event_type TEXT NOT NULL, period_start TEXT NOT NULL, period_type TEXT NOT NULL,
        labels_hash TEXT NOT NULL, labels TEXT NOT NULL, metric_key TEXT NOT NULL,
        metric_value {real} NOT NULL, updated_at {ts} NOT NULL,
        PRIMARY KEY (event_type, period_start, period_type, labels_hash, metric_key))`,
    ],
  },
  {
    version: 17,
    name: "message_embeddings",
    up: [
      `CREATE TABLE IF NOT EXISTS message_embeddings (
        chat_id {id} NOT NULL, message_id TEXT NOT NULL, embedding {blob} NOT NULL,
        dimensions {id} NOT NULL, model TEXT NOT NULL, created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL, PRIMARY KEY (chat_id, message_id))`,
    ],
  },
  {
    version: 18,
    name: "message_embeddings (chat_id, model) index",
    up: [
      `CREATE INDEX IF NOT EXISTS idx_message_embeddings_chat_model
        ON message_embeddings (chat_id, model)`,
    ],
  },
];

export const MIGRATIONS: readonly Migration[] = [...BASE_MIGRATIONS, ...GROMOZEKA_MIGRATIONS];

/**
 * The schema version this build migrates writable sources to, as stored in
 * `settings['db-migration-version']`. A source whose version is higher is refused
 * (`SCHEMA_MISMATCH`): it was written by a newer chatdb.
 */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
