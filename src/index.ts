/** chatdb's public surface. Anything not listed here is internal. */
export { loadConfig, type ParseOptions, parseConfig } from "./config/load.ts";
export type {
  ResolvedConfig,
  SourceConfig,
  SourceMode,
  SourceType,
  SyncConfig,
} from "./config/types.ts";
export type { HealthReport, Logger, WrapperEvents, WrapperOptions } from "./core.ts";
export { DatabaseError, type DatabaseErrorCode, isDatabaseError } from "./errors.ts";
export type { RouteExplanation, RouteRequest, RouteRule } from "./routing.ts";
export { CACHE_TYPES, LATEST_VERSION } from "./schema/migrations.ts";
export type { SourceHealth, SourceState } from "./sources/source.ts";
export type * from "./types.ts";
export { DatabaseWrapper } from "./wrapper.ts";
