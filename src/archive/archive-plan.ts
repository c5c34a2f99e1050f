/**
 * What `chatdb archive` will do, decided before anything is opened for writing: the target is
 * checked to be a file this bot owns (never another program's live database, never a file
 * someone is writing, never a foreign schema), and each chat gets its source and row count.
 * Every refusal here throws and leaves every file as it was: sources are read `immutable` when
 * nobody has them open (a readonly open of an idle WAL file would create `-wal`/`-shm`).
 */
import { constants, Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { toDbTime } from "../_internal/values.ts";
import type { ResolvedConfig, SqliteSourceConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { readSchemaVersion } from "../schema/migrate.ts";
import { LATEST_VERSION } from "../schema/migrations.ts";
import {
  fileUri,
  foreignWalHazard,
  headerJournalMode,
  isIdleWal,
  openImmutable,
} from "../sources/sqlite-file.ts";
import { CHAT_TABLES, columnsOf, countSql } from "./chat-tables.ts";

/** One chat to move. */
export interface ArchiveJob {
  chatId: number;
  from: SqliteSourceConfig;
  /** The chat already routes to the target (a rerun after the mapping was written). */
  mapped: boolean;
  /** The chat's rows in `from` when planned. */
  rows: number;
  /** Delete from `from` after the copy (false for a readonly `from`). */
  delete: boolean;
}

export interface ArchiveSkip {
  chatId: number;
  reason: string;
}

export interface ArchivePlan {
  target: SqliteSourceConfig;
  jobs: ArchiveJob[];
  skipped: ArchiveSkip[];
}

export interface PlanOptions {
  config: ResolvedConfig;
  /** Chats named on the command line. */
  chats?: readonly number[] | undefined;
  /** Instead of `chats`: every chat with no message for this many days. */
  inactiveDays?: number | undefined;
  to: string;
  from?: string | undefined;
  delete?: boolean | undefined;
  force?: boolean | undefined;
  now?: Date | undefined;
}

/** Checks the target and resolves every chat; throws (changing nothing) on any refusal. */
export function planArchive(options: PlanOptions): ArchivePlan {
  const { config } = options;
  if (config.file === undefined) {
    throw invalid("archive needs a config file to add the chat mapping to");
  }
  const target = sqliteSource(config, options.to, "--to");
  if (target.mode === "readonly") {
    throw new DatabaseError(
      "READONLY_SOURCE",
      `archive: --to ${target.name} is a readonly live source (readonly = true without immutable = true: another program's database, which chatdb never writes). archive writes only into a source this bot owns: a writable source, or an archive file configured readonly = true with immutable = true; add one to the config and pass it as --to`,
      { source: target.name },
    );
  }
  assertOwnTarget(target);
  const log = readLog(target);
  return options.inactiveDays === undefined
    ? planChats(options, target, log)
    : planInactive(options, target, log, options.inactiveDays);
}

function planChats(options: PlanOptions, target: SqliteSourceConfig, log: Map<number, string>) {
  const { config } = options;
  const jobs: ArchiveJob[] = [];
  const skipped: ArchiveSkip[] = [];
  for (const chatId of new Set(options.chats ?? [])) {
    const home = config.chatMapping.get(chatId) ?? config.defaultSource;
    const mapped = home === target.name;
    let fromName = options.from;
    if (!mapped && fromName !== undefined && fromName !== home) {
      throw invalid(`chat ${chatId} routes to ${home}, not ${fromName}; its rows are there`);
    }
    if (mapped) fromName ??= log.get(chatId);
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
        { source: from.name },
      );
    }
    if (options.delete && from.readonly) {
      throw new DatabaseError(
        "READONLY_SOURCE",
        `source ${from.name} is readonly: archive can copy from it but not --delete`,
        { source: from.name, chatId },
      );
    }
    if (!mapped && from.mode === "readonly" && !options.force) {
      throw invalid(
        `chat ${chatId} routes to ${from.name}, a readonly live source (another program's database): archiving maps it to ${target.name}, and the messages that program writes for it from then on will no longer be seen. Pass --force to archive it anyway`,
      );
    }
    assertReadable(from);
    const rows = chatRows(from, chatId);
    if (rows === 0 && mapped) {
      skipped.push({
        chatId,
        reason: `already archived in ${target.name} (no rows left in ${from.name})`,
      });
      continue;
    }
    if (rows === 0 && !options.force) {
      throw invalid(
        `chat ${chatId} has no rows in ${from.name}: nothing to archive (a mistyped id?), and mapping it to ${target.name} would send its reads and writes there. Pass --force to map it anyway`,
      );
    }
    jobs.push({ chatId, from, mapped, rows, delete: options.delete === true });
  }
  return { target, jobs, skipped };
}

