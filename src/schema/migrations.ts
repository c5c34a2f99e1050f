/**
 * The schema, as versioned migrations. Versions 1–6 are gromozeka's 001–006 (its schema at
 * cdb02b0): same tables, columns and declared types, and the version kept in
 * `settings['db-migration-version']`, so a database written by either program is read by the other.
 *
 * DDL is written once; `{id}`, `{ts}`, `{float}` (and, for gromozeka's later migrations, `{real}`,
 * `{blob}`, `{""}` and the fragments in {@link DIALECT_FRAGMENTS}) are the dialect-specific tokens.
 */

import { DatabaseError } from "../errors.ts";

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Statements, run in one transaction together with the version bump. */
  readonly up: readonly string[];
}

/** The key gromozeka's migration manager uses; kept for compatibility. */
export const VERSION_KEY = "db-migration-version";
export const LAST_RUN_KEY = "db-migration-last-run";

/**
 * The `cacheType` values `getCacheEntry`/`setCacheEntry`/`clearCache` accept (gromozeka's
 * CacheType at cdb02b0); one `cache_<type>` table each. Anything else is `INVALID_ARGUMENT`.
 */
export const CACHE_TYPES = [
  "weather",
  "geocoding",
  "yandex_search",
  "geocode_maps_search",
  "geocode_maps_reverse",
  "geocode_maps_lookup",
] as const;
export type CacheType = (typeof CACHE_TYPES)[number];

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

export const MIGRATIONS: readonly Migration[] = [
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
      ...cacheTables(CACHE_TYPES),
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
  { version: 6, name: "geocode maps caches", up: cacheTables(CACHE_TYPES.slice(3)) },
];

/**
 * The schema version this build migrates writable sources to, as stored in
 * `settings['db-migration-version']`. A source whose version is higher is refused
 * (`SCHEMA_MISMATCH`): it was written by a newer chatdb.
 */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * The rules both engines' migration runners share: refuse a database newer than the code,
 * and report a failed migration with the version the schema stays at.
 */
export const migrationRules = {
  latest: (migrations: readonly Migration[]) => migrations[migrations.length - 1]?.version ?? 0,
  assertNotNewer(source: string, from: number, latest: number): void {
    if (from <= latest) return;
    throw new DatabaseError(
      "SCHEMA_MISMATCH",
      `source ${source}: schema version ${from} is newer than this chatdb supports (${latest}); upgrade chatdb`,
      { source },
    );
  },
  failed: (source: string, m: Migration, stays: number, cause: unknown) =>
    new DatabaseError(
      "QUERY_FAILED",
      `source ${source}: migration ${m.version} (${m.name}) failed, schema stays at version ${stays}: ${(cause as Error).message}`,
      { source, cause },
    ),
};

/** What a migration run did. */
export interface MigrationResult {
  from: number;
  to: number;
  applied: { version: number; name: string }[];
}

/** One migration for the engine to apply in one transaction: its DDL, then the version bump. */
export interface MigrationStep {
  migration: Migration;
  statements: string[];
}

/**
 * The migration procedure, written once for both engines: from the version found, each newer
 * migration is one step the engine applies in one transaction — re-reading the version inside
 * it, under its lock, and answering whether it ran (false: another process applied it first).
 * A failed step names the migration and the version the schema stays at. Engines drive it with
 * {@link driveSync} (SQLite) or {@link driveAsync} (PostgreSQL).
 */
export function* migrationPlan(
  source: string,
  from: number,
  migrations: readonly Migration[],
  dialect: keyof typeof DIALECT_TYPES,
): Generator<MigrationStep, MigrationResult, boolean> {
  migrationRules.assertNotNewer(source, from, migrationRules.latest(migrations));
  const applied: MigrationResult["applied"] = [];
  let to = from;
  for (const m of migrations) {
    if (m.version <= from) continue;
    let ran: boolean;
    try {
      const statements = m.up.map((s) => ddl(s, dialect)).filter((s) => s.trim() !== "");
      ran = yield { migration: m, statements };
    } catch (e) {
      throw migrationRules.failed(source, m, to, e);
    }
    if (ran) applied.push({ version: m.version, name: m.name });
    to = m.version;
  }
  return { from, to, applied };
}

