/**
 * The machinery under every data method: constructor forms, the current config generation
 * (router + open sources, swapped as one object), routed reads and writes, aggregation,
 * events, health and close. `DatabaseWrapper` (wrapper.ts) adds the data methods on top.
 */
import { EventEmitter } from "node:events";
import { resolve } from "node:path";
import { frozenMap, loadConfig } from "./config/load.ts";
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT } from "./config/schema.ts";
import type { ResolvedConfig, SourceConfig } from "./config/types.ts";
import { DatabaseError } from "./errors.ts";
import { ConfigWatcher } from "./live/config-watcher.ts";
import { SourceWatcher } from "./live/source-watcher.ts";
import { type RouteExplanation, type RouteRequest, Router } from "./routing.ts";
import { PostgresSource } from "./sources/postgres-source.ts";
import type { Params, Query, ResultOf } from "./sources/query.ts";
import type { Source, SourceHealth, SourceHooks } from "./sources/source.ts";
import { SqliteSource } from "./sources/sqlite-source.ts";
import type { AggregateOptions, ReadOptions } from "./types.ts";

/** Where log lines go; the library never prints. Every method is optional. */
export interface Logger {
  debug?(message: string, data?: Record<string, unknown>): void;
  info?(message: string, data?: Record<string, unknown>): void;
  warn?(message: string, data?: Record<string, unknown>): void;
  error?(message: string, data?: Record<string, unknown>): void;
}

interface CommonOptions {
  /** Where log lines go; nothing is logged by default. */
  logger?: Logger | undefined;
  /** Watch readonly/immutable source files and reopen them when replaced (default true). */
  watchSources?: boolean | undefined;
  /** Trailing debounce for config and source file events, ms (default 50). */
  debounceMs?: number | undefined;
  /** Safety poll period for missed file events, ms (default 1000; 0 disables). */
  pollMs?: number | undefined;
}

/**
 * The constructor's accepted forms: a legacy database path; `{ dbPath, maxConnections,
 * timeout }` (legacy, one writable source `default`); `{ configPath, watch }` (a TOML file;
 * `watch: true` turns hot reload on); `{ config }` (a resolved config from
 * {@link parseConfig}/{@link loadConfig}). `logger`, `watchSources`, `debounceMs` and `pollMs`
 * apply to every form.
 */
export type WrapperOptions =
  | string
  | (CommonOptions & { configPath: string; watch?: boolean | undefined })
  | (CommonOptions & { config: ResolvedConfig; watch?: boolean | undefined })
  | (CommonOptions & {
      dbPath: string;
      maxConnections?: number | undefined;
      timeout?: number | undefined;
    });

/**
 * Events and their payloads, for `db.on(event, listener)`. The library prints nothing: these
 * events (and the optional {@link Logger}) are how it reports what happened.
 */
export interface WrapperEvents {
  /** A new config was applied: sources added, removed and changed (reopened) by name. */
  reload: [
    {
      generation: number;
      config: ResolvedConfig;
      added: string[];
      removed: string[];
      changed: string[];
    },
  ];
  /** The config file changed but is invalid (`CONFIG_PARSE`/`CONFIG_INVALID`); the last good one stays. */
  reloadError: [{ error: DatabaseError }];
  /** A source was reopened: "file replaced", "file is back", after corruption, ... */
  sourceReopened: [{ source: string; reason: string }];
  /** A source failed to open, or was skipped by an aggregated read (`operation`). */
  sourceError: [{ source: string; error: DatabaseError; operation: string }];
}

/** One applied config: routing plus the sources it routes to. Replaced as a whole on reload. */
export interface Generation {
  readonly router: Router;
  readonly sources: ReadonlyMap<string, Source>;
}

/** What `db.health()` returns: the config in force and one entry per source, in config order. */
export interface HealthReport {
  /** The config generation: 1 at construction, +1 per applied reload. */
  generation: number;
  defaultSource: string;
  /** The config file, when the wrapper was built from one. */
  configFile: string | undefined;
  sources: SourceHealth[];
}

/** Legacy forms (a path, or {dbPath, maxConnections, timeout}) → one writable source `default`. */
export function legacyConfig(
  dbPath: string,
  maxConnections?: number,
  timeout?: number,
): ResolvedConfig {
  if (typeof dbPath !== "string" || dbPath === "") {
    throw new DatabaseError("INVALID_ARGUMENT", "dbPath: expected a non-empty path");
  }
  const path = dbPath === ":memory:" ? dbPath : resolve(dbPath);
  const source: SourceConfig = Object.freeze({
    name: "default",
    type: "sqlite",
    path,
    url: "",
    readonly: false,
    immutable: false,
    mode: "read-write",
    timeout: timeout ?? DEFAULT_TIMEOUT,
    maxConnections: maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  });
  return Object.freeze({
    sources: Object.freeze([source]),
    defaultSource: "default",
    chatMapping: frozenMap<number, string>([]),
    sync: Object.freeze([]),
    file: undefined,
  });
}

