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
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { SourceConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import {
  diagnoseMismatch,
  type MigrationReport,
  migrateSqlite,
  readSchemaVersion,
} from "../schema/migrate.ts";
import type { Params, Query, ResultOf, Row } from "./query.ts";
import type { Source, SourceHealth, SourceState } from "./source.ts";

/** Device + inode: tells a replaced file from the same file changed in place. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

export class SqliteSource implements Source {
  readonly name: string;
  readonly config: SourceConfig;
  #db: Database | null = null;
  #statements = new Map<object, Statement>();
  #tx: ((fn: () => unknown) => unknown) | null = null;
  #state: SourceState = "unavailable";
  #reason = "not opened";
  #lastChange = new Date();
  #schemaVersion: number | null = null;
  #identity: FileIdentity | null = null;
  #closed = false;
  /** What the last open's migration did (read-write sources). */
  migration: MigrationReport | null = null;

  constructor(config: SourceConfig) {
    this.name = config.name;
    this.config = config;
    this.open();
  }

  /**
   * Opens (or reopens) the connection. A writable source that fails to open throws; a readonly
   * one whose file is missing or unreadable becomes `unavailable` and is retried on next use.
   */
  open(): void {
    this.#release();
    try {
      this.#db = this.#connect();
      this.#identity = this.#statIdentity();
      this.#schemaVersion = readSchemaVersion(this.#db);
      this.#tx = this.#db.transaction((fn: () => unknown) => fn());
      this.#setState("ok", "");
    } catch (e) {
      this.#release();
      const error = this.#wrap(e, "open");
      if (!this.config.readonly) throw error;
      this.#setState("unavailable", error.message);
    }
  }

  #connect(): Database {
    const { path, mode, timeout } = this.config;
    const busy = Math.round(timeout * 1000);
    if (mode === "read-write") {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      const db = new Database(path, { create: true, readwrite: true });
      try {
        if (path !== ":memory:") db.run("PRAGMA journal_mode = WAL");
        db.run(`PRAGMA busy_timeout = ${busy}`);
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

  #statIdentity(): FileIdentity | null {
    if (this.config.path === ":memory:") return null;
    try {
      const s = statSync(this.config.path);
      return { dev: s.dev, ino: s.ino };
    } catch {
      return null;
    }
  }

  /** The connection, reopening an unavailable readonly source whose file has come back. */
  #connection(): Database {
    if (this.#db) return this.#db;
    if (this.#closed)
      throw new DatabaseError("CLOSED", `source ${this.name} is closed`, { source: this.name });
    if (existsSync(this.config.path)) this.open();
    if (this.#db) return this.#db;
    throw new DatabaseError(
      "SOURCE_UNAVAILABLE",
      `source ${this.name} is unavailable: ${this.#reason}`,
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
      // A statement prepared before another connection changed the schema fails here, not at prepare.
      const sql =
        query.kind === "batch" ? query.steps.map((s) => s.query.sql).join(";") : query.sql;
      throw (this.#db && diagnoseMismatch(this.#db, this.name, sql, e)) || this.#wrap(e, "query");
    }
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
    return {
      name: this.name,
      type: "sqlite",
      mode: this.config.mode,
      state: this.#state,
      reason: this.#reason,
      lastChange: this.#lastChange,
      schemaVersion: this.#schemaVersion,
    };
  }

  #setState(state: SourceState, reason: string): void {
    this.#state = state;
    this.#reason = reason;
    this.#lastChange = new Date();
  }

  /** Marks the source unavailable and drops its connection (file deleted). */
  markUnavailable(reason: string): void {
    this.#release();
    this.#setState("unavailable", reason);
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
  }

  #wrap(e: unknown, during: string): DatabaseError {
    if (e instanceof DatabaseError) return e;
    const code = (e as { code?: string }).code ?? "";
    const message = `source ${this.name} (${this.config.path}): ${during} failed: ${(e as Error).message ?? String(e)}`;
    const unavailable = /^SQLITE_(CANTOPEN|NOTADB|CORRUPT|PERM|AUTH)/.test(code);
    return new DatabaseError(
      unavailable && during === "open" ? "SOURCE_UNAVAILABLE" : "QUERY_FAILED",
      message,
      {
        source: this.name,
        cause: e,
      },
    );
  }
}

/** `file:` URI for an immutable open; characters meaningful in URIs are percent-encoded. */
export function immutableUri(path: string): string {
  return `file:${encodeURI(path).replace(/\?/g, "%3F").replace(/#/g, "%23")}?immutable=1`;
}