/** Every chat whose newest message is older than `days`, found in the source it routes to. */
function planInactive(
  options: PlanOptions,
  target: SqliteSourceConfig,
  log: Map<number, string>,
  days: number,
) {
  const { config } = options;
  const cutoff = toDbTime(new Date((options.now ?? new Date()).getTime() - days * 86_400_000));
  const jobs: ArchiveJob[] = [];
  const skipped: ArchiveSkip[] = [];
  for (const from of config.sources) {
    if (from.type !== "sqlite" || from.path === ":memory:" || from.name === target.name) continue;
    if (options.from !== undefined && from.name !== options.from) continue;
    if (!existsSync(from.path)) continue;
    // the scan reads immutable when nobody has the file open: it creates nothing
    const hazard = from.mode === "readonly" ? foreignWalHazard(from.path) : undefined;
    const inactive = withReader(from, (db) => {
      if (columnsOf(db, "main", "chat_messages").length === 0) return [];
      const rows = db
        .query(
          "SELECT chat_id FROM chat_messages GROUP BY chat_id HAVING max(date) < ? ORDER BY chat_id",
        )
        .values(cutoff) as [number][];
      return rows.map((r) => r[0]);
    });
    for (const chatId of inactive) {
      const home = config.chatMapping.get(chatId) ?? config.defaultSource;
      // rows left behind by an interrupted run (mapped, not yet deleted) are finished too
      // (only with --delete: without it they stay in the source by design)
      const mapped =
        home === target.name &&
        log.get(chatId) === from.name &&
        options.delete === true &&
        !from.readonly;
      if (home !== from.name && !mapped) continue; // not this chat's source: not its rows
      if (!mapped && from.readonly && !options.force) {
        skipped.push({
          chatId,
          reason:
            from.mode === "readonly"
              ? `skipped: it routes to ${from.name}, a readonly live source (another program's database); --force archives it, and that program's new messages for it will then no longer be seen`
              : `skipped: it routes to ${from.name}, a readonly archive; --force moves it`,
        });
        continue;
      }
      if (!mapped && hazard !== undefined) {
        skipped.push({ chatId, reason: `skipped: source ${from.name}: ${hazard}` });
        continue;
      }
      jobs.push({
        chatId,
        from,
        mapped,
        rows: chatRows(from, chatId),
        delete: options.delete === true && !from.readonly,
      });
    }
  }
  return { target, jobs, skipped };
}

/**
 * The target must be a file only this bot writes: absent, empty, or a chatdb/gromozeka
 * database that no other process has open for writing.
 */
