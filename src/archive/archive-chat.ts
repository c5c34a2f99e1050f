/**
 * Moves one chat's rows from its current source into an archive database, in an order that
 * survives being killed at any point:
 *
 * 1. copy — one transaction on the archive: copy every per-chat table (INSERT OR REPLACE),
 *    check that every source row has an identical archive row, log where the chat came from,
 *    commit. An immutable archive (which bots read with `immutable=1`, so it must never change
 *    in place) is copied to a temp file, changed there and renamed over the old one.
 * 2. map — `<chatId> = "<archive>"` goes into the TOML's chat_mapping (atomic file replace).
 * 3. delete (optional) — one transaction on the source deletes only rows that have an
 *    identical copy in the archive; rows the bot wrote or changed since the copy are copied
 *    again and the delete repeated.
 *
 * A kill before 1 commits leaves no trace but a temp file (removed by the next run); between
 * 1 and 2, the rows exist twice and the chat still routes to its source; between 2 and 3, the
 * rerun finds the source in the archive's log and finishes. No step loses a row.
 */
import { constants, Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { replaceAtomically, tempPathFor, writeFileAtomically } from "../_internal/fs.ts";
import { setChatMapping } from "../config/edit-mapping.ts";
import type { ResolvedConfig, SourceConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { migrateSqlite } from "../schema/migrate.ts";
import { immutableUri } from "../sources/sqlite-source.ts";
import { cleanStaleTemps } from "../sync/snapshot.ts";
import {
  CHAT_TABLES,
  copySql,
  countSql,
  deleteCopiedSql,
  missingSql,
  sharedColumns,
} from "./chat-tables.ts";

/** Points an interruption test can stop at. */
export type ArchiveCheckpoint = "mid-copy" | "copied" | "mapped" | "mid-delete";

export interface ArchiveProgress {
  phase: "copy" | "verify" | "map" | "delete";
  table?: string;
  done: number;
  total: number;
}

export interface ArchiveOptions {
  config: ResolvedConfig;
  chatId: number;
  /** The archive source's name (a configured SQLite source). */
  to: string;
  /** Where the rows are; default: where the chat routes now (or the archive's log on rerun). */
  from?: string | undefined;
  /** Delete the chat's rows from `from` after the copy is verified and mapped. */
  delete?: boolean | undefined;
  onProgress?: ((p: ArchiveProgress) => void) | undefined;
  /** Called at each checkpoint; tests use it to kill the process there. */
  checkpoint?: ((name: ArchiveCheckpoint) => void) | undefined;
}

export interface ArchiveTableReport {
  table: string;
  /** The chat's rows in the source when copied. */
  source: number;
  /** The chat's rows in the archive after the copy (>= source: earlier archives stay). */
  archive: number;
}

export interface ArchiveReport {
  chatId: number;
  from: string;
  to: string;
  tables: ArchiveTableReport[];
  /** "added": this run mapped the chat; "already": it was mapped before. */
  mapping: "added" | "already";
  /** Rows deleted from the source; null without `delete`. */
  deleted: number | null;
}

const LOG_DDL = `CREATE TABLE IF NOT EXISTS chatdb_archive_log (
  chat_id INTEGER PRIMARY KEY, from_source TEXT NOT NULL, from_path TEXT NOT NULL,
  rows INTEGER NOT NULL, archived_at TIMESTAMP NOT NULL)`;

/** Archives one chat; see the module comment for the order of steps and why. */
export function archiveChat(options: ArchiveOptions): ArchiveReport {
  const { config, chatId } = options;
  const file = config.file;
  if (file === undefined) throw invalid("archive needs a config file to add the chat mapping to");
  const target = sqliteSource(config, options.to, "--to");
  const home = config.chatMapping.get(chatId) ?? config.defaultSource;
  const alreadyMapped = home === target.name;

  let fromName = options.from;
  if (!alreadyMapped && fromName !== undefined && fromName !== home) {
    throw invalid(`chat ${chatId} routes to ${home}, not ${fromName}; its rows are there`);
  }
  if (alreadyMapped) fromName ??= readLog(target, chatId);
  else fromName ??= home;
  if (fromName === undefined) {
    throw invalid(
      `chat ${chatId} already maps to ${target.name} and the archive has no record of its source; pass --from SOURCE`,
    );
  }
  const from = sqliteSource(config, fromName, "--from");
  if (from.name === target.name) throw invalid("--from and --to name the same source");
  if (!existsSync(from.path)) {
    throw new DatabaseError(
      "SOURCE_UNAVAILABLE",
      `source ${from.name}: ${from.path} does not exist`,
      {
        source: from.name,
      },
    );
  }
  if (options.delete && from.readonly) {
    throw new DatabaseError(
      "READONLY_SOURCE",
      `source ${from.name} is readonly: archive can copy from it but not --delete`,
      { source: from.name, chatId },
    );
  }

  const tables = copyChat(from, target, chatId, options);
  options.checkpoint?.("copied");

  if (!alreadyMapped) {
    const text = readFileSync(file, "utf8");
    const edited = setChatMapping(text, chatId, target.name, { baseDir: dirname(file), file });
    writeFileAtomically(file, edited);
    options.onProgress?.({ phase: "map", done: 1, total: 1 });
    options.checkpoint?.("mapped");
  }

  let deleted: number | null = null;
  if (options.delete) {
    deleted = 0;
    // Rows the bot wrote after the copy (before it saw the new mapping) are copied again.
    for (let round = 0; ; round++) {
      const r = deleteCopied(from, target, chatId, options);
      deleted += r.deleted;
      if (r.remaining === 0) break;
      if (round === 2) {
        throw new DatabaseError(
          "QUERY_FAILED",
          `source ${from.name}: ${r.remaining} rows of chat ${chatId} keep changing; is the bot still writing to it? Rerun archive later`,
          { source: from.name, chatId },
        );
      }
      copyChat(from, target, chatId, options);
    }
  }
  return {
    chatId,
    from: from.name,
    to: target.name,
    tables,
    mapping: alreadyMapped ? "already" : "added",
    deleted,
  };
}

function copyChat(
  from: SourceConfig,
  target: SourceConfig,
  chatId: number,
  options: ArchiveOptions,
): ArchiveTableReport[] {
  // A bot may be reading an immutable archive right now: build the next version aside.
  const aside = target.mode === "immutable";
  const work = aside ? tempPathFor(target.path) : target.path;
  mkdirSync(dirname(target.path), { recursive: true });
  cleanStaleTemps(target.path);
  if (aside) {
    rmSync(work, { force: true });
    if (existsSync(target.path)) copyFileSync(target.path, work);
  }
  try {
    const db = new Database(
      work,
      constants.SQLITE_OPEN_READWRITE | constants.SQLITE_OPEN_CREATE | constants.SQLITE_OPEN_URI,
    );
    let report: ArchiveTableReport[];
    try {
      db.run(`PRAGMA busy_timeout = ${Math.round(target.timeout * 1000)}`);
      db.run(`PRAGMA journal_mode = ${aside ? "DELETE" : "WAL"}`);
      migrateSqlite(db, target.name);
      db.run(LOG_DDL);
      db.run("ATTACH DATABASE ? AS src", [sourceUri(from)]);
      report = copyInTransaction(db, from, chatId, options);
      db.run("DETACH DATABASE src");
    } finally {
      db.close(false);
    }
    if (aside) replaceAtomically(work, target.path);
    return report;
  } catch (e) {
    if (aside) rmSync(work, { force: true });
    throw wrap(e, target.name, "copy");
  }
}

/** The copy, the check and the log row: one transaction on the archive (main). */
function copyInTransaction(
  db: Database,
  from: SourceConfig,
  chatId: number,
  options: ArchiveOptions,
): ArchiveTableReport[] {
  // Deferred BEGIN: IMMEDIATE would try to write-lock the attached source too, and the copy
  // must only ever read it (one WAL read snapshot for the whole transaction).
  db.run("BEGIN");
  try {
    const plan = CHAT_TABLES.map((table) => {
      const cols = sharedColumns(db, table, "src", "main");
      const n = cols.includes("chat_id") ? count(db, countSql(table, "src"), chatId) : 0;
      return { table, cols, n };
    }).filter((p) => p.cols.includes("chat_id"));
    const total = plan.reduce((sum, p) => sum + p.n, 0);
    let done = 0;
    for (const [i, p] of plan.entries()) {
      db.run(copySql(p.table, p.cols, "src", "main"), [chatId]);
      done += p.n;
      options.onProgress?.({ phase: "copy", table: p.table, done, total });
      if (i === Math.floor(plan.length / 2)) options.checkpoint?.("mid-copy");
    }
    const report: ArchiveTableReport[] = [];
    for (const p of plan) {
      const missing = count(db, missingSql(p.table, p.cols, "src", "main"), chatId);
      if (missing !== 0) {
        throw new DatabaseError(
          "QUERY_FAILED",
          `archive check failed: ${missing} rows of ${p.table} for chat ${chatId} are not in the archive`,
          { chatId },
        );
      }
      report.push({
        table: p.table,
        source: p.n,
        archive: count(db, countSql(p.table, "main"), chatId),
      });
    }
    options.onProgress?.({ phase: "verify", done: total, total });
    db.run(
      `INSERT OR REPLACE INTO chatdb_archive_log (chat_id, from_source, from_path, rows, archived_at)
       VALUES (?, ?, ?, ?, ?)`,
      [chatId, from.name, from.path, total, new Date().toISOString()],
    );
    db.run("COMMIT");
    return report;
  } catch (e) {
    db.run("ROLLBACK");
    throw e;
  }
}

/** Deletes the chat's source rows that have an identical archive copy; one transaction. */
function deleteCopied(
  from: SourceConfig,
  target: SourceConfig,
  chatId: number,
  options: ArchiveOptions,
): { deleted: number; remaining: number } {
  const db = new Database(from.path, constants.SQLITE_OPEN_READWRITE | constants.SQLITE_OPEN_URI);
  try {
    db.run(`PRAGMA busy_timeout = ${Math.round(from.timeout * 1000)}`);
    db.run("ATTACH DATABASE ? AS arch", [sourceUri(target)]);
    const plan = CHAT_TABLES.map((table) => ({
      table,
      cols: sharedColumns(db, table, "main", "arch"),
    })).filter((p) => p.cols.includes("chat_id"));
    db.run("BEGIN");
    try {
      let deleted = 0;
      for (const [i, p] of plan.entries()) {
        deleted += db.run(deleteCopiedSql(p.table, p.cols, "arch"), [chatId]).changes;
        options.onProgress?.({ phase: "delete", table: p.table, done: i + 1, total: plan.length });
        if (i === Math.floor(plan.length / 2)) options.checkpoint?.("mid-delete");
      }
      const remaining = plan.reduce((s, p) => s + count(db, countSql(p.table, "main"), chatId), 0);
      db.run("COMMIT");
      return { deleted, remaining };
    } catch (e) {
      db.run("ROLLBACK");
      throw e;
    }
  } catch (e) {
    throw wrap(e, from.name, "delete");
  } finally {
    db.close(false);
  }
}

/** The source the archive's log says chat `chatId` came from, if the archive exists. */
function readLog(target: SourceConfig, chatId: number): string | undefined {
  if (!existsSync(target.path)) return undefined;
  const db = new Database(
    immutableUri(target.path),
    constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI,
  );
  try {
    const has = db
      .query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chatdb_archive_log'")
      .get();
    if (!has) return undefined;
    const row = db
      .query("SELECT from_source FROM chatdb_archive_log WHERE chat_id = ?")
      .get(chatId) as {
      from_source: string;
    } | null;
    return row?.from_source;
  } finally {
    db.close(false);
  }
}

function sqliteSource(config: ResolvedConfig, name: string, flag: string): SourceConfig {
  const s = config.sources.find((c) => c.name === name);
  if (s === undefined) {
    throw new DatabaseError(
      "UNKNOWN_SOURCE",
      `${flag} ${name}: no such source (configured: ${config.sources.map((c) => c.name).join(", ")})`,
      { source: name },
    );
  }
  if (s.type !== "sqlite" || s.path === ":memory:") {
    throw invalid(`${flag} ${name}: archive works on SQLite files only`);
  }
  return s;
}

/** URI to ATTACH a source read-only: immutable files as immutable, live ones `mode=ro`. */
function sourceUri(s: SourceConfig): string {
  const uri = immutableUri(s.path);
  return s.mode === "immutable" ? uri : uri.replace(/\?immutable=1$/, "?mode=ro");
}

function count(db: Database, sql: string, chatId: number): number {
  return (db.query(sql).get(chatId) as { n: number }).n;
}

const invalid = (message: string) => new DatabaseError("INVALID_ARGUMENT", `archive: ${message}`);

function wrap(e: unknown, source: string, during: string): DatabaseError {
  if (e instanceof DatabaseError) return e;
  return new DatabaseError(
    "QUERY_FAILED",
    `archive ${during} (${source}): ${(e as Error).message ?? String(e)}`,
    { source, cause: e },
  );
}
