/**
 * Compile-time checks, run by `npx tsc --noEmit` (this file is not a bun test): a resolved
 * source is one variant per engine, so reading a SQLite path or a PostgreSQL URL needs the
 * `type` checked first, and a resolved config cannot be changed.
 */
import type {
  PostgresSourceConfig,
  ResolvedConfig,
  SourceConfig,
  SourceType,
  SqliteSourceConfig,
} from "../../src/index.ts";

declare const config: ResolvedConfig;
declare const sqlite: SqliteSourceConfig;
declare const postgres: PostgresSourceConfig;

for (const s of config.sources) {
  if (s.type === "sqlite") void s.path.length;
  else void s.url.length;
  void [s.name, s.mode, s.readonly, s.immutable, s.timeout, s.maxConnections];
}
const types: SourceType[] = ["sqlite", "postgres"];
const either: SourceConfig[] = [sqlite, postgres];
void [types, either];

declare const s: SourceConfig;
// @ts-expect-error a path only after `type === "sqlite"`
void s.path;
// @ts-expect-error a URL only after `type === "postgres"`
void s.url;
// @ts-expect-error a SQLite source has no URL
void sqlite.url;
// @ts-expect-error a PostgreSQL source has no path
void postgres.path;
// @ts-expect-error not an engine
const libsql: SourceType = "libsql";
void libsql;
// @ts-expect-error resolved configs are read-only
sqlite.path = "other.db";
// @ts-expect-error the variants do not mix
const mixed: SourceConfig = { ...sqlite, type: "postgres" };
void mixed;
