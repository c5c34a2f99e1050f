/**
 * Moves chats' rows from their current sources into an archive database, in an order that
 * survives being killed at any point (archive-plan.ts first decides, writing nothing, what
 * moves and refuses targets this bot does not own):
 *
 * 1. copy — per chat, one transaction on the archive: copy every per-chat table in row batches
 *    (INSERT OR REPLACE), check that every source row has an identical archive row, log where
 *    the chat came from (chatdb_archive_log), commit. An immutable archive (which bots read with
 *    `immutable=1`, so it must never change in place) is copied to a temp file once per run,
 *    changed there and renamed over the old one after the last chat.
 * 2. map — one edit of the TOML's chat_mapping for all chats (atomic file replace).
 * 3. delete (optional) — per chat, one transaction on the source deletes only rows that have an
 *    identical copy in the archive; rows the bot wrote or changed since the copy are copied
 *    again and the delete repeated.
 *
 * A kill before 1 commits leaves no trace but a temp file (removed by the next run); between
 * 1 and 2, the rows exist twice and the chats still route to their sources (the rerun copies
 * them again); between 2 and 3, the rerun finds each source in the archive's log and finishes.
 * No step loses a row.
 */
import { constants, Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { replaceAtomically, tempPathFor, writeFileAtomically } from "../_internal/fs.ts";
import { setChatMapping } from "../config/edit-mapping.ts";
import type { SqliteSourceConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { migrateSqlite } from "../schema/migrate.ts";
import { fileUri } from "../sources/sqlite-file.ts";
import { cleanStaleTemps } from "../sync/snapshot.ts";
import {
  type ArchiveJob,
  type ArchiveSkip,
  type PlanOptions,
  planArchive,
} from "./archive-plan.ts";
import {
  CHAT_TABLES,
  copyInBatches,
  count as countRows,
  countSql,
  deleteInBatches,
  missingSql,
  sharedColumns,
} from "./chat-tables.ts";

/** Points an interruption test can stop at. */
export type ArchiveCheckpoint = "mid-copy" | "chat-copied" | "copied" | "mapped" | "mid-delete";

export interface ArchiveProgress {
  phase: "copy" | "verify" | "map" | "delete";
  chatId?: number | undefined;
  /** Rows copied plus rows deleted so far, over the whole run. */
  done: number;
  total: number;
}

export interface ArchiveOptions extends PlanOptions {
  /** Run VACUUM on each source rows were deleted from. */
  vacuum?: boolean | undefined;
  onProgress?: ((p: ArchiveProgress) => void) | undefined;
  /** One finished chat (copied and verified). */
  onChat?: ((c: ArchiveChatReport) => void) | undefined;
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

export interface ArchiveChatReport {
  chatId: number;
  from: string;
  to: string;
  tables: ArchiveTableReport[];
  /** "added": this run mapped the chat; "already": it was mapped before. */
  mapping: "added" | "already";
  /** Rows deleted from the source; null when not deleted. */
  deleted: number | null;
}

export interface ArchiveReport {
  to: string;
  chats: ArchiveChatReport[];
  skipped: ArchiveSkip[];
  /** Per source rows were deleted from: bytes VACUUM would give back (0 once vacuumed). */
  reclaimable: { source: string; bytes: number; vacuumed: boolean }[];
}

const LOG_DDL = `CREATE TABLE IF NOT EXISTS chatdb_archive_log (
  chat_id INTEGER PRIMARY KEY, from_source TEXT NOT NULL, from_path TEXT NOT NULL,
  rows INTEGER NOT NULL, archived_at TIMESTAMP NOT NULL)`;

/** Archives the planned chats; see the module comment for the order of steps and why. */
export function archiveChats(options: ArchiveOptions): ArchiveReport {
  const { target, jobs, skipped } = planArchive(options);
  const file = options.config.file as string;
  const anyDelete = jobs.some((j) => j.delete);
  const progress = {
    done: 0,
    total: jobs.reduce((n, j) => n + j.rows * (j.delete ? 2 : 1), 0),
    report(phase: ArchiveProgress["phase"], chatId?: number) {
      options.onProgress?.({ phase, chatId, done: this.done, total: this.total });
    },
  };
  const reports = new Map<number, ArchiveChatReport>();
  if (jobs.length === 0) return { to: target.name, chats: [], skipped, reclaimable: [] };

  copyJobs(target, jobs, options, progress, (job, tables) => {
    const r: ArchiveChatReport = {
      chatId: job.chatId,
      from: job.from.name,
      to: target.name,
      tables,
      mapping: job.mapped ? "already" : "added",
      deleted: null,
    };
    reports.set(job.chatId, r);
    options.onChat?.(r);
  });
  options.checkpoint?.("copied");

  const unmapped = jobs.filter((j) => !j.mapped);
  if (unmapped.length > 0) {
    let text = readFileSync(file, "utf8");
    for (const j of unmapped) {
      text = setChatMapping(text, j.chatId, target.name, { baseDir: dirname(file), file });
    }
    writeFileAtomically(file, text);
    progress.report("map");
    options.checkpoint?.("mapped");
  }

  const reclaimable: ArchiveReport["reclaimable"] = [];
  if (anyDelete) {
    for (const from of new Set(jobs.filter((j) => j.delete).map((j) => j.from))) {
      for (const job of jobs.filter((j) => j.delete && j.from === from)) {
        (reports.get(job.chatId) as ArchiveChatReport).deleted = deleteJob(
          target,
          job,
          options,
          progress,
        );
      }
      reclaimable.push(reclaim(from, options.vacuum === true));
    }
  }
  return {
    to: target.name,
    chats: jobs.map((j) => reports.get(j.chatId) as ArchiveChatReport),
    skipped,
    reclaimable,
  };
}

type Progress = {
  done: number;
  total: number;
  report(phase: ArchiveProgress["phase"], chatId?: number): void;
};

/** Step 1 for every job: one archive connection (one temp copy for an immutable archive). */
function copyJobs(
  target: SqliteSourceConfig,
  jobs: readonly ArchiveJob[],
  options: ArchiveOptions,
  progress: Progress,
  onCopied: (job: ArchiveJob, tables: ArchiveTableReport[]) => void,
): void {
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
    try {
      db.run(`PRAGMA busy_timeout = ${Math.round(target.timeout * 1000)}`);
      db.run(`PRAGMA journal_mode = ${aside ? "DELETE" : "WAL"}`);
      migrateSqlite(db, target.name);
      db.run(LOG_DDL);
      for (const from of new Set(jobs.map((j) => j.from))) {
        db.run("ATTACH DATABASE ? AS src", [sourceUri(from)]);
        try {
          for (const job of jobs.filter((j) => j.from === from)) {
            onCopied(job, copyInTransaction(db, job, options, progress));
            options.checkpoint?.("chat-copied");
          }
        } finally {
          db.run("DETACH DATABASE src");
        }
      }
    } finally {
      db.close(false);
    }
    if (aside) replaceAtomically(work, target.path);
  } catch (e) {
    if (aside) rmSync(work, { force: true });
    throw wrap(e, target.name, "copy");
  }
}

/** The copy, the check and the log row of one chat: one transaction on the archive (main). */
function copyInTransaction(
  db: Database,
  job: ArchiveJob,
  options: ArchiveOptions,
  progress: Progress,
): ArchiveTableReport[] {
  const { chatId } = job;
  // Deferred BEGIN: IMMEDIATE would try to write-lock the attached source too, and the copy
  // must only ever read it (one WAL read snapshot for the whole transaction).
  db.run("BEGIN");
  try {
    const plan = CHAT_TABLES.map((table) => {
      const cols = sharedColumns(db, table, "src", "main");
      const n = cols.includes("chat_id") ? countRows(db, countSql(table, "src"), chatId) : 0;
      return { table, cols, n };
    }).filter((p) => p.cols.includes("chat_id"));
    const total = plan.reduce((sum, p) => sum + p.n, 0);
    // the plan counted before this snapshot: keep the bar's total honest
    progress.total += (total - job.rows) * (job.delete ? 2 : 1);
    job.rows = total;
    for (const [i, p] of plan.entries()) {
      copyInBatches(db, p.table, p.cols, "src", "main", chatId, (n) => {
        progress.done += n;
        progress.report("copy", chatId);
      });
      if (i === Math.floor(plan.length / 2)) options.checkpoint?.("mid-copy");
    }
    const report: ArchiveTableReport[] = [];
    for (const p of plan) {
      const missing = countRows(db, missingSql(p.table, p.cols, "src", "main"), chatId);
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
        archive: countRows(db, countSql(p.table, "main"), chatId),
      });
    }
    progress.report("verify", chatId);
    db.run(
      `INSERT OR REPLACE INTO chatdb_archive_log (chat_id, from_source, from_path, rows, archived_at)
       VALUES (?, ?, ?, ?, ?)`,
      [chatId, job.from.name, job.from.path, total, new Date().toISOString()],
    );
    db.run("COMMIT");
    return report;
  } catch (e) {
    db.run("ROLLBACK");
    throw e;
  }
}

