/** The resolved, frozen config every internal module works with: no optional fields. */

export type SourceType = "sqlite" | "postgres";

/** How a SQLite source is opened; see API.md "Source modes". */
export type SourceMode = "read-write" | "readonly" | "immutable";

export interface SourceConfig {
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
  readonly maxConnections: number;
}

export interface SyncConfig {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  /** Seconds between snapshots, at most. */
  readonly interval: number;
}

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
