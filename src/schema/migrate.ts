/**
 * Applies migrations to a writable SQLite connection. Each migration's DDL and its version
 * bump commit together or not at all (SQLite DDL is transactional), fixing gromozeka's
 * half-applied migrations. Also reads a source's version and diagnoses missing tables/columns.
 */
import { Database } from "bun:sqlite";
import { nowDb } from "../_internal/values.ts";
import { DatabaseError } from "../errors.ts";
import {
  type AllQuery,
  type GetQuery,
  type Query,
  schemaInfo,
  type VariantQuery,
} from "../sources/query.ts";
import { ensureIndexesSqlite, type IndexReport } from "./indexes.ts";
import {
  ddl,
  driveSync,
  LAST_RUN_KEY,
  LATEST_VERSION,
  MIGRATIONS,
  type Migration,
  type MigrationResult,
  type MigrationStep,
  migrationPlan,
  SETTINGS_DDL,
  VERSION_KEY,
} from "./migrations.ts";

export interface MigrationReport extends MigrationResult {
  /** chatdb's own indexes built at this open (schema/indexes.ts). */
  indexes?: IndexReport;
}

// created_at too: from gromozeka's migration 013 on, settings.created_at has no default
const UPSERT_SETTING = `INSERT INTO settings (key, value, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
  ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;

/** `settings['db-migration-version']`, or null when the database has no settings table. */
export function readSchemaVersion(db: Database): number | null {
  const hasSettings = db
    .query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settings'")
    .get();
  if (!hasSettings) return null;
  const row = db.query("SELECT value FROM settings WHERE key = ?").get(VERSION_KEY) as {
    value: string | number | null;
  } | null;
  const n = Number(row?.value ?? 0);
  return Number.isInteger(n) ? n : 0;
}

/**
 * Brings `db` to the latest version (or `migrations`' last one). A database newer than the
 * code is refused with SCHEMA_MISMATCH rather than silently used, as gromozeka did.
 */
export function migrateSqlite(
  db: Database,
  source: string,
  migrations: readonly Migration[] = MIGRATIONS,
  /** false: leave chatdb's indexes to the caller (a source builds big ones off the thread). */
  indexes = true,
): MigrationReport {
  db.run(ddl(SETTINGS_DDL, "sqlite"));
  const from = readSchemaVersion(db) ?? 0;
  const setSetting = db.prepare(UPSERT_SETTING);
  let result: MigrationResult;
  try {
    // IMMEDIATE takes the write lock first, so another process opening the same fresh file
    // waits and then sees the version this one wrote: applied once
    const apply = db.transaction(({ migration, statements }: MigrationStep) => {
      if ((readSchemaVersion(db) ?? 0) >= migration.version) return false;
      for (const statement of statements) db.run(statement);
      const now = nowDb();
      setSetting.run(VERSION_KEY, String(migration.version), now);
      setSetting.run(LAST_RUN_KEY, now, now);
      return true;
    });
    result = driveSync(migrationPlan(source, from, migrations, "sqlite"), (step) =>
      apply.immediate(step),
    );
  } finally {
    setSetting.finalize();
  }
  return { ...result, ...(indexes ? { indexes: ensureIndexesSqlite(db) } : {}) };
}

let expected: Map<string, Set<string>> | undefined;

/** Table → columns of the latest schema, read off a scratch in-memory database. */
export function expectedSchema(): ReadonlyMap<string, ReadonlySet<string>> {
  if (expected) return expected;
  const db = new Database(":memory:");
  try {
    migrateSqlite(db, ":memory:");
    expected = tableColumns(db);
  } finally {
    db.close();
  }
  return expected;
}

/** A query as chatdb runs it on its own files (the latest schema): a variant picked for it. */
export function forLatest<R, P>(query: VariantQuery<R, P>): GetQuery<R, P> | AllQuery<R, P>;
export function forLatest<Q extends Query>(query: Q): Q;
export function forLatest(query: Query): Query {
  return query.kind === "variant"
    ? query.pick(schemaInfo(LATEST_VERSION, expectedSchema()))
    : query;
}

export function tableColumns(db: Database): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
    name: string;
  }[];
  for (const { name } of tables) {
    const cols = db.query(`SELECT name FROM pragma_table_info(?)`).all(name) as { name: string }[];
    out.set(name, new Set(cols.map((c) => c.name)));
  }
  return out;
}

/**
 * What `db` lacks of the latest schema: "table" for a missing table, "table.column" for a
 * missing column. Readonly sources are checked with it on open (they are never migrated).
 */
export function schemaGaps(db: Database): string[] {
  return gapsIn(tableColumns(db));
}

/** What the latest schema has that `live` (table → columns) lacks: "table" or "table.column". */
export function gapsIn(live: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const gaps: string[] = [];
  for (const [table, columns] of expectedSchema()) {
    const have = live.get(table);
    if (have === undefined) gaps.push(table);
    else for (const c of columns) if (!have.has(c)) gaps.push(`${table}.${c}`);
  }
  return gaps;
}

/** The health reason of a readonly source whose schema has gaps or is newer than chatdb ("" when neither). */
export function gapsReason(version: number | null, gaps: readonly string[]): string {
  // a readonly source newer than chatdb is still read, where the columns a call needs exist
  const newer =
    version !== null && version > LATEST_VERSION
      ? `schema version ${version} is newer than this chatdb supports (${LATEST_VERSION}): calls are served where the tables and columns they need exist`
      : "";
  if (gaps.length === 0) return newer;
  const shown = gaps.length > 8 ? [...gaps.slice(0, 8), `${gaps.length - 8} more`] : gaps;
  const missing = `schema mismatch (version ${version ?? "unknown"}; chatdb expects ${LATEST_VERSION}): missing ${shown.join(", ")}`;
  return newer === "" ? missing : `${newer}; ${missing}`;
}

/**
 * Turns "no such table/column" from preparing `sql` into a SCHEMA_MISMATCH naming the source,
 * table and column; returns undefined for any other error.
 */
export function diagnoseMismatch(
  db: Database,
  source: string,
  sql: string,
  error: unknown,
): DatabaseError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const m = /no such (table|column): (?:\w+\.)?(\w+)/.exec(message);
  if (!m) return undefined;
  const version = readSchemaVersion(db);
  const context = `(schema version ${version ?? "unknown"}; chatdb expects ${LATEST_VERSION})`;
  const [, kind, name] = m as unknown as [string, string, string];
  if (kind === "table") {
    return new DatabaseError(
      "SCHEMA_MISMATCH",
      `source ${source}: table ${name} is missing ${context}`,
      { source, cause: error },
    );
  }
  const live = tableColumns(db);
  const table = [...expectedSchema()].find(
    ([t, cols]) =>
      cols.has(name) &&
      new RegExp(`\\b${t}\\b`).test(sql) &&
      live.has(t) &&
      !live.get(t)?.has(name),
  )?.[0];
  const where = table ? `table ${table} has no column ${name}` : `column ${name} is missing`;
  return new DatabaseError("SCHEMA_MISMATCH", `source ${source}: ${where} ${context}`, {
    source,
    cause: error,
  });
}
