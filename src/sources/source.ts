/** What the wrapper needs from a source, whatever its engine. */
import type { SourceConfig } from "../config/types.ts";
import type { DatabaseError } from "../errors.ts";
import type { IndexReport, UnindexedTable } from "../schema/indexes.ts";
import type { ParamsOf, Query, ResultOf } from "./query.ts";

/**
 * `ok`: answering. `degraded`: answering, with a schema that lacks something (see reason).
 * `unavailable`: not answering (reason says why); retried on use. `opening`: the first
 * connection is still being made (a PostgreSQL source, right after construction or reload):
 * nothing is known yet and calls wait for it.
 */
export type SourceState = "ok" | "unavailable" | "degraded" | "opening";

/** One source's row in `db.health()`. */
export interface SourceHealth {
  name: string;
  type: SourceConfig["type"];
  mode: SourceConfig["mode"];
  state: SourceState;
  /** Why it is not ok; "" when ok. */
  reason: string;
  /** When the source last changed state, was (re)opened, or saw its file change. */
  lastChange: Date;
  /** `settings['db-migration-version']`, or null when unknown (no settings table, unavailable). */
  schemaVersion: number | null;
  /**
   * Calls that will scan a large table (≥ 10k rows) here, for want of chatdb's indexes: a
   * readonly file chatdb cannot index (another bot's, an archive made elsewhere). Empty when
   * none; `chatdb check` prints them. Each such call also shows up in `slowQuery` when slow.
   */
  scans: UnindexedTable[];
}

/** A call that took longer than `slowMs` (see {@link SourceHooks.slow}). */
export interface SlowQuery {
  source: string;
  /** The statement: `repository.key` ("messages.since[since]"), see `named()` in query.ts. */
  method: string;
  /** Milliseconds: on SQLite, how long the call held the bot's thread; on PostgreSQL, the round trip. */
  ms: number;
  /** Rows returned (reads) or changed (writes). */
  rows: number;
}

/** How a source reports what happened to it; the wrapper turns these into events. */
export interface SourceHooks {
  /** Calls slower than this many ms are reported through {@link slow} (default: never). */
  readonly slowMs?: number;
  slow?(event: SlowQuery): void;
  /** chatdb's indexes were built on a large file off the thread (`report.failed`: stopped why). */
  indexed?(source: string, report: IndexReport): void;
  reopened?(source: string, reason: string): void;
  /** `operation`: what failed ("open" unless said otherwise). */
  failed?(source: string, error: DatabaseError, operation?: string): void;
}

/** What {@link Source.inspect} found: how `chatdb check` and `status` see a source. */
export interface SourceInspection {
  health: SourceHealth;
  /** Why the source could not be opened (then `health` says unavailable); null when open. */
  error: DatabaseError | null;
  /** Exact row counts of the tables asked for that the source has (none when it is not open). */
  counts: Record<string, number>;
}

/** A call inside a transaction: one query on the transaction's connection. */
export type TransactionRun = <Q extends Query>(
  query: Q,
  params: ParamsOf<Q>,
) => ResultOf<Q> | Promise<ResultOf<Q>>;

export interface Source {
  readonly name: string;
  readonly config: SourceConfig;
  /**
   * Runs one query as one atomic unit, its placeholders bound from `params` by name. SQLite
   * returns synchronously; Postgres a promise.
   */
  exec<Q extends Query>(query: Q, params: ParamsOf<Q>): ResultOf<Q> | Promise<ResultOf<Q>>;
  /** `body`'s calls as one transaction on this source (see `DatabaseWrapper.transaction`). */
  transaction<T>(body: (run: TransactionRun) => Promise<T>): Promise<T>;
  health(): SourceHealth;
  /**
   * Waits for the source's open to end, then reports its health and counts the rows of
   * `tables` (trusted identifiers). For the CLI; the wrapper never calls it. Internal.
   */
  inspect(tables?: readonly string[]): Promise<SourceInspection>;
  close(): Promise<void>;
}