/** Opens a source of the configured kind. */
export type SourceFactory = (config: SourceConfig, hooks: SourceHooks) => Source;

export const openSource: SourceFactory = (config, hooks) =>
  config.type === "postgres" ? new PostgresSource(config, hooks) : new SqliteSource(config, hooks);

export class WrapperCore extends EventEmitter<WrapperEvents> {
  protected gen: Generation;
  protected readonly logger: Logger;
  readonly #configPath: string | undefined;
  readonly #timing: { debounceMs: number; pollMs: number };
  readonly #hooks: SourceHooks;
  #sourceWatcher: SourceWatcher | undefined;
  #configWatcher: ConfigWatcher | undefined;
  #reloading: Promise<number> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WrapperOptions) {
    super();
    const o: CommonOptions & { watch?: boolean | undefined } =
      typeof options === "string" ? {} : options;
    let config: ResolvedConfig;
    if (typeof options === "string") {
      config = legacyConfig(options);
    } else if ("configPath" in options) {
      config = loadConfig(options.configPath);
    } else if ("config" in options) {
      config = options.config;
    } else if ("dbPath" in options) {
      config = legacyConfig(options.dbPath, options.maxConnections, options.timeout);
    } else {
      throw new DatabaseError(
        "INVALID_ARGUMENT",
        "DatabaseWrapper: pass a path, { dbPath }, { config } or { configPath }",
      );
    }
    this.logger = o.logger ?? {};
    this.#configPath = config.file;
    this.#timing = { debounceMs: o.debounceMs ?? 50, pollMs: o.pollMs ?? 1000 };
    this.#hooks = {
      reopened: (source, reason) => {
        this.logger.info?.(`chatdb: source ${source} reopened (${reason})`, { source });
        this.emit("sourceReopened", { source, reason });
      },
      failed: (source, error, operation) =>
        this.reportSourceError(source, error, operation ?? "open"),
    };
    this.gen = {
      router: new Router(config, 1),
      sources: openAll(config.sources, this.logger, this.#hooks),
    };
    if (o.watchSources !== false) {
      this.#sourceWatcher = new SourceWatcher({
        ...this.#timing,
        onError: (e) => this.#watchError(e),
      });
      void this.#sourceWatcher.track(this.gen.sources.values());
    }
    if (o.watch) {
      if (this.#configPath === undefined) {
        throw new DatabaseError(
          "INVALID_ARGUMENT",
          "watch: true needs a config file ({ configPath } or loadConfig)",
        );
      }
      void this.watch();
    }
  }

  /** The config file being used, if the wrapper was built from one. */
  get configPath(): string | undefined {
    return this.#configPath;
  }

  /** The number of the config applied now: 1 at construction, +1 per successful reload. */
  get generation(): number {
    return this.gen.router.generation;
  }

  /**
   * Starts hot reload: the config file's folder is watched and every valid change is applied
   * (see {@link reload}). Resolves once the watchers are ready. Idempotent.
   */
  watch(): Promise<void> {
    this.assertOpen();
    const file = this.#configPath;
    if (file === undefined) {
      return Promise.reject(
        new DatabaseError(
          "INVALID_ARGUMENT",
          "watch(): this wrapper was not built from a config file",
        ),
      );
    }
    this.#configWatcher ??= new ConfigWatcher(file, () => void this.reload().catch(() => {}), {
      ...this.#timing,
      onError: (e) => this.#watchError(e),
    });
    return Promise.all([this.#configWatcher.ready, this.#sourceWatcher?.ready]).then(() => {});
  }

  /**
   * Re-reads the config file and swaps in the new chat map, default and source set at once:
   * added sources open, removed ones close, changed ones reopen, unchanged ones keep their
   * connections. An invalid file keeps the last good config, emits `reloadError` and rejects.
   * Resolves to the generation in force afterwards.
   */
  reload(): Promise<number> {
    const run = () => {
      this.assertOpen();
      const file = this.#configPath;
      if (file === undefined) {
        throw new DatabaseError(
          "INVALID_ARGUMENT",
          "reload(): this wrapper was not built from a config file",
        );
      }
      try {
        return this.#apply(loadConfig(file));
      } catch (e) {
        const error =
          e instanceof DatabaseError
            ? e
            : new DatabaseError("CONFIG_INVALID", String(e), { cause: e });
        this.logger.warn?.(
          `chatdb: config not reloaded, keeping generation ${this.generation}: ${error.message}`,
        );
        this.emit("reloadError", { error });
        throw error;
      }
    };
    // one reload at a time; a request made during a reload runs after it, on the newest file
    const next = (this.#reloading ?? Promise.resolve(0)).catch(() => 0).then(run);
    this.#reloading = next;
    return next;
  }

  /** Applies a resolved config: opens what is new or changed, swaps, then closes what is gone. */
  #apply(config: ResolvedConfig): number {
    const old = this.gen;
    const sources = new Map<string, Source>();
    const opened: Source[] = [];
    try {
      for (const c of config.sources) {
        const prev = old.sources.get(c.name);
        if (prev && sameSource(prev.config, c)) {
          sources.set(c.name, prev);
        } else {
          const s = openSourceOf(config, c, this.#hooks);
          opened.push(s);
          sources.set(c.name, s);
        }
      }
    } catch (e) {
      for (const s of opened) void s.close();
      throw e;
    }
    const keep = new Set(sources.values());
    const retired = [...old.sources.values()].filter((s) => !keep.has(s));
    // The swap is one assignment. SQLite calls run synchronously, so none is half-way through
    // an old source here; Postgres sources let in-flight queries finish inside close().
    this.gen = { router: new Router(config, old.router.generation + 1), sources };
    for (const s of retired) void s.close();
    void this.#sourceWatcher?.track(sources.values());
    const names = (xs: Iterable<Source>) => [...xs].map((s) => s.name);
    const payload = {
      generation: this.generation,
      config,
      added: names(opened).filter((n) => !old.sources.has(n)),
      removed: names(retired).filter((n) => !sources.has(n)),
      changed: names(opened).filter((n) => old.sources.has(n)),
    };
    this.logger.info?.(`chatdb: config generation ${payload.generation} applied`, payload);
    this.emit("reload", payload);
    return payload.generation;
  }

  #watchError(e: unknown): void {
    this.logger.error?.(`chatdb: watcher error: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** Where a call would go and why, without running it. */
  explain(request: RouteRequest = {}): RouteExplanation {
    this.assertOpen();
    return this.gen.router.explain(request);
  }

  /** Per-source state, reason, last change and schema version, plus the config generation. */
  health(): HealthReport {
    const { router, sources } = this.gen;
    return {
      generation: router.generation,
      defaultSource: router.config.defaultSource,
      configFile: router.config.file,
      sources: [...sources.values()].map((s) => s.health()),
    };
  }

  /** The resolved config in use. */
  get config(): ResolvedConfig {
    return this.gen.router.config;
  }

  protected assertOpen(): void {
    if (this.#closing) throw new DatabaseError("CLOSED", "DatabaseWrapper is closed");
  }

  protected source(name: string): Source {
    const s = this.gen.sources.get(name);
    if (s === undefined)
      throw new DatabaseError("UNKNOWN_SOURCE", `source ${name} is not open`, { source: name });
    return s;
  }

  /**
   * A read routed by dataSource → chat map → default, as a promise. A SQLite result is already
   * there, so it is wrapped by `Promise.resolve` rather than an async function (≈ 2 % of a
   * 3 µs point read, bench "breakdown"); a throw here stays a throw, and the data methods turn
   * it (and their argument checks) into a rejection.
   */
  protected read<Q extends Query>(
    chatId: number | undefined,
    opts: ReadOptions | undefined,
    query: Q,
    params: Params,
  ): Promise<ResultOf<Q>> {
    this.assertOpen();
    const result = this.source(this.gen.router.resolve(chatId, opts?.dataSource, false)).exec(
      query,
      params,
    );
    return result instanceof Promise ? result : Promise.resolve(result);
  }

  /** A write routed by chat (or to the default source when chatId is undefined). */
  protected write<Q extends Query>(chatId: number | undefined, query: Q, params: Params) {
    this.assertOpen();
    return this.source(this.gen.router.resolve(chatId, undefined, true)).exec(query, params);
  }

  /**
   * Runs `query` on every source (or only `opts.dataSource`) and deduplicates by `key`: the copy
   * from the row's home source wins, else the first in config order. The merged rows are put
   * in `order` (the query's own ORDER BY, so one source or many read the same) and cut to
   * `limit`. A failing source is skipped and reported through `sourceError`, unless `opts.strict`.
   */
  protected async aggregate<T extends { readonly dataSource: string }>(
    query: Query<T[]>,
    params: Params,
    opts: AggregateOptions | undefined,
    rule: {
      key: (row: T) => string | number;
      home: (row: T) => string;
      order: (a: T, b: T) => number;
      limit?: number;
    },
  ): Promise<T[]> {
    const { key, home } = rule;
    strictOption(opts);
    if (opts?.dataSource !== undefined)
      return (await this.read(undefined, opts, query, params)) as T[];
    this.assertOpen();
    const sources = this.gen.sources;
    const winners = new Map<string | number, T>();
    for (const source of sources.values()) {
      let rows: T[];
      try {
        // await only real promises (Postgres): an all-SQLite aggregate then runs in one go,
        // so no reload can swap sources between two of its reads
        const result = source.exec(query, params);
        rows = (result instanceof Promise ? await result : result) as T[];
      } catch (e) {
        if (opts?.strict || !(e instanceof DatabaseError)) throw e;
        this.reportSourceError(source.name, e, "aggregate");
        continue;
      }
      // Keys are primary keys, so one source's rows are already unique: nothing to merge.
      if (sources.size === 1) return rows;
      for (const row of rows) {
        const k = key(row);
        const seen = winners.get(k);
        // `dataSource` tells where a copy came from; home is worked out only on a collision.
        if (
          seen === undefined ||
          (home(row) === row.dataSource && home(seen) !== seen.dataSource)
        ) {
          winners.set(k, row);
        }
      }
    }
    const merged = [...winners.values()].sort(rule.order);
    return rule.limit === undefined ? merged : merged.slice(0, rule.limit);
  }

  /** The first source (default first, then config order) whose query returns non-null. */
  protected async firstMatch<T>(
    query: Query<T | null>,
    params: Params,
    opts: AggregateOptions | undefined,
  ): Promise<T | null> {
    strictOption(opts);
    if (opts?.dataSource !== undefined)
      return (await this.read(undefined, opts, query, params)) as T | null;
    this.assertOpen();
    const { router, sources } = this.gen;
    const order = [
      router.config.defaultSource,
      ...[...sources.keys()].filter((n) => n !== router.config.defaultSource),
    ];
    for (const name of order) {
      try {
        const result = this.source(name).exec(query, params);
        const found = (result instanceof Promise ? await result : result) as T | null;
        if (found !== null) return found;
      } catch (e) {
        if (opts?.strict || !(e instanceof DatabaseError)) throw e;
        this.reportSourceError(name, e, "firstMatch");
      }
    }
    return null;
  }

  protected reportSourceError(source: string, error: DatabaseError, operation: string): void {
    this.logger.warn?.(`chatdb: source ${source} failed (${operation}): ${error.message}`, {
      source,
      code: error.code,
    });
    this.emit("sourceError", { source, error, operation });
  }

  /** Closes every source; idempotent (returns the same promise). Calls afterwards reject CLOSED. */
  close(): Promise<void> {
    this.#closing ??= this.closeResources();
    return this.#closing;
  }

  /** Watchers first, then sources in reverse order of opening. */
  protected async closeResources(): Promise<void> {
    await Promise.all([this.#configWatcher?.close(), this.#sourceWatcher?.close()]);
    await this.#reloading?.catch(() => {});
    const sources = [...this.gen.sources.values()].reverse();
    await Promise.all(sources.map((s) => s.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** `strict` decides whether a failing source is fatal: a truthy string must not flip it. */
function strictOption(opts: AggregateOptions | undefined): void {
  if (opts?.strict !== undefined && typeof opts.strict !== "boolean") {
    throw new DatabaseError(
      "INVALID_ARGUMENT",
      `strict: expected a boolean, got ${typeof opts.strict}`,
    );
  }
}

/** Opens sources in config order; if one fails, closes those already opened and rethrows. */
export function openAll(
  configs: readonly SourceConfig[],
  logger: Logger,
  hooks: SourceHooks,
): Map<string, Source> {
  const opened = new Map<string, Source>();
  try {
    for (const c of configs) {
      const source = openSource(c, hooks);
      opened.set(c.name, source);
      const h = source.health();
      // "opening" is not a problem yet: a failed first connection is reported when it fails
      if (h.state !== "ok" && h.state !== "opening")
        logger.warn?.(`chatdb: source ${c.name} is ${h.state}: ${h.reason}`, { source: c.name });
    }
  } catch (e) {
    for (const s of opened.values()) void s.close();
    throw e;
  }
  return opened;
}

/**
 * Opens a source for a reload. A source the new config adds or changes that cannot be opened
 * (a writable path in a missing or read-only place, a directory, /dev/null) makes the config
 * wrong, not the call: CONFIG_INVALID naming the key, the engine's error as cause.
 */
function openSourceOf(config: ResolvedConfig, c: SourceConfig, hooks: SourceHooks): Source {
  try {
    return openSource(c, hooks);
  } catch (e) {
    const key = `sources.${c.name}.${c.type === "sqlite" ? "path" : "url"}`;
    const why = e instanceof Error ? e.message : String(e);
    throw new DatabaseError(
      "CONFIG_INVALID",
      `config ${config.file ?? "<config>"}: ${key}: cannot open source ${c.name}: ${why}`,
      { cause: e, source: c.name },
    );
  }
}

/** Two source configs open the same thing the same way (all fields are primitives). */
const sameSource = (a: SourceConfig, b: SourceConfig) => JSON.stringify(a) === JSON.stringify(b);

export type { ResultOf };
