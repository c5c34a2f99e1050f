/**
 * One PostgreSQL source on Bun's built-in client (`Bun.SQL`): a pool of `max_connections`
 * connections, `timeout` seconds to connect. The wrapper's constructor is synchronous and a
 * pool connects lazily, so the source starts opening at construction (migrations for a
 * writable source, a schema-version probe for a readonly one) and every call awaits that.
 * Until that first open ends the source is `opening` (not `unavailable`: nothing has failed
 * yet; not `ok`: nothing is known yet). A failed open marks it unavailable and is retried by
 * the next call.
 *
 * Through the wrapper's hooks the source reports its transitions: into `unavailable` (the
 * first open failed, or the server went away: connection refused or dropped, auth failed)
 * as `failed`, once per outage; back to `ok` after that as `reopened`. Bun's pool reconnects
 * by itself, so "back" is simply the next call that gets an answer.
 *
 * Queries are the same data the SQLite source runs, in their PostgreSQL text (`query.pg`,
 * `$1..$n`, compiled when the query was defined). Bun keeps the named prepared statements per
 * connection.
 *
 * Every connection runs with `TimeZone = UTC`, so the naive `YYYY-MM-DD HH:MM:SS` text chatdb
 * binds means UTC, as on SQLite; a readonly source's connections also run with
 * `default_transaction_read_only = on`, so the server refuses writes that slip past routing.
 */
