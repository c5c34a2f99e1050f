/**
 * One SQLite source in one of three modes (API.md "Source modes"; the reasons are measured in
 * notes/sqlite-live-sources.md):
 * - read-write: WAL, busy_timeout, migrated on open — the bot's own database;
 * - readonly: one persistent `{ readonly: true }` connection with `query_only` — another bot's
 *   live database; it sees new commits without reopening;
 * - immutable: `file:…?immutable=1` — frozen archives and sidecar snapshots.
 * It keeps its own prepared statements (bun's query cache holds only 20) and finalizes them on
 * every close and reopen, so no statement keeps reading a replaced file.
 */
import { constants, Database, type Statement } from "bun:sqlite";
import {
  accessSync,
  closeSync,
  existsSync,
  constants as fsc,
  mkdirSync,
  openSync,
  readSync,
  statSync,
} from "node:fs";
import { dirname } from "node:path";
import type { SourceConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import {
  diagnoseMismatch,
  gapsReason,
  type MigrationReport,
  migrateSqlite,
  readSchemaVersion,
  schemaGaps,
} from "../schema/migrate.ts";
import type { Params, Query, ResultOf, Row } from "./query.ts";
import type { Source, SourceHealth, SourceHooks } from "./source.ts";
import { SourceStatus } from "./status.ts";

/** Device + inode (+ size and mtime): tells a replaced file from one changed in place. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** What {@link SqliteSource.check} found. */
export type CheckResult = "unchanged" | "committed" | "reopened" | "unavailable";

const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;

export class SqliteSource implements Source {
  readonly name: string;
  readonly config: SourceConfig;
  #db: Database | null = null;
  #statements = new Map<object, Statement>();
  #tx: ((fn: () => unknown) => unknown) | null = null;
  readonly #status = new SourceStatus("unavailable", "not opened");
  #identity: FileIdentity | null = null;
  #closed = false;
  #dataVersion = 0;
  /** `PRAGMA schema_version` at open: the owner's DDL changes it. */
  #schemaCookie = 0;
  /** The error code of the last failed stat (ENOENT, EACCES…). */
  #statFailure = "ENOENT";
  #opens = 0;
  readonly #hooks: SourceHooks;
  /** What the last open's migration did (read-write sources). */
  migration: MigrationReport | null = null;

  constructor(config: SourceConfig, hooks: SourceHooks = {}) {
    this.name = config.name;
    this.config = config;
    this.#hooks = hooks;
    this.open("opened");
  }

  /**
   * Opens (or reopens) the connection, finalizing the old statements first. A writable source
   * that fails to open throws; a readonly one whose file is missing or unreadable becomes
   * `unavailable` (reported through the hooks unless `quiet`) and is retried on next use.
   */
  open(reason: string, quiet = false): boolean {
    const wasOpen = this.#opens > 0;
    this.#release();
    try {
      this.#db = this.#connect();
      this.#identity = this.#statIdentity();
      this.#status.schemaVersion = readSchemaVersion(this.#db);
      this.#dataVersion = this.#pragma("data_version");
      this.#schemaCookie = this.#pragma("schema_version");
      this.#tx = this.#db.transaction((fn: () => unknown) => fn());
      this.#status.set("ok", "");
      if (this.config.readonly) this.#checkSchema(this.#db);
      this.#opens++;
      if (wasOpen) this.#hooks.reopened?.(this.name, reason);
      return true;
    } catch (e) {
      this.#release();
      const error = this.#wrap(e, "open");
      if (!this.config.readonly) throw error;
      const changed = this.#status.state !== "unavailable" || this.#status.reason !== error.message;
      this.#status.set("unavailable", error.message);
      this.#opens++;
      if (changed && !quiet) this.#hooks.failed?.(this.name, error);
      return false;
    }
  }

  /**
   * Looks at the file and acts: replaced (new inode) → reopen; deleted → unavailable;
   * back after being missing → reopen; an immutable file changed in place → reopen.
   * A live readonly source is NOT reopened for new commits (it sees them by itself): its
   * `PRAGMA data_version` only marks the change in health. Called by the watcher and its poll.
   */
  check(): CheckResult {
    if (this.#closed || this.config.path === ":memory:") return "unchanged";
    const now = this.#statIdentity();
    const was = this.#identity;
    if (now === null) {
      if (this.#db === null && this.#status.state === "unavailable") return "unavailable";
      // a folder made unreadable (EACCES) is not a missing file: say which it is
      this.markUnavailable(
        this.#statFailure === "ENOENT"
          ? `file ${this.config.path} is missing`
          : `file ${this.config.path} cannot be accessed (${this.#statFailure})`,
      );
      return "unavailable";
    }
    if (this.#db === null) return this.open("file is back") ? "reopened" : "unavailable";
    if (was === null || was.dev !== now.dev || was.ino !== now.ino) {
      return this.open("file replaced") ? "reopened" : "unavailable";
    }
    if (was.size !== now.size || was.mtimeMs !== now.mtimeMs) {
      if (this.config.mode === "immutable") {
        return this.open("file changed in place") ? "reopened" : "unavailable";
      }
      // A live file changes in place at every checkpoint, but SQLite never rewrites its magic.
      // Without it the file was overwritten behind SQLite's back, and a WAL reader would go on
      // serving its cached pages of a database that no longer exists: reopen to find out.
      this.#identity = now;
      if (!hasSqliteHeader(this.config.path)) {
        return this.open("file overwritten") ? "reopened" : "unavailable";
      }
    }
    const version = this.#pragma("data_version");
    if (version !== this.#dataVersion) {
      this.#dataVersion = version;
      this.#status.touch();
      // The owner migrated (or dropped) tables: reopen, so health checks the schema again.
      if (this.config.readonly && this.#pragma("schema_version") !== this.#schemaCookie) {
        return this.open("schema changed") ? "reopened" : "unavailable";
      }
      return "committed";
    }
    return "unchanged";
  }

  /** A numeric PRAGMA of the open connection (data_version, schema_version), or -1. */
  #pragma(name: "data_version" | "schema_version"): number {
    try {
      const row = this.#db?.query(`PRAGMA ${name}`).get() as Record<string, number> | undefined;
      return row === undefined ? -1 : Number(row[name]);
    } catch {
      return -1;
    }
  }

  #connect(): Database {
    const { path, mode, timeout } = this.config;
    const busy = Math.round(timeout * 1000);
    if (mode === "read-write") {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      const db = new Database(path, { create: true, readwrite: true });
      try {
        // busy_timeout first: switching a fresh file to WAL takes a lock that several
        // processes opening it at once must wait for, not fail on
        db.run(`PRAGMA busy_timeout = ${busy}`);
        if (path !== ":memory:") db.run("PRAGMA journal_mode = WAL");
        this.migration = migrateSqlite(db, this.name);
      } catch (e) {
        db.close();
        throw e;
      }
      return db;
    }
    // Readonly modes never create the file: check first, since SQLite's error is vague.
    if (!existsSync(path)) {
      throw new DatabaseError(
        "SOURCE_UNAVAILABLE",
        `source ${this.name}: file ${path} does not exist`,
        { source: this.name },
      );
    }
    if (mode === "readonly") {
      const hazard = foreignWalHazard(path);
      if (hazard)
        throw new DatabaseError("SOURCE_UNAVAILABLE", `source ${this.name}: ${hazard}`, {
          source: this.name,
        });
    }
    const db =
      mode === "immutable"
        ? new Database(
            immutableUri(path),
            constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI,
          )
        : new Database(path, { readonly: true });
    try {
      db.run(`PRAGMA busy_timeout = ${busy}`);
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
   * A readonly source is never migrated: an older or foreign schema is shown as `degraded` in
   * health (the methods that need a missing table or column reject SCHEMA_MISMATCH).
   */
  #checkSchema(db: Database): void {
    const reason = gapsReason(this.#status.schemaVersion, schemaGaps(db));
    if (reason) this.#status.set("degraded", reason);
  }

  #statIdentity(): FileIdentity | null {
    if (this.config.path === ":memory:") return null;
    try {
      const s = statSync(this.config.path);
      return { dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
    } catch (e) {
      this.#statFailure = (e as { code?: string }).code ?? String(e);
      return null;
    }
  }

  /** The connection, reopening an unavailable readonly source whose file has come back. */
  #connection(): Database {
    if (this.#db) return this.#db;
    if (this.#closed)
      throw new DatabaseError("CLOSED", `source ${this.name} is closed`, { source: this.name });
    if (existsSync(this.config.path)) this.open("file is back");
    if (this.#db) return this.#db;
    throw new DatabaseError(
      "SOURCE_UNAVAILABLE",
      `source ${this.name} is unavailable: ${this.#status.reason}`,
      { source: this.name },
    );
  }

  #statement(query: object, sql: string): Statement {
    let st = this.#statements.get(query);
    if (st === undefined) {
      const db = this.#connection();
      try {
        st = db.prepare(sql);
      } catch (e) {
        throw diagnoseMismatch(db, this.name, sql, e) ?? this.#wrap(e, "prepare");
      }
      this.#statements.set(query, st);
    }
    return st;
  }

  exec<Q extends Query>(query: Q, params: Params): ResultOf<Q> {
    try {
      return this.#run(query, params) as ResultOf<Q>;
    } catch (e) {
      if (e instanceof DatabaseError) throw e;
      if (this.config.readonly && CORRUPT.test((e as { code?: string }).code ?? "")) {
        return this.#retryAfterCorruption(query, params, e);
      }
      // A statement prepared before another connection changed the schema fails here, not at prepare.
      const sql =
        query.kind === "batch" ? query.steps.map((s) => s.query.sql).join(";") : query.sql;
      throw (this.#db && diagnoseMismatch(this.#db, this.name, sql, e)) || this.#wrap(e, "query");
    }
  }

  /**
   * A corrupt read on a file someone else owns: reopen once (it may have been replaced under
   * us) and retry; if it is still bad, the source is unavailable until the file is fixed.
   */
  #retryAfterCorruption<Q extends Query>(query: Q, params: Params, first: unknown): ResultOf<Q> {
    let failure = first;
    // quiet: the caller gets this failure as the call's own error
    if (this.open("corruption error", true)) {
      try {
        return this.#run(query, params) as ResultOf<Q>;
      } catch (again) {
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

  #run(query: Query, params: Params): unknown {
    switch (query.kind) {
      case "get":
        return query.finish(
          (this.#statement(query, query.sql).get(params as never) as Row | null) ?? null,
          this.name,
        );
      case "all":
        return query.finish(
          this.#statement(query, query.sql).all(params as never) as Row[],
          this.name,
        );
      case "run":
        return this.#statement(query, query.sql).run(params as never).changes > 0;
      case "batch": {
        const steps = query.steps.map((s) => this.#statement(s.query, s.query.sql));
        this.#connection();
        return (this.#tx as (fn: () => unknown) => unknown)(() => {
          for (let i = 0; i < steps.length; i++) {
            const args = (query.steps[i]?.params ?? []).map((k) => params[k] ?? null);
            const changed = (steps[i] as Statement).run(args as never).changes > 0;
            if (i === 0 && !changed) return false;
          }
          return true;
        });
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
    this.#tx = null;
    this.#db?.close(false);
    this.#db = null;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#release();
    this.#status.set("unavailable", "closed");
  }

  #wrap(e: unknown, during: string): DatabaseError {
    if (e instanceof DatabaseError) return e;
    const code = (e as { code?: string }).code ?? "";
    const message = `source ${this.name} (${this.config.path}): ${during} failed: ${(e as Error).message ?? String(e)}`;
    // The file cannot be used at all (a query meeting a corrupt file is no query error)
    // A lock held past busy_timeout (another process in BEGIN EXCLUSIVE, a writer starving us)
    // is the file being unusable for now, not a bad statement.
    const unavailable =
      during === "open"
        ? /^SQLITE_(CANTOPEN|NOTADB|CORRUPT|PERM|AUTH|BUSY|LOCKED)/.test(code)
        : /^SQLITE_(NOTADB|CORRUPT|BUSY|LOCKED)/.test(code);
    const hint = /^SQLITE_(BUSY|LOCKED)/.test(code)
      ? ` (locked by another connection for longer than timeout = ${this.config.timeout} s)`
      : "";
    return new DatabaseError(unavailable ? "SOURCE_UNAVAILABLE" : "QUERY_FAILED", message + hint, {
      source: this.name,
      cause: e,
    });
  }
}

/**
 * The permission hazard of notes/sqlite-live-sources.md: a reader running as another
 * (non-root) user opening a WAL database whose `-wal`/`-shm` do not exist creates them owned
 * by itself, and the owner's next write fails with SQLITE_READONLY. Returns why the open is
 * refused, or undefined when it is safe.
 */
export function foreignWalHazard(path: string, uid = process.getuid?.()): string | undefined {
  if (uid === undefined || uid === 0) return undefined; // root: SQLite chowns them to the owner
  const st = statSync(path);
  if (st.uid === uid || !isWalFile(path)) return undefined;
  if (existsSync(`${path}-wal`) && existsSync(`${path}-shm`)) return undefined;
  let dirWritable = true;
  try {
    accessSync(dirname(path), fsc.W_OK);
  } catch {
    dirWritable = false;
  }
  return dirWritable
    ? `${path} is a WAL database owned by uid ${st.uid}; opening it as uid ${uid} would create -wal/-shm owned by uid ${uid} and break its owner's writes. Read a snapshot published by the sidecar instead ([sync.NAME] + \`chatdb sync\`, source immutable = true)`
    : `${path} is a WAL database of uid ${st.uid} in a folder uid ${uid} cannot write, and its -shm is missing: SQLite cannot open it readonly. Read a snapshot published by the sidecar instead ([sync.NAME] + \`chatdb sync\`)`;
}

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0");

/** Up to the first `n` bytes of the file (fewer if it is shorter); null when it cannot be opened. */
function readHead(path: string, n: number): Buffer | null {
  const head = Buffer.alloc(n);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    return head.subarray(0, readSync(fd, head, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** The file starts with SQLite's magic string (a live database never shrinks to 0 bytes either). */
function hasSqliteHeader(path: string): boolean {
  // gone or unreadable: the next check's stat reports that
  return readHead(path, 16)?.equals(SQLITE_MAGIC) ?? true;
}

/**
 * The journal mode the file's header records, read without opening it as a database: the
 * read/write format versions (bytes 18 and 19) are 2 in WAL mode, 1 with a rollback journal.
 * Null when the file cannot be read or is no database.
 */
export function headerJournalMode(path: string): "wal" | "rollback" | null {
  const head = readHead(path, 20);
  if (head === null || head.length < 20) return null;
  return head[18] === 2 && head[19] === 2 ? "wal" : head[18] === 1 ? "rollback" : null;
}

/** The file is a database in WAL mode (by its header). */
export const isWalFile = (path: string): boolean => headerJournalMode(path) === "wal";

/** `file:` URI for an immutable open; characters meaningful in URIs are percent-encoded. */
export function immutableUri(path: string): string {
  return `file:${encodeURI(path).replace(/\?/g, "%3F").replace(/#/g, "%23")}?immutable=1`;
}
