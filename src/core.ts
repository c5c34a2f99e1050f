/**
 * The machinery under every data method: constructor forms, the current config generation
 * (router + open sources, swapped as one object), routed reads and writes, aggregation,
 * events, health and close. `DatabaseWrapper` (wrapper.ts) adds the data methods on top.
 */
import { EventEmitter } from "node:events";
import { resolve } from "node:path";
import { loadConfig } from "./config/load.ts";
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT } from "./config/schema.ts";
import type { ResolvedConfig, SourceConfig } from "./config/types.ts";
import { DatabaseError } from "./errors.ts";
import { type RouteExplanation, type RouteRequest, Router } from "./routing.ts";
import { PostgresSource } from "./sources/postgres-source.ts";
import type { Params, Query, ResultOf } from "./sources/query.ts";
import type { Source, SourceHealth } from "./sources/source.ts";
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
  logger?: Logger | undefined;
}

/** The constructor's accepted forms (API.md "Module surface"). */
export type WrapperOptions =
  | string
  | (CommonOptions & { configPath: string; watch?: boolean | undefined })
  | (CommonOptions & { config: ResolvedConfig })
  | (CommonOptions & {
      dbPath: string;
      maxConnections?: number | undefined;
      timeout?: number | undefined;
    });

/** Events and their payloads. */
export interface WrapperEvents {
  reload: [
    {
      generation: number;
      config: ResolvedConfig;
      added: string[];
      removed: string[];
      changed: string[];
    },
  ];
  reloadError: [{ error: DatabaseError }];
  sourceReopened: [{ source: string; reason: string }];
  sourceError: [{ source: string; error: DatabaseError; operation: string }];
}

/** One applied config: routing plus the sources it routes to. Replaced as a whole on reload. */
export interface Generation {
  readonly router: Router;
  readonly sources: ReadonlyMap<string, Source>;
}

export interface HealthReport {
  generation: number;
  defaultSource: string;
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
    chatMapping: new Map(),
    sync: Object.freeze([]),
    file: undefined,
  });
}

/** Opens a source of the configured kind. Overridable (tests inject failing sources). */
export type SourceFactory = (config: SourceConfig) => Source;

export const openSource: SourceFactory = (config) =>
  config.type === "postgres" ? new PostgresSource(config) : new SqliteSource(config);

export class WrapperCore extends EventEmitter<WrapperEvents> {
  protected gen: Generation;
  protected readonly logger: Logger;
  readonly #configPath: string | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WrapperOptions) {
    super();
    let config: ResolvedConfig;
    if (typeof options === "string") {
      config = legacyConfig(options);
      this.logger = {};
    } else if ("configPath" in options) {
      this.#configPath = resolve(options.configPath);
      config = loadConfig(this.#configPath);
      this.logger = options.logger ?? {};
    } else if ("config" in options) {
      config = options.config;
      this.logger = options.logger ?? {};
    } else if ("dbPath" in options) {
      config = legacyConfig(options.dbPath, options.maxConnections, options.timeout);
      this.logger = options.logger ?? {};
    } else {
      throw new DatabaseError(
        "INVALID_ARGUMENT",
        "DatabaseWrapper: pass a path, { dbPath }, { config } or { configPath }",
      );
    }
    this.gen = { router: new Router(config, 1), sources: openAll(config.sources, this.logger) };
  }

  /** The config file being used, if the wrapper was built from one. */
  get configPath(): string | undefined {
    return this.#configPath;
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

  /** A read routed by dataSource → chat map → default. */
  protected read<Q extends Query>(
    chatId: number | undefined,
    opts: ReadOptions | undefined,
    query: Q,
    params: Params,
  ) {
    this.assertOpen();
    return this.source(this.gen.router.resolve(chatId, opts?.dataSource, false)).exec(
      query,
      params,
    );
  }

  /** A write routed by chat (or to the default source when chatId is undefined). */
  protected write<Q extends Query>(chatId: number | undefined, query: Q, params: Params) {
    this.assertOpen();
    return this.source(this.gen.router.resolve(chatId, undefined, true)).exec(query, params);
  }

  /**
   * Runs `query` on every source (or only `opts.dataSource`) and deduplicates by `key`: the copy
   * from the row's home source wins, else the first in config order. A failing source is
   * skipped and reported through `sourceError`, unless `opts.strict`.
   */
  protected async aggregate<T>(
    query: Query<T[]>,
    params: Params,
    opts: AggregateOptions | undefined,
    key: (row: T) => string | number,
    home: (row: T) => string,
  ): Promise<T[]> {
    if (opts?.dataSource !== undefined)
      return (await this.read(undefined, opts, query, params)) as T[];
    this.assertOpen();
    const winners = new Map<string | number, { row: T; atHome: boolean }>();
    for (const source of this.gen.sources.values()) {
      let rows: T[];
      try {
        rows = (await source.exec(query, params)) as T[];
      } catch (e) {
        if (opts?.strict || !(e instanceof DatabaseError)) throw e;
        this.reportSourceError(source.name, e, "aggregate");
        continue;
      }
      for (const row of rows) {
        const k = key(row);
        const atHome = home(row) === source.name;
        const seen = winners.get(k);
        if (seen === undefined) winners.set(k, { row, atHome });
        else if (atHome && !seen.atHome) winners.set(k, { row, atHome });
      }
    }
    return [...winners.values()].map((w) => w.row);
  }

  /** The first source (default first, then config order) whose query returns non-null. */
  protected async firstMatch<T>(
    query: Query<T | null>,
    params: Params,
    opts: AggregateOptions | undefined,
  ): Promise<T | null> {
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
        const found = (await this.source(name).exec(query, params)) as T | null;
        if (found !== null) return found;
      } catch (e) {
        if (opts?.strict || !(e instanceof DatabaseError)) throw e;
        this.reportSourceError(name, e, "firstMatch");
      }
    }
    return null;
  }

  protected reportSourceError(source: string, error: DatabaseError, operation: string): void {
    this.logger.warn?.(`chatdb: source ${source} skipped: ${error.message}`, {
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

  /** Subclasses close their watchers first, then call this. */
  protected async closeResources(): Promise<void> {
    const sources = [...this.gen.sources.values()].reverse();
    await Promise.all(sources.map((s) => s.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Opens sources in config order; if one fails, closes those already opened and rethrows. */
export function openAll(
  configs: readonly SourceConfig[],
  logger: Logger,
  factory: SourceFactory = openSource,
): Map<string, Source> {
  const opened = new Map<string, Source>();
  try {
    for (const c of configs) {
      const source = factory(c);
      opened.set(c.name, source);
      const h = source.health();
      if (h.state !== "ok")
        logger.warn?.(`chatdb: source ${c.name} is ${h.state}: ${h.reason}`, { source: c.name });
    }
  } catch (e) {
    for (const s of opened.values()) void s.close();
    throw e;
  }
  return opened;
}

export type { ResultOf };
