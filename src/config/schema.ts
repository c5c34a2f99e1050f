/**
 * The config's shape, as valibot schemas: the single source of truth for key names, types
 * and defaults, and for the resolved source's type (`SourceConfigSchema`). Aliases are folded
 * in by `load.ts` before these run; cross-field rules (immutable needs readonly, targets must
 * exist, paths must differ) live there and in `source-config.ts`.
 */
import * as v from "valibot";

/** Seconds; 30 like gromozeka. */
export const DEFAULT_TIMEOUT = 30;
export const DEFAULT_MAX_CONNECTIONS = 5;
export const DEFAULT_SYNC_INTERVAL = 1;

const nonEmpty = v.pipe(v.string(), v.minLength(1, "must not be empty"));
const seconds = v.pipe(
  v.number(),
  v.finite("must be a finite number"),
  v.minValue(0, "must be >= 0"),
);

/**
 * The engines a source can use, by `type`: the keys only that engine takes in
 * `[database.sources.NAME]`, and what its resolved config holds besides the common fields.
 * A new engine is an entry here, its resolver in `source-config.ts` and its class in
 * `sources/open.ts` (TypeScript points at both once the entry exists).
 */
export const ENGINES = {
  sqlite: {
    keys: { path: v.optional(nonEmpty) },
    resolved: {
      /** Absolute path (symlinks in its folder resolved), or ":memory:". */
      path: v.string(),
    },
  },
  postgres: {
    // a url, or the discrete parts of one
    keys: {
      url: v.optional(nonEmpty),
      host: v.optional(nonEmpty),
      port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))),
      user: v.optional(v.string()),
      password: v.optional(v.string()),
      /** The name of an environment variable holding the password, so the file holds no secret. */
      password_env: v.optional(
        v.pipe(
          v.string(),
          v.regex(
            /^[A-Za-z_][A-Za-z0-9_]*$/,
            "must be an environment variable name (A-Z a-z 0-9 _)",
          ),
        ),
      ),
      database: v.optional(nonEmpty),
    },
    resolved: {
      /** The connection URL, built from the parts when given so, password included. */
      url: v.string(),
    },
  },
} as const;

/** The engine behind a source. */
export type SourceType = keyof typeof ENGINES;
export const SOURCE_TYPES = Object.keys(ENGINES) as [SourceType, ...SourceType[]];

/**
 * How a source is opened: `read-write` (the bot's own database: WAL, migrated), `readonly`
 * (another bot's live database: one persistent read-only connection, never migrated) or
 * `immutable` (a frozen file or sidecar snapshot: `immutable=1`, fastest, ignores `-wal`).
 */
export const SOURCE_MODES = ["read-write", "readonly", "immutable"] as const;

/**
 * One `[database.sources.NAME]` table as written: every engine's keys (so a typo gets a hint
 * whatever the type), checked per engine in `source-config.ts`.
 */
export const SourceSchema = v.strictObject({
  type: v.optional(
    v.picklist(SOURCE_TYPES, `must be ${SOURCE_TYPES.map((t) => `"${t}"`).join(" or ")}`),
    "sqlite",
  ),
  ...ENGINES.sqlite.keys,
  readonly: v.optional(v.boolean(), false),
  immutable: v.optional(v.boolean(), false),
  timeout: v.optional(seconds, DEFAULT_TIMEOUT),
  max_connections: v.optional(
    v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be >= 1")),
    DEFAULT_MAX_CONNECTIONS,
  ),
  ...ENGINES.postgres.keys,
});

/** What every resolved source holds, whatever its engine. */
const resolvedSource = {
  /** The table's name: what `dataSource`, the chat map and `explain()` refer to. */
  name: v.string(),
  readonly: v.boolean(),
  immutable: v.boolean(),
  mode: v.picklist(SOURCE_MODES),
  /** Seconds: SQLite busy timeout / Postgres connect timeout. */
  timeout: v.number(),
  /** Postgres pool size; kept for compatibility on SQLite (one connection per source). */
  maxConnections: v.number(),
};

/**
 * A source as the library uses it, one variant per engine: the type `SourceConfig` is this
 * schema's output. Built only by `sourceConfig()` in `source-config.ts`.
 */
export const SourceConfigSchema = v.variant("type", [
  v.object({ type: v.literal("sqlite"), ...ENGINES.sqlite.resolved, ...resolvedSource }),
  v.object({ type: v.literal("postgres"), ...ENGINES.postgres.resolved, ...resolvedSource }),
]);

export const DatabaseSchema = v.strictObject({
  default_source: v.optional(nonEmpty),
  sources: v.pipe(
    v.record(
      v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]+$/, "source names use A-Z a-z 0-9 _ . -")),
      SourceSchema,
    ),
    v.check((s) => Object.keys(s).length > 0, "at least one source is required"),
  ),
  chat_mapping: v.optional(v.record(v.string(), nonEmpty), {}),
});

export const SyncSchema = v.strictObject({
  from: nonEmpty,
  to: nonEmpty,
  interval: v.optional(v.pipe(seconds, v.minValue(0.01, "must be >= 0.01")), DEFAULT_SYNC_INTERVAL),
});

export const SyncTableSchema = v.record(v.string(), SyncSchema);

/** Keys each table accepts, for "did you mean" hints. */
export const KNOWN_KEYS = {
  database: Object.keys(DatabaseSchema.entries),
  source: Object.keys(SourceSchema.entries),
  sync: Object.keys(SyncSchema.entries),
} as const;

/** gromozeka's spellings → the seed's. */
export const DATABASE_ALIASES: Readonly<Record<string, string>> = {
  default: "default_source",
  chatMapping: "chat_mapping",
};
export const SOURCE_ALIASES: Readonly<Record<string, string>> = {
  "pool-size": "max_connections",
};

export type SourceInput = v.InferOutput<typeof SourceSchema>;
export type DatabaseInput = v.InferOutput<typeof DatabaseSchema>;
