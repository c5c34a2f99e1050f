/** What the wrapper needs from a source, whatever its engine. */
import type { SourceConfig } from "../config/types.ts";
import type { DatabaseError } from "../errors.ts";
import type { Params, Query, ResultOf } from "./query.ts";

/**
 * A source's state in `db.health()`: `ok`; `unavailable` (file missing or unopenable, or a
 * Postgres server unreachable: its calls reject `SOURCE_UNAVAILABLE`); `degraded` (open, but a
 * readonly source's schema lacks tables or columns: calls that need them reject `SCHEMA_MISMATCH`).
 */
export type SourceState = "ok" | "unavailable" | "degraded";

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
}

/** How a source reports what happened to it; the wrapper turns these into events. */
export interface SourceHooks {
  reopened?(source: string, reason: string): void;
  failed?(source: string, error: DatabaseError): void;
}

export interface Source {
  readonly name: string;
  readonly config: SourceConfig;
  /** Runs one query as one atomic unit. SQLite returns synchronously; Postgres a promise. */
  exec<Q extends Query>(query: Q, params: Params): ResultOf<Q> | Promise<ResultOf<Q>>;
  health(): SourceHealth;
  close(): Promise<void>;
}
