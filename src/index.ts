/**
 * chatdb's public surface. Anything not listed here is internal.
 *
 * - {@link DatabaseWrapper}: the data layer a bot uses; {@link parseConfig} / {@link loadConfig}
 *   build its config; {@link DatabaseError} is the one error type it throws.
 * - {@link Sidecar} (and {@link SnapshotPublisher}, {@link publishSnapshot}): the snapshot
 *   publisher `chatdb sync` runs, for embedding in a process of your own.
 * - The record, option, event and health types of the above.
 */
export { loadConfig, type ParseOptions, parseConfig } from "./config/load.ts";
export type {
  PostgresSourceConfig,
  ResolvedConfig,
  SourceConfig,
  SourceMode,
  SourceType,
  SqliteSourceConfig,
  SyncConfig,
} from "./config/types.ts";
export type {
  HealthReport,
  Logger,
  QueryOptions,
  TransactionTarget,
  WrapperEvents,
  WrapperOptions,
} from "./core.ts";
export { DatabaseError, type DatabaseErrorCode, isDatabaseError } from "./errors.ts";
export { isNegativeDivinationLayout } from "./repositories/divinations.ts";
export type { RouteExplanation, RouteRequest, RouteRule } from "./routing.ts";
export { CACHE_TYPES, LATEST_VERSION } from "./schema/migrations.ts";
export {
  createSessionStorage,
  type SessionStorage,
  type SessionStorageOptions,
} from "./session.ts";
export type { SlowQuery, SourceHealth, SourceState } from "./sources/source.ts";
export type { UserParams, UserRow } from "./sources/user-sql.ts";
export type { PublisherOptions, SyncEvents } from "./sync/publisher.ts";
export { SnapshotPublisher } from "./sync/publisher.ts";
export { Sidecar } from "./sync/sidecar.ts";
export { publishSnapshot, type SnapshotResult } from "./sync/snapshot.ts";
export type * from "./types.ts";
export { DatabaseWrapper } from "./wrapper.ts";