/** Step 3 for one chat; rows the bot wrote after the copy are copied again (3 rounds at most). */
function deleteJob(
  target: SqliteSourceConfig,
  job: ArchiveJob,
  options: ArchiveOptions,
  progress: Progress,
): number {
  let deleted = 0;
  for (let round = 0; ; round++) {
    const r = deleteCopied(target, job, options, progress);
    deleted += r.deleted;
    if (r.remaining === 0) return deleted;
    if (round === 2) {
      throw new DatabaseError(
        "QUERY_FAILED",
        `source ${job.from.name}: ${r.remaining} rows of chat ${job.chatId} keep changing; is the bot still writing to it? Rerun archive later`,
        { source: job.from.name, chatId: job.chatId },
      );
    }
    progress.total += 2 * r.remaining;
    copyJobs(target, [{ ...job, rows: r.remaining }], options, progress, () => {});
  }
}

/** Deletes the chat's source rows that have an identical archive copy; one transaction. */
function deleteCopied(
  target: SqliteSourceConfig,
  job: ArchiveJob,
  options: ArchiveOptions,
  progress: Progress,
): { deleted: number; remaining: number } {
  const { from, chatId } = job;
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
        deleteInBatches(db, p.table, p.cols, "arch", chatId, (n) => {
          deleted += n;
          progress.done += n;
          progress.report("delete", chatId);
        });
        if (i === Math.floor(plan.length / 2)) options.checkpoint?.("mid-delete");
      }
      const remaining = plan.reduce(
        (s, p) => s + countRows(db, countSql(p.table, "main"), chatId),
        0,
      );
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

