/**
 * The machinery under every data method: the current config generation (router + open
 * sources, swapped as one object), routed reads and writes, aggregation over a captured
 * generation, hot reload, events, health and close. `DatabaseWrapper` (wrapper.ts) adds the
 * data methods on top.
 */
import { resolve } from "node:path";
import { SafeEmitter } from "./_internal/emitter.ts";
import { redactConfig } from "./_internal/redact.ts";
import { options } from "./_internal/values.ts";
import { aggregate, checkStrict, firstMatch, type MergeRule } from "./aggregate.ts";
import { parseConfigFile, readConfigFile } from "./config/load.ts";
import type { ResolvedConfig } from "./config/types.ts";
import { DatabaseError } from "./errors.ts";
import { type ConfigRead, ConfigWatcher } from "./live/config-watcher.ts";
import { SourceWatcher } from "./live/source-watcher.ts";
import { type Logger, resolveOptions, type WrapperOptions } from "./options.ts";
import { type RouteExplanation, type RouteRequest, Router } from "./routing.ts";
import { openAll } from "./sources/open.ts";
import type { ParamsOf, Query, ResultOf } from "./sources/query.ts";
import type {
  SlowQuery,
  Source,
  SourceHealth,
  SourceHooks,
  TransactionRun,
} from "./sources/source.ts";
import { type UserParams, type UserRow, userQuery } from "./sources/user-sql.ts";
import type { AggregateOptions, ReadOptions } from "./types.ts";

export type { Logger, WrapperOptions } from "./options.ts";

/** Where `db.query` goes: `chatId` routes as the chat's reads (or writes, with `write`). */
export interface QueryOptions {
  chatId?: number | undefined;
  /** Reads only: this source, whatever the chat map says. */
  dataSource?: string | undefined;
  /** A statement that writes: routed by chat, refused on a readonly source before any SQL. */
  write?: boolean | undefined;
}
const QUERY_OPTIONS = ["chatId", "dataSource", "write"];

/** Where `db.transaction` runs: the chat's source (as its writes go) or `dataSource`. */
export interface TransactionTarget {
  chatId?: number | undefined;
  dataSource?: string | undefined;
}
const TRANSACTION_OPTIONS = ["chatId", "dataSource"];

/**
 * Events and their payloads, for `db.on(event, listener)`. The library prints nothing: these
 * events (and the optional {@link Logger}) are how it reports what happened.
 */
export interface WrapperEvents {
  /**
   * A new config was applied: sources added, removed and changed (reopened) by name. `config`
   * is the applied config with passwords redacted (`db.config` is the one in use).
   */
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
  /**
   * A call took longer than `slowMs` (default 50): on SQLite, that long the bot's thread was
   * held. `method` names the statement ("messages.since[since]"); `rows` it returned or changed.
   */
  slowQuery: [SlowQuery];
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

export class WrapperCore extends SafeEmitter<WrapperEvents> {
  protected gen: Generation;
  protected readonly logger: Logger;
  readonly #configPath: string | undefined;
  readonly #timing: { debounceMs: number; pollMs: number };
  readonly #hooks: SourceHooks;
  #sourceWatcher: SourceWatcher | undefined;
  #configWatcher: ConfigWatcher | undefined;
  /**
   * The config text last loaded (applied or refused); null when the file could not be read,
   * undefined when unknown (a `{ config }` wrapper before its first reload). The watcher's
   * hand-overs equal to it are dropped.
   */
  #configText: string | null | undefined;
  #reloading: Promise<number> | undefined;
  #closing: Promise<void> | undefined;
  /** Calls that span awaits over a captured generation (aggregates with a Postgres source). */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Sources being closed (retired by a reload), awaited by close(). */
  readonly #retiring = new Set<Promise<void>>();

