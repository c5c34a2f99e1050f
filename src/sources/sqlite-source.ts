/**
 * One SQLite source in one of three modes (README "Source modes"; the reasons are measured in
 * docs/sqlite-live-sources.md):
 * - read-write: WAL, busy_timeout, migrated on open — the bot's own database;
 * - readonly: one persistent `{ readonly: true }` connection with `query_only` — another bot's
 *   live database; it sees new commits without reopening;
 * - immutable: `file:…?immutable=1` — frozen archives and sidecar snapshots.
 * It keeps its own prepared statements (bun's query cache holds only 20) and finalizes them on
 * every close and reopen, so no statement keeps reading a replaced file.
 *
 * Nothing here waits on another process on the bot's thread: the connection runs with
 * `busy_timeout = 0`, and a call (or open) that meets a lock is retried on a timer until the
 * source's `timeout` (`_internal/lock-wait.ts`); the watcher's checks never wait at all.
 * Anything at the path that is not a regular file (FIFO, device, socket, folder) is refused
 * before SQLite sees it, so nothing is created beside it and no open can hang. What the file
 * itself is (identity, header, `-wal`/`-shm`, URIs) is `sqlite-file.ts`; this holds the connection.
 */
import { Database, type Statement } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { isBusy, LOCKED, LockQueue } from "../_internal/lock-wait.ts";
import type { SqliteSourceConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { buildIndexesInBackground, type IndexBuild } from "../schema/index-build.ts";
import {
  ensureIndexesSqlite,
  INLINE_INDEX_ROWS,
  type IndexReport,
  missingIndexesSqlite,
  unindexedCallsSqlite,
} from "../schema/indexes.ts";
import {
  diagnoseMismatch,
  gapsReason,
  type MigrationReport,
  migrateSqlite,
  readSchemaVersion,
  schemaGaps,
  tableColumns,
} from "../schema/migrate.ts";
import { LATEST_VERSION, migrationRules } from "../schema/migrations.ts";
import {
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
  type VariantQuery,
} from "./query.ts";
import type {
  Source,
  SourceHealth,
  SourceHooks,
  SourceInspection,
  TransactionRun,
} from "./source.ts";
import {
  assertRegularFile,
  changeOf,
  type FileIdentity,
  foreignWalHazard,
  hasSqliteHeader,
  openImmutable,
  statFile,
} from "./sqlite-file.ts";

import { SourceStatus } from "./status.ts";

/** What {@link SqliteSource.check} found. */
export type CheckResult = "unchanged" | "committed" | "reopened" | "unavailable";

const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;

export class SqliteSource implements Source {
  readonly name: string;
  readonly config: SqliteSourceConfig;
  #db: Database | null = null;
  #statements = new Map<object, Statement>();
  readonly #status = new SourceStatus("unavailable", "not opened");
  #identity: FileIdentity | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  #dataVersion = 0;
  /** `PRAGMA schema_version` at open: the owner's DDL (and VACUUM) changes it. */
  #schemaCookie = 0;
  /** The schema's text at open: tells real DDL from a VACUUM, which only bumps the cookie. */
  #schemaText = "";
  /** Why stat failed: its error code (ENOENT, EACCES…) or "not a regular file (…)". */
  #statFailure = "ENOENT";
  #opens = 0;
  readonly #hooks: SourceHooks;
  /** Calls waiting for another process's lock, in the order they were made. */
  readonly #queue = new LockQueue();
  /** The engine's error from the last time a lock was in the way. */
  #lastLock: unknown = null;
  /** Why a reopen was wanted when a lock put it off; reported when it happens. */
  #pendingReason: string | null = null;
  readonly #timeoutMs: number;
  /** Calls that hold the thread longer than this are reported (hooks.slow). */
  readonly #slowMs: number;
  /** The statements picked for this open's file (see `variant()` in query.ts). */
  readonly #variants = new Map<object, Query>();
  #schema: SchemaInfo | null = null;
  /** Rows the last read returned, for a slow-call report. */
  #rows = 0;
  /** What the last open's migration did (read-write sources). */
  migration: MigrationReport | null = null;
  /** A worker building chatdb's indexes on this (large) file; stopped by close(). */
  #indexBuild: IndexBuild | null = null;

  constructor(config: SqliteSourceConfig, hooks: SourceHooks = {}) {
    this.name = config.name;
    this.config = config;
    this.#hooks = hooks;
    this.#timeoutMs = Math.round(config.timeout * 1000);
    this.#slowMs = hooks.slowMs ?? Number.POSITIVE_INFINITY;
    // Locked by another process (it is migrating the file, say): open in the background;
    // calls queue behind that open. The constructor never waits.
    if (this.open("opened") === LOCKED) this.#openLater();
  }

  /**
   * Opens (or reopens) the connection, finalizing the old statements first. Returns true when
   * open; LOCKED when another process's lock is in the way (nothing waited for; retried later);
   * false when a readonly source cannot be opened: it becomes `unavailable` (reported through
   * the hooks unless `quiet`) and is retried on next use. A writable source that cannot be
   * opened for any other reason than a lock throws.
   */
  open(reason: string, quiet = false): boolean | typeof LOCKED {
    const wasOpen = this.#opens > 0;
    this.#release();
    try {
      const db = this.#connect();
      this.#identity = this.#statIdentity();
      this.#status.schemaVersion = readSchemaVersion(db);
      const schemaText = readSchemaText(db);
      this.#dataVersion = pragma(db, "data_version");
      this.#schemaCookie = pragma(db, "schema_version");
      if (this.config.readonly) this.#checkSchema(db);
      else this.#status.set("ok", "");
      this.#db = db;
      this.#schemaText = schemaText;
      this.#opens++;
      const why = this.#pendingReason ?? reason;
      this.#pendingReason = null;
      if (wasOpen) this.#hooks.reopened?.(this.name, why);
      return true;
    } catch (e) {
      this.#release();
      if (isBusy(e)) {
        this.#lastLock = e;
        if (wasOpen) this.#pendingReason ??= reason;
        this.#status.set("opening", `waiting for a lock held by another process (${reason})`);
        return LOCKED;
      }
      const error = this.#wrap(e, "open");
      if (!this.config.readonly) throw error;
      const changed = this.#status.state !== "unavailable" || this.#status.reason !== error.message;
      this.#status.set("unavailable", error.message);
      this.#opens++;
      if (changed && !quiet) this.#hooks.failed?.(this.name, error);
      return false;
    }
  }

  /** Retries the open on a timer (queued like a call); gives up after `timeout`. */
  #openLater(): void {
    const attempt = () => (this.#db !== null || this.#closed ? true : this.open("opened"));
    // a readonly source that fails otherwise (false) has already reported it; a writable one throws
    void Promise.resolve(
      this.#queue.run(attempt, this.#timeoutMs, () => this.#lockTimeout()),
    ).catch((e: unknown) => {
      if (this.#closed || this.#db !== null) return;
      const error = this.#wrap(e, "open");
      this.#status.set("unavailable", error.message);
      this.#hooks.failed?.(this.name, error);
    });
  }

  /**
   * Resolves once the source has finished opening (a source opened while another process held
   * a lock opens in the background); rejects with the reason when it could not open.
   */
  async ready(): Promise<void> {
    await this.#queue.drained();
    if (this.#db === null) {
      if (this.#closed) throw this.#closedError();
      this.#connection();
    }
  }

  /**
   * Looks at the file and acts: replaced (new inode) → reopen; deleted → unavailable;
   * back after being missing → reopen; an immutable file changed in place → reopen.
   * A live readonly source is NOT reopened for new commits (it sees them by itself): its
   * `PRAGMA data_version` only marks the change in health. Called by the watcher and its poll;
   * never waits: a check that meets the owner's lock is simply made again at the next one.
   */
  check(): CheckResult {
    if (this.#closed || this.config.path === ":memory:") return "unchanged";
    const now = this.#statIdentity();
    const change = changeOf(this.#identity, now);
    if (change === "missing") {
      if (this.#db === null && this.#status.state === "unavailable") return "unavailable";
      // a folder made unreadable (EACCES) is not a missing file: say which it is
      this.markUnavailable(
        this.#statFailure === "ENOENT"
          ? `file ${this.config.path} is missing`
          : `file ${this.config.path} cannot be used (${this.#statFailure})`,
      );
      return "unavailable";
    }
    if (this.#db === null) return this.#reopen("file is back");
    if (change === "replaced") return this.#reopen("file replaced");
    if (change === "changed-in-place") {
      if (this.config.mode === "immutable") return this.#reopen("file changed in place");
      // A live file changes in place at every checkpoint, but SQLite never rewrites its magic.
      // Without it the file was overwritten behind SQLite's back, and a WAL reader would go on
      // serving its cached pages of a database that no longer exists: reopen to find out.
      this.#identity = now;
      if (!hasSqliteHeader(this.config.path)) return this.#reopen("file overwritten");
    }
    const db = this.#db;
    const version = pragma(db, "data_version");
    // -1: the owner holds a lock right now; look again at the next check
    if (version === -1 || version === this.#dataVersion) return "unchanged";
    if (this.config.readonly) {
      const cookie = pragma(db, "schema_version");
      if (cookie === -1) return "unchanged";
      if (cookie !== this.#schemaCookie) {
        // VACUUM bumps the cookie too; only a schema whose text changed is a new schema
        const text = readSchemaTextOrNull(db);
        if (text === null) return "unchanged";
        this.#schemaCookie = cookie;
        // The owner migrated (or dropped) tables: reopen, so health checks the schema again.
        if (text !== this.#schemaText) return this.#reopen("schema changed");
      }
    }
    this.#dataVersion = version;
    this.#status.touch();
    return "committed";
  }

  #reopen(reason: string): CheckResult {
    const r = this.open(reason);
    return r === LOCKED ? "unchanged" : r ? "reopened" : "unavailable";
  }

  #connect(): Database {
    const { path, mode } = this.config;
    if (path !== ":memory:") assertRegularFile(this.name, path, mode === "read-write");
    if (mode === "read-write") {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      const db = new Database(path, { create: true, readwrite: true });
      try {
        db.run("PRAGMA busy_timeout = 0");
        // A schema newer than ours is refused before anything is written, the journal mode
        // included: a refused file stays byte-identical.
        migrationRules.assertNotNewer(this.name, readSchemaVersion(db) ?? 0, LATEST_VERSION);
        // switching a fresh file to WAL takes a lock that several processes opening it at
        // once meet: the loser's open is retried, off the thread
        if (path !== ":memory:") db.run("PRAGMA journal_mode = WAL");
        this.migration = migrateSqlite(db, this.name, undefined, false);
        this.#ensureIndexes(db);
      } catch (e) {
        db.close();
        throw e;
      }
      return db;
    }
    if (mode === "readonly") {
      const hazard = foreignWalHazard(path);
      if (hazard)
        throw new DatabaseError("SOURCE_UNAVAILABLE", `source ${this.name}: ${hazard}`, {
          source: this.name,
        });
    }
    const db = mode === "immutable" ? openImmutable(path) : new Database(path, { readonly: true });
    try {
      db.run("PRAGMA busy_timeout = 0");
      db.run("PRAGMA query_only = ON");
      // Touch the schema now, so a non-database file is reported at open, not at first read.
      db.query("SELECT count(*) FROM sqlite_master").get();
    } catch (e) {
      db.close();
      throw e;
    }
    return db;
  }

  /**
   * chatdb's indexes (schema/indexes.ts): a small file's are built now, in milliseconds; a
   * large one's by a worker thread while the bot answers (reads of a big chat scan until then).
   */
  #ensureIndexes(db: Database): void {
    if (this.#indexBuild !== null) return;
    const { missing, rows } = missingIndexesSqlite(db);
    if (missing.length === 0) return;
    if (rows <= INLINE_INDEX_ROWS || this.config.path === ":memory:") {
      (this.migration as MigrationReport).indexes = ensureIndexesSqlite(db);
      return;
    }
    const build = buildIndexesInBackground(this.config.path, this.#timeoutMs);
    this.#indexBuild = build;
    void build.finished.then((report) => {
      if (this.migration) this.migration.indexes = report;
      this.#hooks.indexed?.(this.name, report);
    });
  }

  /** The background index build in progress or done, or null when none was needed. Internal. */
  get _indexing(): Promise<IndexReport> | null {
    return this.#indexBuild?.finished ?? null;
  }

  /**
   * A readonly source is never migrated: an older or foreign schema is shown as `degraded` in
   * health (the methods that need a missing table or column reject SCHEMA_MISMATCH).
   */
  #checkSchema(db: Database): void {
    const reason = gapsReason(this.#status.schemaVersion, schemaGaps(db));
    this.#status.set(reason ? "degraded" : "ok", reason);
    this.#status.scans = unindexedCallsSqlite(db);
  }

  #statIdentity(): FileIdentity | null {
    if (this.config.path === ":memory:") return null;
    const id = statFile(this.config.path);
    if (typeof id !== "string") return id;
    this.#statFailure = id;
    return null;
  }

  /**
   * The connection, reopening a source that is not open (a readonly file that has come back,
   * an open a lock put off). Throws the lock's error when one is still in the way.
   */
  #connection(): Database {
    if (this.#db) return this.#db;
    if (this.#closed) throw this.#closedError();
    const opened =
      this.config.readonly && !existsSync(this.config.path) ? false : this.open("file is back");
    if (opened === LOCKED) throw this.#lastLock;
    if (this.#db) return this.#db;
    throw new DatabaseError(
      "SOURCE_UNAVAILABLE",
      `source ${this.name} is unavailable: ${this.#status.reason}`,
      { source: this.name },
    );
  }

  #statement(query: { readonly sql: string }): Statement {
    let st = this.#statements.get(query);
    if (st === undefined) {
      const db = this.#connection();
      try {
        st = db.prepare(query.sql);
      } catch (e) {
        if (isBusy(e)) throw e;
        throw diagnoseMismatch(db, this.name, query.sql, e) ?? this.#wrap(e, "prepare");
      }
      this.#statements.set(query, st);
    }
    return st;
  }

  /**
   * Runs one query as one atomic unit: synchronously when nothing is in its way, else (another
   * process holds a lock, or earlier calls wait for one) queued and retried off the thread
   * until `timeout`, then SOURCE_UNAVAILABLE.
   */
  exec<Q extends Query>(query: Q, params: ParamsOf<Q>): ResultOf<Q> | Promise<ResultOf<Q>> {
    // the uncontended path: no closures, one comparison more than a bare statement
    let tried = false;
    if (this.#queue.idle) {
      const result = this.#attempt(query, params as Params);
      if (result !== LOCKED) return result;
      tried = true;
    }
    return this.#queue.wait(
      () => this.#attempt(query, params as Params),
      this.#timeoutMs,
      () => this.#lockTimeout(),
      tried,
    );
  }

  #attempt<Q extends Query>(query: Q, params: Params): ResultOf<Q> | typeof LOCKED {
    let statement: Exclude<Query, VariantQuery<unknown>> | undefined;
    try {
      statement = resolveQuery(query, this.#variants, () => this.#schemaInfo());
      const started = performance.now();
      const result = this.#run(statement, params) as ResultOf<Q>;
      const ms = performance.now() - started;
      if (ms > this.#slowMs) this.#reportSlow(statement, ms);
      return result;
    } catch (e) {
      if (this.#isLockWait(e)) return LOCKED;
      if (e instanceof DatabaseError) throw e;
      if (this.config.readonly && CORRUPT.test((e as { code?: string }).code ?? "")) {
        return this.#retryAfterCorruption(query, params, e);
      }
      // A statement prepared before another connection changed the schema fails here, not at prepare.
      const sql =
        statement === undefined
          ? ""
          : statement.kind === "batch"
            ? statement.steps.map((s) => s.sql).join(";")
            : statement.sql;
      throw (this.#db && diagnoseMismatch(this.#db, this.name, sql, e)) || this.#wrap(e, "query");
    }
  }

  /**
   * Runs `body` as one transaction on this source: its calls (`run`) go straight to the
   * connection, inside `BEGIN IMMEDIATE … COMMIT`; a throw rolls everything back. A transaction
   * spans awaits, so it takes the source's queue: every other call to this source waits until
   * it has committed or rolled back (calls to other sources do not). Waiting for another
   * process's lock at BEGIN follows the source's `timeout`, off the thread.
   */
  transaction<T>(body: (run: TransactionRun) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const attempt = () => {
      const db = this.#connection();
      try {
        db.run("BEGIN IMMEDIATE");
      } catch (e) {
        if (this.#isLockWait(e)) return LOCKED;
        throw this.#wrap(e, "query");
      }
      return this.#inTransaction(db, body);
    };
    // always queued (never the synchronous fast path): calls made meanwhile queue behind it
    return this.#queue.wait(attempt, this.#timeoutMs, () => this.#lockTimeout(), false) as Promise<
      Awaited<T>
    > as Promise<T>;
  }

  async #inTransaction<T>(db: Database, body: (run: TransactionRun) => Promise<T>): Promise<T> {
    const run: TransactionRun = (query, params) => {
      const result = this.#attempt(query, params);
      // the write lock is ours; only a rollback-journal reader elsewhere can still be in the way
      if (result === LOCKED) throw this.#lockTimeout();
      return result;
    };
    try {
      const result = await body(run);
      db.run("COMMIT");
      return result;
    } catch (e) {
      if (db.inTransaction) db.run("ROLLBACK");
      throw e;
    }
  }

  /**
   * Another process is in the way for now: its lock, or (a readonly reader of a
   * rollback-journal file) its commit's journal, which looks hot for an instant.
   */
  #isLockWait(e: unknown): boolean {
    const wait =
      isBusy(e) ||
      (this.config.readonly && TRANSIENT_READONLY.has((e as { code?: string })?.code ?? ""));
    if (wait) this.#lastLock = e;
    return wait;
  }

  #lockTimeout(): DatabaseError {
    const hot = (this.#lastLock as { code?: string } | null)?.code === "SQLITE_READONLY_ROLLBACK";
    const what = hot
      ? `has a hot journal that only its owner can roll back, for longer than timeout = ${this.config.timeout} s`
      : `locked by another process for longer than timeout = ${this.config.timeout} s`;
    return new DatabaseError(
      "SOURCE_UNAVAILABLE",
      `source ${this.name} (${this.config.path}): ${what}`,
      {
        source: this.name,
        cause: this.#lastLock,
      },
    );
  }

  #closedError(): DatabaseError {
    return new DatabaseError("CLOSED", `source ${this.name} is closed`, { source: this.name });
  }

  /**
   * A corrupt read on a file someone else owns: reopen once (it may have been replaced under
   * us) and retry; if it is still bad, the source is unavailable until the file is fixed.
   */
  #retryAfterCorruption<Q extends Query>(
    query: Q,
    params: Params,
    first: unknown,
  ): ResultOf<Q> | typeof LOCKED {
    let failure = first;
    // quiet: the caller gets this failure as the call's own error
    const reopened = this.open("corruption error", true);
    if (reopened === LOCKED) return LOCKED;
    if (reopened) {
      try {
        const statement = resolveQuery(query, this.#variants, () => this.#schemaInfo());
        return this.#run(statement, params) as ResultOf<Q>;
      } catch (again) {
        if (this.#isLockWait(again)) return LOCKED;
        failure = again;
      }
    }
    const error = failure instanceof DatabaseError ? failure : this.#wrap(failure, "query");
    if (this.#db !== null) this.markUnavailable(error.message);
    if (error.code === "SOURCE_UNAVAILABLE") throw error;
    throw new DatabaseError(
      "SOURCE_UNAVAILABLE",
      `source ${this.name} is unavailable: ${error.message}`,
      {
        source: this.name,
        cause: failure,
      },
    );
  }

  /** A call that held the thread longer than `slowMs`. */
  #reportSlow(query: Query, ms: number): void {
    this.#hooks.slow?.({
      source: this.name,
      method: query.name ?? query.kind,
      ms,
      rows: this.#rows,
    });
  }

  /** What the open file has, for the variants (read at the first one after each open). */
  #schemaInfo(): SchemaInfo {
    const db = this.#connection();
    this.#schema ??= schemaInfo(readSchemaVersion(db), tableColumns(db));
    return this.#schema;
  }

  #run(query: Exclude<Query, VariantQuery<unknown>>, params: Params): unknown {
    switch (query.kind) {
      case "get": {
        const row =
          (this.#statement(query).get(bind(query, params) as never) as Row | null) ?? null;
        this.#rows = row === null ? 0 : 1;
        return query.finish(row, this.name);
      }
      case "all": {
        const rows = this.#statement(query).all(bind(query, params) as never) as Row[];
        this.#rows = rows.length;
        return query.finish(rows, this.name);
      }
      case "run": {
        this.#rows = this.#statement(query).run(bind(query, params) as never).changes;
        return this.#rows > 0;
      }
      case "batch": {
        // prepared before BEGIN: a statement that fails to prepare fails before any step ran
        for (const step of query.steps) this.#statement(step);
        const db = this.#connection();
        // inside a transaction (db.transaction()): a savepoint, undone alone when a step fails
        const nested = db.inTransaction;
        // IMMEDIATE: a lock held elsewhere is met at BEGIN, before any step ran
        db.run(nested ? "SAVEPOINT chatdb_batch" : "BEGIN IMMEDIATE");
        try {
          this.#rows = 0;
          const changed = runBatch(query, params, (step, values) => {
            const changes = this.#statement(step).run(values as never).changes;
            this.#rows += changes;
            return changes;
          });
          db.run(nested ? "RELEASE chatdb_batch" : "COMMIT");
          return changed;
        } catch (e) {
          if (nested) db.run("ROLLBACK TO chatdb_batch; RELEASE chatdb_batch");
          else if (db.inTransaction) db.run("ROLLBACK");
          throw e;
        }
      }
    }
  }

  /** The raw connection, for tests and tools that need the engine itself. Internal. */
  _connection(): Database {
    return this.#connection();
  }

  get identity(): FileIdentity | null {
    return this.#identity;
  }

  health(): SourceHealth {
    return this.#status.health(this.config);
  }

  async inspect(tables: readonly string[] = []): Promise<SourceInspection> {
    const error = await this.ready().then(
      () => null,
      (e: unknown) => this.#wrap(e, "open"),
    );
    const counts: Record<string, number> = {};
    if (error === null && tables.length > 0) {
      const db = this.#connection();
      const present = new Set(
        (
          db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
            name: string;
          }[]
        ).map((t) => t.name),
      );
      for (const t of tables) {
        if (present.has(t))
          counts[t] = (db.query(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      }
    }
    return { health: this.health(), error, counts };
  }

  /** Marks the source unavailable and drops its connection (file deleted). */
  markUnavailable(reason: string): void {
    this.#release();
    this.#status.set("unavailable", reason);
    this.#hooks.failed?.(
      this.name,
      new DatabaseError("SOURCE_UNAVAILABLE", `source ${this.name} is unavailable: ${reason}`, {
        source: this.name,
      }),
    );
  }

  /** Finalizes every statement, then closes the connection: no zombie keeps the old file open. */
  #release(): void {
    for (const st of this.#statements.values()) st.finalize();
    this.#statements.clear();
    this.#variants.clear();
    this.#schema = null;
    this.#db?.close(false);
    this.#db = null;
  }

  /** Calls waiting for a lock finish (or time out) first; later calls reject CLOSED. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      await Promise.all([this.#queue.drained(), this.#indexBuild?.stop()]);
      this.#release();
      this.#status.set("unavailable", "closed");
    })();
    return this.#closing;
  }

  #wrap(e: unknown, during: string): DatabaseError {
    if (e instanceof DatabaseError) return e;
    const code = (e as { code?: string }).code ?? "";
    const message = `source ${this.name} (${this.config.path}): ${during} failed: ${(e as Error).message ?? String(e)}`;
    // The file cannot be used at all (a query meeting a corrupt file is no query error)
    const unavailable =
      during === "open"
        ? /^SQLITE_(CANTOPEN|NOTADB|CORRUPT|PERM|AUTH|BUSY|LOCKED)/.test(code)
        : /^SQLITE_(NOTADB|CORRUPT|BUSY|LOCKED)/.test(code);
    // a write a readonly source's engine refused (query_only, a readonly open): as PostgreSQL says it
    const refused = this.config.readonly && code === "SQLITE_READONLY" && during === "query";
    const kind = unavailable ? "SOURCE_UNAVAILABLE" : refused ? "READONLY_SOURCE" : "QUERY_FAILED";
    return new DatabaseError(kind, message, { source: this.name, cause: e });
  }
}

/**
 * What a readonly reader of a file another process writes meets for an instant, and waits out
 * like a lock: a commit's hot journal (rollback mode), and in WAL mode a `-shm` being set up or
 * recovered by its owner (the reader cannot do either itself).
 */
const TRANSIENT_READONLY = new Set([
  "SQLITE_READONLY_ROLLBACK",
  "SQLITE_READONLY_RECOVERY",
  "SQLITE_READONLY_CANTINIT",
]);

/** A numeric PRAGMA (data_version, schema_version), or -1 when it cannot be read now (a lock). */
function pragma(db: Database, name: "data_version" | "schema_version"): number {
  try {
    const row = db.query(`PRAGMA ${name}`).get() as Record<string, number> | undefined;
    return row === undefined ? -1 : Number(row[name]);
  } catch {
    return -1;
  }
}

const SCHEMA_TEXT =
  "SELECT group_concat(type || ' ' || name || ' ' || coalesce(sql, ''), char(10)) AS t FROM (SELECT * FROM sqlite_master ORDER BY type, name)";

/** The whole schema as text (every table, index, view and trigger), to compare. */
function readSchemaText(db: Database): string {
  return String((db.query(SCHEMA_TEXT).get() as { t: string | null }).t ?? "");
}

/** {@link readSchemaText}, or null when a lock is in the way. */
function readSchemaTextOrNull(db: Database): string | null {
  try {
    return readSchemaText(db);
  } catch {
    return null;
  }
}
