/** The resolved, frozen config every internal module works with: no optional fields. */
import type * as v from "valibot";
import type { SOURCE_MODES, SourceConfigSchema } from "./schema.ts";

export type { SourceType } from "./schema.ts";

/**
 * How a source is opened: `read-write` (the bot's own database: WAL, migrated), `readonly`
 * (another bot's live database: one persistent read-only connection, never migrated) or
 * `immutable` (a frozen file or sidecar snapshot: `immutable=1`, fastest, ignores `-wal`).
 */
export type SourceMode = (typeof SOURCE_MODES)[number];

/**
 * One `[database.sources.NAME]` table, resolved: one variant per engine, told apart by
 * `type` (`config.type === "sqlite"` narrows to {@link SqliteSourceConfig}). Derived from
 * `SourceConfigSchema` in schema.ts.
 */
export type SourceConfig = Readonly<v.InferOutput<typeof SourceConfigSchema>>;

/** A SQLite source: `path` is absolute, or ":memory:". */
export type SqliteSourceConfig = Extract<SourceConfig, { type: "sqlite" }>;

/** A PostgreSQL source: `url` is its connection URL (password included: redact before showing). */
export type PostgresSourceConfig = Extract<SourceConfig, { type: "postgres" }>;

/** One `[sync.NAME]` table, resolved: what the sidecar publishes, and where. */
export interface SyncConfig {
  readonly name: string;
  /** Absolute path of the live database to copy. */
  readonly from: string;
  /** Absolute path the snapshot is renamed to. */
  readonly to: string;
  /** Seconds between snapshots, at most. */
  readonly interval: number;
}

/**
 * A validated config, as {@link parseConfig} and {@link loadConfig} return it: frozen, paths
 * absolute, aliases folded, defaults filled in.
 */
export interface ResolvedConfig {
  /** In config (TOML declaration) order: the order aggregation visits them. */
  readonly sources: readonly SourceConfig[];
  readonly defaultSource: string;
  /** Chat id → source name. */
  readonly chatMapping: ReadonlyMap<number, string>;
  readonly sync: readonly SyncConfig[];
  /** The file it came from, if any; used in messages and by the watcher. */
  readonly file: string | undefined;
}