  constructor(options: WrapperOptions) {
    super();
    const settings = resolveOptions(options);
    this.logger = settings.logger;
    this.listenerLogger = settings.logger;
    this.#configPath = settings.config.file;
    this.#configText = settings.configText;
    this.#timing = settings.timing;
    this.#hooks = {
      reopened: (source, reason) => {
        this.logger.info?.(`chatdb: source ${source} reopened (${reason})`, { source });
        this.emit("sourceReopened", { source, reason });
      },
      failed: (source, error, operation) =>
        this.reportSourceError(source, error, operation ?? "open"),
      slowMs: settings.slowMs,
      slow: (event) => {
        const { source, method, ms, rows } = event;
        this.logger.warn?.(
          `chatdb: slow call on source ${source}: ${method} took ${ms.toFixed(1)} ms (${rows} rows)`,
          { ...event },
        );
        this.emit("slowQuery", event);
      },
      indexed: (source, { created, ms, failed }) => {
        const built = `built ${created.length} of chatdb's indexes in ${Math.round(ms)} ms`;
        if (failed) this.logger.warn?.(`chatdb: source ${source}: ${built}, then ${failed}`);
        else this.logger.info?.(`chatdb: source ${source}: ${built}, off the thread`, { source });
      },
    };
    const { sources } = openAll(settings.config, this.#hooks, this.logger);
    this.gen = { router: new Router(settings.config, 1), sources };
    try {
      if (settings.watchSources) {
        this.#sourceWatcher = new SourceWatcher({
          ...this.#timing,
          onError: (e) => this.#watchError(e),
        });
        void this.#sourceWatcher.track(sources.values());
      }
      if (settings.watch) void this.watch();
    } catch (e) {
      void this.close();
      throw e;
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

  /** The resolved config in use. */
  get config(): ResolvedConfig {
    return this.gen.router.config;
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
    this.#configWatcher ??= new ConfigWatcher(file, (read) => this.#changed(read), {
      ...this.#timing,
      onError: (e) => this.#watchError(e),
    });
    return Promise.all([this.#configWatcher.ready, this.#sourceWatcher?.ready]).then(() => {});
  }

  /**
   * Re-reads the config file and swaps in the new chat map, default and source set at once:
   * added sources open, removed ones close once the calls in flight on them finish, changed
   * ones reopen, unchanged ones keep their connections. An invalid file keeps the last good
   * config, emits `reloadError` and rejects. Resolves to the generation in force afterwards.
   */
  reload(): Promise<number> {
    return this.#queue((file) => this.#load(file, readConfigFile(file)));
  }

  /** What the watcher read: loaded unless it is the text already loaded. */
  #changed(read: ConfigRead): void {
    const text = typeof read === "string" ? read : null;
    const run = (file: string) =>
      text === this.#configText ? this.generation : this.#load(file, read);
    void this.#queue(run).catch(() => {});
  }

