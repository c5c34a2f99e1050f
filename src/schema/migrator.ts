/**
 * How a schema is applied, for both engines: the migration type, the procedure written once
 * ({@link migrationPlan}, driven synchronously on SQLite and asynchronously on PostgreSQL), and
 * the rendering of one DDL text into each dialect ({@link ddl}). The schema itself is in
 * migrations.ts.
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
  /** All steps in one transaction: a failure leaves the schema at `from`. */
  atomic = false,
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
      throw migrationRules.failed(source, m, atomic ? from : to, e);
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
 * Dialect fragments of the data steps chatdb adds to gromozeka's migrations (migrations.ts, 009–013),
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
