/**
 * Looks at each configured source without changing anything: no file is created, migrated or
 * written (a writable source is opened readonly too, through the library's own sources).
 * `check` and `status` print this.
 */
import { statSync } from "node:fs";
import { redactUrl } from "../_internal/redact.ts";
import { sourceConfig } from "../config/source-config.ts";
import type {
  PostgresSourceConfig,
  ResolvedConfig,
  SourceConfig,
  SqliteSourceConfig,
  SyncConfig,
} from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { describeUnindexed, type UnindexedTable } from "../schema/indexes.ts";
import { LATEST_VERSION } from "../schema/migrations.ts";
import { PostgresSource } from "../sources/postgres-source.ts";
import {
  fileKind,
  foreignWalHazard,
  headerJournalMode,
  isIdleWal,
} from "../sources/sqlite-file.ts";
import { SqliteSource } from "../sources/sqlite-source.ts";

/** Tables counted by `check` (per-chat tables and the shared cache). */
export const COUNTED = [
  "chat_messages",
  "chat_users",
  "chat_info",
  "chat_settings",
  "chat_topics",
  "user_data",
  "spam_messages",
  "ham_messages",
  "chat_summarization_cache",
  "media_attachments",
  "cache_storage",
] as const;

export interface SourceReport {
  name: string;
  type: string;
  mode: string;
  path: string;
  exists: boolean;
  bytes: number | null;
  walBytes: number | null;
  modified: string | null;
  journal: "wal" | "rollback" | null;
  state: "ok" | "unavailable" | "degraded";
  reason: string;
  schemaVersion: number | null;
  counts: Record<string, number> | null;
  /** Each makes `check`/`status` exit 1. */
  problems: string[];
  notes: string[];
  /** Large tables without chatdb's indexes on a readonly source: the calls that scan them. */
  scans: UnindexedTable[];
}

export interface SyncReport {
  name: string;
  from: string;
  to: string;
  interval: number;
  fromExists: boolean;
  toExists: boolean;
  /** Seconds the snapshot's mtime trails the source's newest file (db or -wal); null if unknown. */
  lagSeconds: number | null;
  problems: string[];
}

/** Looks at one source the way the library would open it, readonly. */
export async function inspectSource(s: SourceConfig, withCounts: boolean): Promise<SourceReport> {
  const r: SourceReport = {
    name: s.name,
    type: s.type,
    mode: s.mode,
    path: s.type === "sqlite" ? s.path : redactUrl(s.url),
    exists: false,
    bytes: null,
    walBytes: null,
    modified: null,
    journal: null,
    state: "ok",
    reason: "",
    schemaVersion: null,
    counts: null,
    problems: [],
    notes: [],
    scans: [],
  };
  if (s.type === "postgres") await inspectPostgres(s, r, withCounts);
  else await inspectSqlite(s, r, withCounts);
  return r;
}

async function inspectSqlite(s: SqliteSourceConfig, r: SourceReport, withCounts: boolean) {
  if (s.path === ":memory:") {
    r.notes.push("in-memory: empty at every start");
    return;
  }
  const st = statOf(s.path);
  if (st === null) {
    if (s.readonly) {
      unavailable(r, `SOURCE_UNAVAILABLE: file ${s.path} does not exist`);
    } else {
      r.notes.push("file does not exist yet; it is created and migrated on first open");
    }
    return;
  }
  r.exists = true;
  if (!st.isFile()) {
    // a FIFO would block the header read; the library refuses it before opening too
    unavailable(r, `SOURCE_UNAVAILABLE: ${s.path} is ${fileKind(st)}, not a regular file`);
    return;
  }
  r.bytes = st.size;
  r.modified = st.mtime.toISOString();
  r.walBytes = statOf(`${s.path}-wal`)?.size ?? null;
  r.journal = headerJournalMode(s.path);
  if (s.mode === "immutable" && r.walBytes !== null && r.walBytes > 0) {
    r.problems.push(
      "immutable source has a non-empty -wal file: someone writes it; immutable readers ignore the WAL and may read torn pages (publish it with `chatdb sync` instead)",
    );
    r.state = "degraded";
  }
  // What the library's readonly open refuses (it would break the owner's writes).
  const hazard = s.mode === "readonly" ? foreignWalHazard(s.path) : undefined;
  if (hazard !== undefined) unavailable(r, `SOURCE_UNAVAILABLE: ${hazard}`);
  // Open it as the library does, but never writable (no create, no migration) and, for a WAL
  // file nobody has open (no -wal/-shm), immutable: a readonly open would create -wal/-shm.
  const idle = isIdleWal(s.path);
  const mode = s.mode === "immutable" || idle ? "immutable" : "readonly";
  if (idle && r.walBytes !== null && s.mode !== "immutable") {
    r.notes.push("-wal without -shm (its writer did not close cleanly): read without the -wal");
  }
  const source = new SqliteSource(
    sourceConfig({ ...s, readonly: true, immutable: mode === "immutable" }),
  );
  try {
    // a locked file opens once its lock is gone (or not)
    const { health } = await source.inspect();
    r.schemaVersion = health.schemaVersion;
    if (health.state === "unavailable") {
      if (hazard === undefined) unavailable(r, `SOURCE_UNAVAILABLE: ${health.reason}`);
      return;
    }
    // A readonly source lacking tables is degraded in db.health(); a writable one is migrated
    // on its next open (schemaNotes says so).
    if (health.state === "degraded" && s.readonly && r.state === "ok") {
      r.state = "degraded";
      r.reason = health.reason;
    }
    schemaNotes(s, r);
    scanNotes(s, health.scans, r);
    if (withCounts) r.counts = (await source.inspect(COUNTED)).counts;
  } catch (e) {
    unavailable(r, `SOURCE_UNAVAILABLE: ${s.path}: ${(e as Error).message}`);
  } finally {
    await source.close();
  }
}