  /**
   * Runs `run` on the config file after the reloads queued before it: one at a time, so a
   * request made during a reload runs after it, on the newest text.
   */
  #queue(run: (file: string) => number): Promise<number> {
    const next = (this.#reloading ?? Promise.resolve(0))
      .catch(() => 0)
      .then(() => {
        this.assertOpen();
        if (this.#configPath === undefined) {
          throw new DatabaseError(
            "INVALID_ARGUMENT",
            "reload(): this wrapper was not built from a config file",
          );
        }
        return run(resolve(this.#configPath));
      });
    this.#reloading = next;
    return next;
  }

  /** Parses and applies what was read from `file`; an invalid config is reported and rethrown. */
  #load(file: string, read: ConfigRead): number {
    this.#configText = typeof read === "string" ? read : null;
    let payload: WrapperEvents["reload"][0];
    try {
      if (typeof read !== "string") throw read;
      payload = this.#apply(parseConfigFile(read, file));
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
    this.logger.info?.(`chatdb: config generation ${payload.generation} applied`, payload);
    this.emit("reload", payload);
    return payload.generation;
  }

  /** Opens what is new or changed, swaps, then retires what is gone. */
  #apply(config: ResolvedConfig): WrapperEvents["reload"][0] {
    const old = this.gen;
    const { sources, opened } = openAll(config, this.#hooks, this.logger, old.sources);
    const keep = new Set(sources.values());
    const retired = [...old.sources.values()].filter((s) => !keep.has(s));
    // The swap is one assignment: calls that start now see only the new generation.
    this.gen = { router: new Router(config, old.router.generation + 1), sources };
    for (const s of retired) this.#retire(s);
    void this.#sourceWatcher?.track(sources.values());
    const names = (xs: Iterable<Source>) => [...xs].map((s) => s.name);
    return {
      generation: this.generation,
      config: redactConfig(config),
      added: names(opened).filter((n) => !old.sources.has(n)),
      removed: names(retired).filter((n) => !sources.has(n)),
      changed: names(opened).filter((n) => old.sources.has(n)),
    };
  }

  /**
   * Closes a source the config no longer has, once the calls in flight now have finished:
   * only they can still be using it (SQLite reads and writes run synchronously, and a
   * Postgres source finishes its own queries inside close()).
   */
  #retire(source: Source): void {
    const closing = Promise.allSettled([...this.#inFlight])
      .then(() => source.close())
      .catch((e) => this.#watchError(e));
    this.#retiring.add(closing);
    void closing.then(() => this.#retiring.delete(closing));
  }

  #watchError(e: unknown): void {
    this.logger.error?.(`chatdb: ${e instanceof Error ? e.message : String(e)}`);
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

  protected assertOpen(): void {
    if (this.#closing) throw new DatabaseError("CLOSED", "DatabaseWrapper is closed");
  }

  #source(name: string): Source {
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
    params: ParamsOf<Q>,
  ) {
    this.assertOpen();
    return this.#source(this.gen.router.resolve(chatId, opts?.dataSource, false)).exec(
      query,
      params,
    );
  }

  /** A write routed by chat (or to the default source when chatId is undefined). */
  protected write<Q extends Query>(chatId: number | undefined, query: Q, params: ParamsOf<Q>) {
    this.assertOpen();
    return this.#source(this.gen.router.resolve(chatId, undefined, true)).exec(query, params);
  }

  /** A cross-source read over every source (or only `opts.dataSource`), merged by `rule`. */
  protected aggregate<T extends { readonly dataSource: string }, P>(
    query: Query<T[], P>,
    params: NoInfer<P>,
    opts: AggregateOptions | undefined,
    rule: MergeRule<T>,
  ): Promise<T[]> {
    checkStrict(opts);
    if (opts?.dataSource !== undefined)
      return Promise.resolve(this.read(undefined, opts, query, params) as T[]);
    this.assertOpen();
    return this.#track(aggregate(this.gen, query, params, opts, rule, this.#report));
  }

  /** The first non-null match, default source first, then config order. */
  protected firstMatch<T, P>(
    query: Query<T | null, P>,
    params: NoInfer<P>,
    opts: AggregateOptions | undefined,
  ) {
    checkStrict(opts);
    if (opts?.dataSource !== undefined)
      return Promise.resolve(this.read(undefined, opts, query, params) as T | null);
    this.assertOpen();
    const { router, sources } = this.gen;
    return this.#track(
      firstMatch(sources, router.config.defaultSource, query, params, opts, this.#report),
    );
  }

  /**
   * The bot's own SQL on the routed source: reads go dataSource → chat map → default, writes
   * (`write: true`) by chat and are refused READONLY_SOURCE on a readonly source before any SQL.
   * A readonly source runs it read-only (the engine refuses a write: READONLY_SOURCE). `?` or
   * `:name` placeholders on both engines; the statement is prepared once per text and source.
   * Rows come back as the engine returns them, plus `dataSource`. One source per call: there
   * are no joins across sources.
   */
  query(sql: string, params?: UserParams, opts?: QueryOptions): Promise<UserRow[]> {
    try {
      options(opts, QUERY_OPTIONS, "query");
      const { query, params: values } = userQuery(sql, params);
      if (opts?.write === true) {
        if (opts.dataSource !== undefined) {
          throw new DatabaseError(
            "INVALID_ARGUMENT",
            "query: a write routes by chatId (dataSource chooses where reads go)",
          );
        }
        return Promise.resolve(this.write(opts.chatId, query, values));
      }
      // a SQLite answer is already here: one settled promise, no async frame
      return Promise.resolve(this.read(opts?.chatId, opts, query, values));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Runs `body` as one transaction on one source: the chat's (`chatId`, as a write routes) or
   * `dataSource`'s. Inside, `tx` has every data method and `query`; they commit together, or
   * not at all when `body` throws (its error is rethrown). A call in `tx` that would go to
   * another source is INVALID_ARGUMENT (a transaction spans one source). On SQLite the
   * connection is the transaction's until it ends, so every other call to that source waits
   * for it (calls to other sources do not); on PostgreSQL they run beside it. A readonly
   * source is refused (READONLY_SOURCE). Keep it short: it holds the source's write lock.
   */
  transaction<T>(target: TransactionTarget, body: (tx: this) => Promise<T>): Promise<T> {
    return (async () => {
      this.assertOpen();
      options(target, TRANSACTION_OPTIONS, "transaction");
      if (typeof body !== "function") {
        throw new DatabaseError("INVALID_ARGUMENT", "transaction: expected a function");
      }
      const { router } = this.gen;
      const name =
        target?.dataSource !== undefined
          ? router.resolve(undefined, target.dataSource, false)
          : router.resolve(target?.chatId, undefined, true);
      const source = this.#source(name);
      if (source.config.readonly) {
        throw new DatabaseError(
          "READONLY_SOURCE",
          `cannot open a transaction on readonly source ${name}`,
          { source: name },
        );
      }
      return this.#track(source.transaction((run) => this.#inTransaction(name, run, body)));
    })();
  }

  async #inTransaction<T>(
    name: string,
    run: TransactionRun,
    body: (tx: this) => Promise<T>,
  ): Promise<T> {
    let open = true;
    const router = this.gen.router;
    const here = (chatId: number | undefined, dataSource: string | undefined, write: boolean) => {
      if (!open) throw new DatabaseError("INVALID_ARGUMENT", "this transaction has ended");
      this.assertOpen();
      const to = router.resolve(chatId, dataSource, write);
      if (to !== name) {
        throw new DatabaseError(
          "INVALID_ARGUMENT",
          `this transaction is on source ${name}; the call goes to ${to}${chatId === undefined ? "" : ` (chat ${chatId})`}`,
          { source: to },
        );
      }
    };
    // the data methods run through read/write/aggregate/firstMatch: on the transaction here
    const tx = Object.create(this, {
      read: {
        value: (chatId: number | undefined, opts: ReadOptions | undefined, q: Query, p: never) => {
          here(chatId, opts?.dataSource, false);
          return run(q, p);
        },
      },
      write: {
        value: (chatId: number | undefined, q: Query, p: never) => {
          here(chatId, undefined, true);
          return run(q, p);
        },
      },
      aggregate: {
        value: (q: Query, p: never, opts: AggregateOptions | undefined) => {
          here(undefined, opts?.dataSource ?? name, false);
          return Promise.resolve(run(q, p));
        },
      },
      firstMatch: {
        value: (q: Query, p: never, opts: AggregateOptions | undefined) => {
          here(undefined, opts?.dataSource ?? name, false);
          return Promise.resolve(run(q, p));
        },
      },
      transaction: {
        value: () =>
          Promise.reject(
            new DatabaseError("INVALID_ARGUMENT", "transaction: already inside a transaction"),
          ),
      },
    }) as this;
    try {
      return await body(tx);
    } finally {
      open = false;
    }
  }

  /** Keeps a call spanning awaits known until it settles, so its sources stay open. */
  #track<T>(call: Promise<T>): Promise<T> {
    this.#inFlight.add(call);
    void call.then(
      () => this.#inFlight.delete(call),
      () => this.#inFlight.delete(call),
    );
    return call;
  }

  readonly #report = (source: string, error: DatabaseError, operation: string) =>
    this.reportSourceError(source, error, operation);

  protected reportSourceError(source: string, error: DatabaseError, operation: string): void {
    this.logger.warn?.(`chatdb: source ${source} failed (${operation}): ${error.message}`, {
      source,
      code: error.code,
    });
    this.emit("sourceError", { source, error, operation });
  }

  /**
   * Closes every source; idempotent (returns the same promise). Calls made afterwards reject
   * CLOSED; calls already in flight finish first.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeResources();
    return this.#closing;
  }

  /** Watchers first, then in-flight calls and a pending reload, then sources in reverse order. */
  async #closeResources(): Promise<void> {
    await Promise.all([this.#configWatcher?.close(), this.#sourceWatcher?.close()]);
    await this.#reloading?.catch(() => {});
    await Promise.allSettled([...this.#inFlight]);
    const sources = [...this.gen.sources.values()].reverse();
    await Promise.all(sources.map((s) => s.close()));
    await Promise.all([...this.#retiring]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

export type { ResultOf };