import type { SQL, TransactionSQL } from "bun";
import { redactUrl } from "../_internal/redact.ts";
import { requireBun } from "../_internal/runtime.ts";
import type { PostgresSourceConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { unindexedCallsPg } from "../schema/indexes.ts";
import { gapsIn, gapsReason, type MigrationReport } from "../schema/migrate.ts";
import {
  diagnoseMismatchPg,
  migratePg,
  readSchemaVersionPg,
  tableColumnsPg,
} from "../schema/migrate-pg.ts";
import {
  type BatchQuery,
  bind,
  type Params,
  type ParamsOf,
  type Query,
  type ResultOf,
  type Row,
  resolveQuery,
  runBatch,
  type SchemaInfo,
  schemaInfo,
  type Value,
  type VariantQuery,
} from "./query.ts";
import type {
  Source,
  SourceHealth,
  SourceHooks,
  SourceInspection,
  TransactionRun,
} from "./source.ts";
import { SourceStatus } from "./status.ts";

/** Bun's codes for "could not reach or log in to the server". */
const UNAVAILABLE_CODES =
  /^ERR_POSTGRES_(CONNECTION_|TLS_|AUTHENTICATION|SASL|UNSUPPORTED_AUTH|UNKNOWN_AUTH|INVALID_SERVER|CHANNEL_BINDING)/;
/**
 * Statement text that could change a session's or transaction's access mode, or send a second
 * statement after the first. Refused on readonly sources before it reaches the server.
 */
export const TX_CONTROL =
  /;\s*\S|^\s*(?:SET|RESET|BEGIN|START|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE|EXECUTE|DO|CALL|COPY)\b|\bset_config\b|READ\s+WRITE|default_transaction|transaction_read_only/i;
/** SQLSTATE classes meaning the same: connection exception, auth, no such database, shutting down. */
const UNAVAILABLE_STATES = /^(08|28|3D|57P0)/;

export class PostgresSource implements Source {
  readonly name: string;
  readonly config: PostgresSourceConfig;
  /** The pool in use; replaced by a fresh one after a connection-level failure. */
  #sql: SQL;
  readonly #options: ConstructorParameters<typeof SQL>[0];
  /** Replaced pools still draining; close() waits for them. */
  readonly #retired = new Set<Promise<void>>();
  /** Query objects whose text a readonly source has checked against TX_CONTROL. */
  #checked = new WeakSet<object>();
  #opening: Promise<void> | null = null;
  /** While the server does not answer: its error, when to ask again, and whether a probe is out. */
  #outage: { error: DatabaseError; retryAt: number; backoffMs: number; probing: boolean } | null =
    null;
  #opened = false;
  /** Why a readonly source's schema falls short ("" when it does not). */
  #schemaGaps = "";
  readonly #status = new SourceStatus("opening", "first connection in progress");
  #closing: Promise<void> | null = null;
  readonly #hooks: SourceHooks;
  /** The statements picked for this schema (see `variant()` in query.ts). */
  readonly #variants = new Map<object, Query>();
  #schema: SchemaInfo | null = null;
  /** Calls slower than this (round trip, ms) are reported (hooks.slow). */
  readonly #slowMs: number;
  /** What the last open's migration did (read-write sources). */
  migration: MigrationReport | null = null;

  constructor(config: PostgresSourceConfig, hooks: SourceHooks = {}) {
    this.name = config.name;
    this.config = config;
    this.#hooks = hooks;
    this.#slowMs = hooks.slowMs ?? Number.POSITIVE_INFINITY;
    const connection: Record<string, string> = { TimeZone: "UTC" };
    if (config.readonly) connection.default_transaction_read_only = "on";
    // Waits on another session's lock, and statements, are bounded by the source's timeout
    // on the server: a call never hangs on a row lock (55P03 / 57014 → SOURCE_UNAVAILABLE).
    const ms = String(Math.max(1, Math.round(config.timeout * 1000)));
    connection.lock_timeout = ms;
    connection.statement_timeout = ms;
    this.#options = {
      url: config.url,
      adapter: "postgres",
      max: config.maxConnections,
      connectionTimeout: config.timeout,
      connection,
    };
    this.#sql = newPool(requireBun(this.#options, "a PostgreSQL source (Bun.SQL)"), config);
    // Start now so the first call rarely waits; failures are kept in the state, not thrown here.
    this.#ready().catch(() => {});
  }

  /** Resolves once the source is open (migrated); a failed open is retried on the next call. */
  #ready(): Promise<void> {
    if (this.#opened) return Promise.resolve();
    const pool = this.#sql;
    this.#opening ??= this.#open(pool).then(
      () => {
        this.#opened = true;
        this.#up("server answers");
      },
      (e: unknown) => {
        this.#opening = null;
        const error = this.#wrap(e, "open");
        // whatever failed (server, login, migration), the source is unusable until a retry works
        if (!this.#closing) this.#down(error, "open");
        if (error.code === "SOURCE_UNAVAILABLE") this.#renew(pool);
        throw error;
      },
    );
    return this.#opening;
  }

  async #open(pool: SQL): Promise<void> {
    if (this.config.readonly) {
      // never migrated: an older or foreign schema is shown as degraded, naming what is missing
      this.#status.schemaVersion = await readSchemaVersionPg(pool);
      const tables = await tableColumnsPg(pool);
      this.#schemaGaps = gapsReason(this.#status.schemaVersion, gapsIn(tables));
      this.#status.scans = await unindexedCallsPg(pool);
      this.#setSchema(schemaInfo(this.#status.schemaVersion, tables));
      return;
    }
    this.migration = await migratePg(pool, this.name);
    this.#status.schemaVersion = this.migration.to;
    this.#setSchema(schemaInfo(this.migration.to, await tableColumnsPg(pool)));
  }

  /** What the schema has, for the variants (see `variant()` in query.ts); picks start over. */
  #setSchema(schema: SchemaInfo): void {
    this.#schema = schema;
    this.#variants.clear();
  }

  /** The query's PostgreSQL text; on a readonly source, checked once per query object. */
  #text(query: { readonly pg: string }): string {
    if (this.config.readonly && !this.#checked.has(query)) {
      if (TX_CONTROL.test(stripLiterals(query.pg))) {
        throw new DatabaseError(
          "READONLY_SOURCE",
          `source ${this.name} is readonly: refused a statement that could change the transaction's access mode`,
          { source: this.name },
        );
      }
      this.#checked.add(query);
    }
    return query.pg;
  }

  async exec<Q extends Query>(query: Q, params: ParamsOf<Q>): Promise<ResultOf<Q>> {
    this.#assertOpen();
    // A server that is down is asked again after a short backoff, by one call at a time;
    // the calls in between are answered with its last error at once.
    const outage = this.#outage;
    if (outage !== null) {
      if (outage.probing || performance.now() < outage.retryAt) throw outage.error;
      outage.probing = true;
    }
    try {
      return await this.#execNow(query, params as Params);
    } finally {
      if (outage !== null) outage.probing = false;
    }
  }

  /**
   * Runs `body` as one transaction (`BEGIN … COMMIT` on one pooled connection; `READ ONLY` on a
   * readonly source); a throw rolls it back. Other calls to this source go on, on the other
   * connections: PostgreSQL isolates them.
   */
  async transaction<T>(body: (run: TransactionRun) => Promise<T>): Promise<T> {
    this.#assertOpen();
    if (!this.#opened) {
      await this.#ready();
      this.#assertOpen();
    }
    const inTx = (tx: SQL) =>
      body(<Q extends Query>(query: Q, params: ParamsOf<Q>) =>
        this.#execNow(query, params as Params, tx),
      );
    try {
      return (await (this.config.readonly
        ? this.#sql.begin("read only", inTx)
        : this.#sql.begin(inTx))) as T;
    } catch (e) {
      throw e instanceof DatabaseError ? e : this.#wrap(e, "transaction");
    }
  }

  /** `on`: the pool, or the connection of a transaction (whose batches are savepoints). */
  async #execNow<Q extends Query>(
    query: Q,
    params: Params,
    on: SQL | null = null,
  ): Promise<ResultOf<Q>> {
    if (!this.#opened) {
      await this.#ready();
      this.#assertOpen();
    }
    let text = "";
    let rows = 0;
    const pool = on ?? this.#sql;
    const started = performance.now();
    try {
      const statement = resolveQuery(query, this.#variants, () => this.#schema as SchemaInfo);
      const result = await this.#run(pool, statement, params, on !== null, (t, n) => {
        text = t;
        rows += n;
      });
      const ms = performance.now() - started;
      if (ms > this.#slowMs) {
        this.#hooks.slow?.({ source: this.name, method: statement.name ?? query.kind, ms, rows });
      }
      if (this.#status.state !== "ok") this.#up("server answers again");
      return result as ResultOf<Q>;
    } catch (e) {
      if (e instanceof DatabaseError) throw e;
      const mismatch = await diagnoseMismatchPg(pool, this.name, text, e).catch(() => undefined);
      const error = mismatch ?? this.#wrap(e, "query");
      if (error.code === "SOURCE_UNAVAILABLE" && !this.#closing && !isWaitTimeout(e)) {
        this.#down(error, "query");
        this.#renew(pool);
      }
      throw error;
    }
  }

  /** Runs the query; `seen` gets each statement's text (before it runs) and its row count. */
  async #run(
    pool: SQL,
    query: Exclude<Query, VariantQuery<unknown>>,
    params: Params,
    inTransaction: boolean,
    seen: (text: string, rows: number) => void,
  ): Promise<unknown> {
    const send = async (
      on: SQL,
      q: Exclude<Query, BatchQuery | VariantQuery<unknown>>,
      values: Value[],
    ) => {
      const text = this.#text(q);
      seen(text, 0);
      const result = (await on.unsafe(text, values)) as Row[] & { count: number };
      seen(text, q.kind === "run" ? result.count : result.length);
      return result;
    };
    switch (query.kind) {
      case "get":
        return query.finish(
          (await send(pool, query, bind(query, params, query.pgNames)))[0] ?? null,
          this.name,
        );
      case "all":
        return query.finish(await send(pool, query, bind(query, params, query.pgNames)), this.name);
      case "run":
        return (await send(pool, query, bind(query, params, query.pgNames))).count > 0;
      case "batch": {
        const batch = (tx: SQL) =>
          runBatch(
            query,
            params,
            async (step, values) => (await send(tx, step, values)).count,
            "pg",
          );
        if (inTransaction) return (pool as TransactionSQL).savepoint(batch);
        return this.config.readonly ? pool.begin("read only", batch) : pool.begin(batch);
      }
    }
  }

  /** The pool, for tests and tools that need the engine itself (e.g. a raw write). Internal. */
  _sql(): SQL {
    return this.#sql;
  }

  /** Resolves when the source is open; rejects with its typed error when it cannot be. Internal. */
  _ready(): Promise<void> {
    return this.#ready();
  }

  health(): SourceHealth {
    return this.#status.health(this.config);
  }

  async inspect(tables: readonly string[] = []): Promise<SourceInspection> {
    const error = await this.#ready().then(
      () => null,
      (e: unknown) => this.#wrap(e, "open"),
    );
    const counts: Record<string, number> = {};
    if (error === null && tables.length > 0) {
      // exact counts of the tables the schema has, through the search_path
      const names = tables.map((t) => `('${t}')`).join(", ");
      const present = (await this.#sql.unsafe(
        `SELECT name FROM (VALUES ${names}) AS t(name) WHERE to_regclass(name) IS NOT NULL`,
      )) as { name: string }[];
      for (const { name } of present) {
        const [row] = (await this.#sql.unsafe(`SELECT count(*) AS n FROM ${name}`)) as {
          n: unknown;
        }[];
        counts[name] = Number(row?.n ?? 0);
      }
    }
    return { health: this.health(), error, counts };
  }

  /**
   * Swaps in a fresh pool after `failed` lost its server. Bun's pool hands a call to a
   * connection whose reconnect failed during an outage, which then fails once more with
   * "Connection closed" after the server is back (up to one call per pooled connection); a
   * fresh pool has no such connections, so the first call after the return gets through.
   * The old pool drains in the background like a retired source.
   */
  #renew(failed: SQL): void {
    if (this.#sql !== failed || this.#closing) return;
    this.#sql = newPool(this.#options, this.config);
    const drained = failed.close({ timeout: this.config.timeout }).catch(() => {});
    this.#retired.add(drained);
    void drained.then(() => this.#retired.delete(drained));
  }

  /** Now answering; reported as `reopened` when it had been unavailable. */
  #up(reason: string): void {
    this.#outage = null;
    const was = this.#status.state;
    const now = this.#schemaGaps ? "degraded" : "ok";
    if (was === now) return;
    this.#status.set(now, this.#schemaGaps);
    if (was === "unavailable") this.#hooks.reopened?.(this.name, reason);
  }

  /** Not answering; reported as `failed` once per outage (the reason alone updates quietly). */
  #down(error: DatabaseError, operation: string): void {
    const backoffMs = Math.min(2000, (this.#outage?.backoffMs ?? 50) * 2);
    this.#outage = { error, retryAt: performance.now() + backoffMs, backoffMs, probing: false };
    const was = this.#status.state;
    if (was === "unavailable" && this.#status.reason === error.message) return;
    this.#status.set("unavailable", error.message);
    if (was !== "unavailable") this.#hooks.failed?.(this.name, error, operation);
  }

  #assertOpen(): void {
    if (this.#closing)
      throw new DatabaseError("CLOSED", `source ${this.name} is closed`, { source: this.name });
  }

  /**
   * Drains the pool: a migration in progress finishes, queries already sent may finish within
   * `timeout` seconds, later calls reject with CLOSED. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#opening?.catch(() => {});
      await Promise.all([this.#sql.close({ timeout: this.config.timeout }), ...this.#retired]);
      this.#status.set("unavailable", "closed");
    })();
    return this.#closing;
  }

  #wrap(e: unknown, during: string): DatabaseError {
    if (e instanceof DatabaseError) return e;
    const { code = "", errno = "" } = e as { code?: string; errno?: string };
    const message = `source ${this.name} (${redactUrl(this.config.url)}): ${during} failed: ${(e as Error).message ?? String(e)}`;
    const options = { source: this.name, cause: e };
    if (this.#closing && code === "ERR_POSTGRES_CONNECTION_CLOSED")
      return new DatabaseError("CLOSED", message, options);
    if (UNAVAILABLE_CODES.test(code) || UNAVAILABLE_STATES.test(errno))
      return new DatabaseError("SOURCE_UNAVAILABLE", message, options);
    if (isWaitTimeout(e)) {
      return new DatabaseError(
        "SOURCE_UNAVAILABLE",
        `${message} (locked by another session, or running, for longer than timeout = ${this.config.timeout} s)`,
        options,
      );
    }
    // read_only_sql_transaction: the server's half of readonly enforcement
    if (errno === "25006") return new DatabaseError("READONLY_SOURCE", message, options);
    // The value is what is wrong, not the source, and nothing was written:
    // character_not_in_repertoire: PostgreSQL text cannot hold U+0000 (SQLite can);
    // program_limit_exceeded: e.g. a primary-key text over the B-tree's ~2.7 kB limit
    if (errno === "22021" || errno === "54000")
      return new DatabaseError("INVALID_ARGUMENT", message, options);
    return new DatabaseError("QUERY_FAILED", message, options);
  }
}

/** lock_not_available (lock_timeout) or query_canceled (statement_timeout): a wait bounded by timeout. */
function isWaitTimeout(e: unknown): boolean {
  const errno = (e as { errno?: string }).errno;
  return errno === "55P03" || errno === "57014";
}

/** A pool for `config`; a URL Bun's client rejects is CONFIG_INVALID (validation catches it first). */
function newPool(options: ConstructorParameters<typeof SQL>[0], config: PostgresSourceConfig): SQL {
  try {
    // Bun.SQL, read when a PostgreSQL source opens: loading Bun's client costs every bot ≈ 3 ms
    return new Bun.SQL(options);
  } catch (e) {
    throw new DatabaseError(
      "CONFIG_INVALID",
      `source ${config.name} (${redactUrl(config.url)}): the PostgreSQL client rejects this URL`,
      { source: config.name, cause: e },
    );
  }
}

/** The text without string literals, quoted identifiers and comments (what TX_CONTROL looks at). */
function stripLiterals(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*/g, " ");
}