/** What a readonly source will scan for want of chatdb's indexes: a note, not a problem. */
function scanNotes(s: SourceConfig, scans: UnindexedTable[], r: SourceReport): void {
  // a writable source gets the indexes it lacks at its next open
  if (!s.readonly || scans.length === 0) return;
  r.scans = scans;
  r.notes.push(
    `without chatdb's indexes these calls scan a large table: ${describeUnindexed(scans)}`,
  );
}

/**
 * Connects as the library does, but as a readonly source (a schema-version probe, never a
 * migration; the server refuses writes): `timeout` seconds to connect, as many again to answer.
 */
async function inspectPostgres(s: PostgresSourceConfig, r: SourceReport, withCounts: boolean) {
  const limit = 2 * s.timeout;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let source: PostgresSource | undefined;
  let answered = false;
  try {
    const probe = (async () => {
      source = new PostgresSource(sourceConfig({ ...s, readonly: true }));
      const { health, error } = await source.inspect();
      if (error !== null) throw error;
      r.schemaVersion = health.schemaVersion;
      scanNotes(s, health.scans, r);
      if (withCounts) r.counts = (await source.inspect(COUNTED)).counts;
      answered = true;
    })();
    probe.catch(() => {}); // a late failure after the time limit is already reported
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new DatabaseError(
              "SOURCE_UNAVAILABLE",
              `source ${s.name} (${r.path}): no answer within ${limit} s`,
              { source: s.name },
            ),
          ),
        limit * 1000,
      );
    });
    await Promise.race([probe, late]);
    r.exists = true;
    schemaNotes(s, r);
  } catch (e) {
    const code = e instanceof DatabaseError ? e.code : "SOURCE_UNAVAILABLE";
    unavailable(r, `${code}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
    // a server that never answered could hold close() as long: let the process end instead
    if (answered) await source?.close();
    else void source?.close().catch(() => {});
  }
}

/** A schema newer than this build is a problem; an older one a note. */
function schemaNotes(s: SourceConfig, r: SourceReport): void {
  if (r.schemaVersion !== null && r.schemaVersion > LATEST_VERSION) {
    r.problems.push(
      `SCHEMA_MISMATCH: schema version ${r.schemaVersion} is newer than this chatdb supports (${LATEST_VERSION})`,
    );
    if (r.state === "ok") r.state = "degraded";
  } else if ((r.schemaVersion ?? 0) < LATEST_VERSION) {
    r.notes.push(
      s.readonly
        ? `schema version ${r.schemaVersion ?? "none"} < ${LATEST_VERSION}: calls needing newer tables fail with SCHEMA_MISMATCH`
        : `schema version ${r.schemaVersion ?? "none"} < ${LATEST_VERSION}: \`chatdb migrate\` (or the next open) upgrades it`,
    );
  }
}

export function inspectSync(s: SyncConfig): SyncReport {
  const from = statOf(s.from);
  const to = statOf(s.to);
  const wal = statOf(`${s.from}-wal`);
  const newest = Math.max(from?.mtimeMs ?? 0, wal?.mtimeMs ?? 0);
  const r: SyncReport = {
    name: s.name,
    from: s.from,
    to: s.to,
    interval: s.interval,
    fromExists: from !== null,
    toExists: to !== null,
    lagSeconds: from && to ? Math.max(0, (newest - to.mtimeMs) / 1000) : null,
    problems: [],
  };
  if (from === null) r.problems.push(`sync ${s.name}: from ${s.from} does not exist`);
  return r;
}

export async function inspectAll(config: ResolvedConfig, withCounts: boolean) {
  const sources = await Promise.all(config.sources.map((s) => inspectSource(s, withCounts)));
  const sync = config.sync.map(inspectSync);
  const problems = [
    ...sources.flatMap((s) => s.problems.map((p) => `${s.name}: ${p}`)),
    ...sync.flatMap((s) => s.problems),
  ];
  return { sources, sync, problems };
}

function unavailable(r: SourceReport, message: string): void {
  r.state = "unavailable";
  r.reason = message;
  r.problems.push(message);
}

function statOf(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
