/** The resolved, frozen config every internal module works with: no optional fields. */

/** The engine behind a source. */
export type SourceType = "sqlite" | "postgres";

/**
 * How a source is opened: `read-write` (the bot's own database: WAL, migrated), `readonly`
 * (another bot's live database: one persistent read-only connection, never migrated) or
 * `immutable` (a frozen file or sidecar snapshot: `immutable=1`, fastest, ignores `-wal`).
 */
export type SourceMode = "read-write" | "readonly" | "immutable";

/** One `[database.sources.NAME]` table, resolved. */
export interface SourceConfig {
  /** The table's name: what `dataSource`, the chat map and `explain()` refer to. */
  readonly name: string;
  readonly type: SourceType;
  /** SQLite: absolute path or ":memory:". Postgres: "". */
  readonly path: string;
  /** Postgres connection URL; "" for SQLite. */
  readonly url: string;
  readonly readonly: boolean;
  readonly immutable: boolean;
  readonly mode: SourceMode;
  /** Seconds: SQLite busy timeout / Postgres connect timeout. */
  readonly timeout: number;
  /** Postgres pool size; kept for compatibility on SQLite (one connection per source). */
  readonly maxConnections: number;
}

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