type Plan = Generator<MigrationStep, MigrationResult, boolean>;

export function driveSync(plan: Plan, apply: (step: MigrationStep) => boolean): MigrationResult {
  let next = plan.next();
  while (!next.done) {
    let ran: boolean;
    try {
      ran = apply(next.value);
    } catch (e) {
      next = plan.throw(e);
      continue;
    }
    next = plan.next(ran);
  }
  return next.value;
}

export async function driveAsync(
  plan: Plan,
  apply: (step: MigrationStep) => Promise<boolean>,
): Promise<MigrationResult> {
  let next = plan.next();
  while (!next.done) {
    let ran: boolean;
    try {
      ran = await apply(next.value);
    } catch (e) {
      next = plan.throw(e);
      continue;
    }
    next = plan.next(ran);
  }
  return next.value;
}

/** Dialect tokens → concrete types. SQLite keeps gromozeka's declared types exactly. */
export const DIALECT_TYPES = {
  sqlite: {
    "{id}": "INTEGER",
    "{ts}": "TIMESTAMP",
    "{float}": "FLOAT",
    "{real}": "REAL",
    "{blob}": "BLOB",
    // gromozeka writes `DEFAULT ""` (SQLite reads a bare "" there as the empty string)
    '{""}': '""',
  },
  pg: {
    "{id}": "BIGINT",
    "{ts}": "TIMESTAMPTZ",
    "{float}": "DOUBLE PRECISION",
    "{real}": "DOUBLE PRECISION",
    "{blob}": "BYTEA",
    '{""}': "''",
  },
} as const;

/**
 * Dialect fragments of the data steps chatdb adds to gromozeka's migrations (migrations-gromozeka.ts),
 * where the two engines have no common SQL. A fragment that renders as "" is no statement there.
 */
export const DIALECT_FRAGMENTS: Record<keyof typeof DIALECT_TYPES, Record<string, string>> = {
  sqlite: {
    // chat_users.metadata as a JSON object: '' (or blanks) is {}; anything else that is not a
    // JSON object (invalid JSON, null, an array) is NULL
    "{metadata_object}": `(CASE WHEN trim(metadata) = '' THEN '{}' WHEN NOT json_valid(metadata) THEN NULL
      WHEN json_type(metadata) = 'object' THEN metadata END)`,
    "{metadata_spammer}": `json_set(CASE WHEN trim(metadata) = '' THEN '{}' ELSE metadata END, '$.isSpammer', json('true'))`,
    "{metadata_object_fn}": "",
    // a day key as chatdb v6 wrote it ('2025-11-28 00:00:00') → as gromozeka writes it ('2025-11-28T00:00:00+00:00')
    "{day_key}": `(CASE WHEN date LIKE '____-__-__ __:__:__' THEN substr(date, 1, 10) || 'T' || substr(date, 12) || '+00:00'
      ELSE date END)`,
  },
  pg: {
    "{metadata_object}": "pg_temp.chatdb_metadata_object(metadata)",
    "{metadata_spammer}": `(pg_temp.chatdb_metadata_object(metadata) || '{"isSpammer": true}'::jsonb)::text`,
    // PostgreSQL 15 has no JSON validity test but a failing cast
    "{metadata_object_fn}": `CREATE OR REPLACE FUNCTION pg_temp.chatdb_metadata_object(t text) RETURNS jsonb
      LANGUAGE plpgsql IMMUTABLE AS $$
      BEGIN
        IF btrim(t) = '' THEN RETURN '{}'::jsonb; END IF;
        IF jsonb_typeof(t::jsonb) = 'object' THEN RETURN t::jsonb; END IF;
        RETURN NULL;
      EXCEPTION WHEN invalid_text_representation THEN RETURN NULL;
      END $$`,
    // TIMESTAMPTZ: both texts are one instant already
    "{day_key}": "date",
  },
};

export function ddl(text: string, dialect: keyof typeof DIALECT_TYPES): string {
  const types: Record<string, string> = DIALECT_TYPES[dialect];
  const fragments = DIALECT_FRAGMENTS[dialect];
  return text.replace(
    /\{(?:id|ts|float|real|blob|""|[a-z_]+)\}/g,
    (t) => types[t] ?? fragments[t] ?? t,
  );
}
