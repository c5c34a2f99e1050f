/**
 * The schema on PostgreSQL: the same MIGRATIONS as SQLite, rendered with `ddl(…, "pg")`, each
 * migration and its version bump in one transaction (PostgreSQL DDL is transactional too).
 * Several bot processes may open one database at once, so every migration transaction takes a
 * per-schema advisory lock and re-reads the version before applying anything.
 */
import type { SQL } from "bun";
import { nowDb } from "../_internal/values.ts";
import { DatabaseError } from "../errors.ts";
import { ensureIndexesPg } from "./indexes.ts";
import type { MigrationReport } from "./migrate.ts";
import { expectedSchema, gapsIn } from "./migrate.ts";
import {
  ddl,
  driveAsync,
  LAST_RUN_KEY,
  LATEST_VERSION,
  MIGRATIONS,
  type Migration,
  type MigrationStep,
  migrationPlan,
  SETTINGS_DDL,
  VERSION_KEY,
} from "./migrations.ts";

/** Anything that runs text with `$n` parameters: the pool, a reserved connection, a transaction. */
type Runner = Pick<SQL, "unsafe">;

// created_at too: from gromozeka's migration 013 on, settings.created_at has no default
const UPSERT_SETTING = `INSERT INTO settings (key, value, created_at, updated_at) VALUES ($1, $2, $3, $3)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;

/** Serializes migrations of one schema across processes; released at commit or rollback. */
const LOCK = "SELECT pg_advisory_xact_lock(hashtext('chatdb-migrate:' || current_schema()))";

/** `settings['db-migration-version']` in the current schema, or null when there is no settings table. */
export async function readSchemaVersionPg(sql: Runner): Promise<number | null> {
  const [probe] = await sql.unsafe("SELECT to_regclass('settings') IS NOT NULL AS present");
  if (!probe?.present) return null;
  const [row] = await sql.unsafe("SELECT value FROM settings WHERE key = $1", [VERSION_KEY]);
  const n = Number(row?.value ?? 0);
  return Number.isInteger(n) ? n : 0;
}

/**
 * Brings the schema to the latest version. A database newer than the code is refused with
 * SCHEMA_MISMATCH, as on SQLite. Safe to run from several processes at once.
 */
export async function migratePg(
  sql: SQL,
  source: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  const from = await sql.begin(async (tx) => {
    await tx.unsafe(LOCK);
    await tx.unsafe(ddl(SETTINGS_DDL, "pg"));
    return (await readSchemaVersionPg(tx)) ?? 0;
  });
  const applyIn = async (tx: SQL, { migration, statements }: MigrationStep) => {
    // another process may have applied it while we waited for the lock
    if (((await readSchemaVersionPg(tx)) ?? 0) >= migration.version) return false;
    for (const statement of statements) await tx.unsafe(statement);
    const now = nowDb();
    await tx.unsafe(UPSERT_SETTING, [VERSION_KEY, String(migration.version), now]);
    await tx.unsafe(UPSERT_SETTING, [LAST_RUN_KEY, now, now]);
    return true;
  };
  // A fresh schema is made in one transaction (all of it or none, one lock, one commit: a
  // bot's first open costs a few round trips less than 18 commits); an existing one moves one
  // migration per transaction, so a failure keeps every migration before it.
  const fresh = from === 0;
  const plan = migrationPlan(source, from, migrations, "pg", fresh);
  const result = fresh
    ? await sql.begin(async (tx) => {
        await tx.unsafe(LOCK);
        return driveAsync(plan, (step) => applyIn(tx, step));
      })
    : await driveAsync(plan, (step) =>
        sql.begin(async (tx) => {
          await tx.unsafe(LOCK);
          return applyIn(tx, step);
        }),
      );
  return { ...result, indexes: await ensureIndexesPg(sql) };
}

/**
 * Turns PostgreSQL's undefined table (42P01) / undefined column (42703) into SCHEMA_MISMATCH
 * naming the source, table and column; undefined for any other error.
 */
export async function diagnoseMismatchPg(
  sql: Runner,
  source: string,
  text: string,
  error: unknown,
): Promise<DatabaseError | undefined> {
  const errno = (error as { errno?: string }).errno;
  if (errno !== "42P01" && errno !== "42703") return undefined;
  const message = error instanceof Error ? error.message : String(error);
  const version = await readSchemaVersionPg(sql).catch(() => null);
  const context = `(schema version ${version ?? "unknown"}; chatdb expects ${LATEST_VERSION})`;
  if (errno === "42P01") {
    const name = /relation "(?:\w+\.)?(\w+)"/.exec(message)?.[1] ?? "?";
    return new DatabaseError(
      "SCHEMA_MISMATCH",
      `source ${source}: table ${name} is missing ${context}`,
      { source, cause: error },
    );
  }
  const name = /column "?(?:\w+\.)?(\w+)"? does not exist/.exec(message)?.[1] ?? "?";
  // The tables the query names that should have the column but, live, do not.
  const candidates = [...expectedSchema()]
    .filter(([t, cols]) => cols.has(name) && new RegExp(`\\b${t}\\b`).test(text))
    .map(([t]) => t);
  let table: string | undefined;
  if (candidates.length > 0) {
    const rows = await sql
      .unsafe(
        `SELECT t FROM unnest($1::text[]) AS t WHERE NOT EXISTS (SELECT 1 FROM information_schema.columns c
         WHERE c.table_schema = current_schema() AND c.table_name = t AND c.column_name = $2)`,
        [candidates, name],
      )
      .catch(() => []);
    table = (rows[0] as { t?: string } | undefined)?.t;
  }
  const where = table ? `table ${table} has no column ${name}` : `column ${name} is missing`;
  return new DatabaseError("SCHEMA_MISMATCH", `source ${source}: ${where} ${context}`, {
    source,
    cause: error,
  });
}

/** Table → columns of the current PostgreSQL schema. */
export async function tableColumnsPg(sql: Runner): Promise<Map<string, Set<string>>> {
  const rows = (await sql.unsafe(
    "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = current_schema()",
  )) as { t: string; c: string }[];
  const live = new Map<string, Set<string>>();
  for (const { t, c } of rows) {
    const cols = live.get(t) ?? new Set<string>();
    cols.add(c);
    live.set(t, cols);
  }
  return live;
}

/** What the latest schema has that the current PostgreSQL schema lacks (see `gapsIn`). */
export async function schemaGapsPg(sql: Runner): Promise<string[]> {
  return gapsIn(await tableColumnsPg(sql));
}