/** Free pages left by the delete (freelist_count × page_size), or VACUUM to give them back. */
function reclaim(from: SqliteSourceConfig, vacuum: boolean): ArchiveReport["reclaimable"][number] {
  const db = new Database(from.path, constants.SQLITE_OPEN_READWRITE);
  try {
    db.run(`PRAGMA busy_timeout = ${Math.round(from.timeout * 1000)}`);
    const free = () => {
      const pages = (db.query("PRAGMA freelist_count").get() as { freelist_count: number })
        .freelist_count;
      const size = (db.query("PRAGMA page_size").get() as { page_size: number }).page_size;
      return pages * size;
    };
    if (vacuum) db.run("VACUUM");
    return { source: from.name, bytes: free(), vacuumed: vacuum };
  } catch (e) {
    throw wrap(e, from.name, vacuum ? "vacuum" : "free-space check");
  } finally {
    db.close(false);
  }
}

/** URI to ATTACH a source read-only: immutable files as immutable, live ones `mode=ro`. */
function sourceUri(s: SqliteSourceConfig): string {
  return fileUri(s.path, s.mode === "immutable" ? "immutable" : "ro");
}

function wrap(e: unknown, source: string, during: string): DatabaseError {
  if (e instanceof DatabaseError) return e;
  return new DatabaseError(
    "QUERY_FAILED",
    `archive ${during} (${source}): ${(e as Error).message ?? String(e)}`,
    { source, cause: e },
  );
}