function assertOwnTarget(target: SqliteSourceConfig): void {
  const path = target.path;
  const size = statOf(path)?.size ?? 0;
  for (const suffix of ["-wal", "-journal"]) {
    const bytes = statOf(path + suffix)?.size ?? 0;
    if (bytes > 0) {
      throw new DatabaseError(
        "SOURCE_UNAVAILABLE",
        `archive: --to ${target.name}: ${path}${suffix} holds ${bytes} bytes, so another process has the file open for writing (or crashed while writing it). archive never writes a file someone else writes: stop that process (or point --to at another archive) and rerun`,
        { source: target.name },
      );
    }
  }
  if (size === 0) return; // absent or empty: created with chatdb's schema
  const foreign = (why: string) =>
    new DatabaseError(
      "SCHEMA_MISMATCH",
      `archive: --to ${target.name}: ${path} ${why}; archive never migrates another program's file. Point --to at a chatdb archive or a new file`,
      { source: target.name },
    );
  if (headerJournalMode(path) === null) throw foreign("is not a SQLite database");
  let version: number | null;
  const db = openImmutable(path);
  try {
    const settings = columnsOf(db, "main", "settings");
    const messages = columnsOf(db, "main", "chat_messages");
    if (
      !["key", "value"].every((c) => settings.includes(c)) ||
      !["chat_id", "message_id"].every((c) => messages.includes(c))
    ) {
      throw foreign("has no chatdb schema (settings and chat_messages tables)");
    }
    version = readSchemaVersion(db);
  } catch (e) {
    if (e instanceof DatabaseError) throw e;
    throw foreign(`cannot be read (${(e as Error).message})`);
  } finally {
    db.close(false);
  }
  if (version !== null && version > LATEST_VERSION) {
    throw foreign(`has schema version ${version}, newer than this chatdb (${LATEST_VERSION})`);
  }
  // A writer holding the lock right now: try for it without waiting, then let go.
  let probe: Database | undefined;
  try {
    probe = new Database(path, constants.SQLITE_OPEN_READWRITE);
    probe.run("PRAGMA busy_timeout = 0");
    probe.run("BEGIN IMMEDIATE");
    probe.run("ROLLBACK");
  } catch (e) {
    throw new DatabaseError(
      "SOURCE_UNAVAILABLE",
      `archive: --to ${target.name}: ${path} cannot be locked for writing (${(e as Error).message}): another process is writing it, and archive never writes a file someone else writes. Stop that process and rerun`,
      { source: target.name, cause: e },
    );
  } finally {
    probe?.close(false);
  }
}

/** Reading another program's live WAL file as another user would break its writes (see foreignWalHazard). */
function assertReadable(from: SqliteSourceConfig): void {
  const hazard = from.mode === "readonly" ? foreignWalHazard(from.path) : undefined;
  if (hazard !== undefined) {
    throw new DatabaseError("SOURCE_UNAVAILABLE", `archive: source ${from.name}: ${hazard}`, {
      source: from.name,
    });
  }
}

/** Chat id → the source the archive's log says it came from (empty when there is no log). */
function readLog(target: SqliteSourceConfig): Map<number, string> {
  const out = new Map<number, string>();
  if ((statOf(target.path)?.size ?? 0) === 0) return out;
  const db = openImmutable(target.path);
  try {
    if (columnsOf(db, "main", "chatdb_archive_log").length === 0) return out;
    const rows = db.query("SELECT chat_id, from_source FROM chatdb_archive_log").values() as [
      number,
      string,
    ][];
    for (const [chatId, source] of rows) out.set(chatId, source);
    return out;
  } finally {
    db.close(false);
  }
}

/** The chat's rows over every per-chat table `from` has. */
function chatRows(from: SqliteSourceConfig, chatId: number): number {
  return withReader(from, (db) =>
    CHAT_TABLES.filter((t) => columnsOf(db, "main", t).includes("chat_id")).reduce(
      (n, t) => n + (db.query(countSql(t, "main")).get(chatId) as { n: number }).n,
      0,
    ),
  );
}

/**
 * Runs `fn` on a read connection to `s` that creates no file: immutable when the file is
 * frozen or nobody has it open (a WAL file without `-wal`/`-shm`), `mode=ro` otherwise.
 */
export function withReader<T>(s: SqliteSourceConfig, fn: (db: Database) => T): T {
  const db = new Database(readUri(s), constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI);
  try {
    db.run(`PRAGMA busy_timeout = ${Math.round(s.timeout * 1000)}`);
    return fn(db);
  } finally {
    db.close(false);
  }
}

/** URI to read `s` without creating files (see withReader). */
export function readUri(s: SqliteSourceConfig): string {
  return fileUri(s.path, s.mode === "immutable" || isIdleWal(s.path) ? "immutable" : "ro");
}

export function sqliteSource(
  config: ResolvedConfig,
  name: string,
  flag: string,
): SqliteSourceConfig {
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

function statOf(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

export const invalid = (message: string) =>
  new DatabaseError("INVALID_ARGUMENT", `archive: ${message}`);
