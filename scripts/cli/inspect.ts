/**
 * Looks at each configured source without changing anything: no file is created, migrated or
 * written (a writable source is opened readonly too). `check` and `status` print this.
 */
import { constants, Database } from "bun:sqlite";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { ResolvedConfig, SourceConfig, SyncConfig } from "../../src/config/types.ts";
import { readSchemaVersion } from "../../src/schema/migrate.ts";
import { LATEST_VERSION } from "../../src/schema/migrations.ts";
import { immutableUri } from "../../src/sources/sqlite-source.ts";

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

export function inspectSource(s: SourceConfig, withCounts: boolean): SourceReport {
  const r: SourceReport = {
    name: s.name,
    type: s.type,
    mode: s.mode,
    path: s.type === "sqlite" ? s.path : redact(s.url),
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
  };
  if (s.type !== "sqlite") {
    r.notes.push("postgres sources are not inspected by this build");
    return r;
  }
  if (s.path === ":memory:") {
    r.notes.push("in-memory: empty at every start");
    return r;
  }
  const st = statOf(s.path);
  if (st === null) {
    if (s.readonly) {
      unavailable(r, `SOURCE_UNAVAILABLE: file ${s.path} does not exist`);
    } else {
      r.notes.push("file does not exist yet; it is created and migrated on first open");
    }
    return r;
  }
  r.exists = true;
  r.bytes = st.size;
  r.modified = st.mtime.toISOString();
  r.walBytes = statOf(`${s.path}-wal`)?.size ?? null;
  r.journal = journalOf(s.path);
  if (s.mode === "immutable" && r.walBytes !== null && r.walBytes > 0) {
    r.problems.push(
      "immutable source has a non-empty -wal file: someone writes it; immutable readers ignore the WAL and may read torn pages (publish it with `chatdb sync` instead)",
    );
    r.state = "degraded";
  }
  if (s.readonly && s.mode !== "immutable" && r.journal === "wal" && ownerHazard(s.path, st.uid)) {
    r.problems.push(
      `owned by uid ${st.uid}, read as uid ${process.getuid?.()}: a readonly WAL reader would create -wal/-shm the owner bot cannot write (use a sidecar snapshot)`,
    );
    r.state = "degraded";
  }
  let db: Database;
  try {
    db =
      s.mode === "immutable"
        ? new Database(
            immutableUri(s.path),
            constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI,
          )
        : new Database(s.path, { readonly: true });
  } catch (e) {
    unavailable(r, `SOURCE_UNAVAILABLE: cannot open ${s.path}: ${(e as Error).message}`);
    return r;
  }
  try {
    db.run(`PRAGMA busy_timeout = ${Math.round(s.timeout * 1000)}`);
    db.query("SELECT count(*) FROM sqlite_master").get();
    r.schemaVersion = readSchemaVersion(db);
    if (r.schemaVersion !== null && r.schemaVersion > LATEST_VERSION) {
      r.problems.push(
        `SCHEMA_MISMATCH: schema version ${r.schemaVersion} is newer than this chatdb supports (${LATEST_VERSION})`,
      );
      r.state = "degraded";
    } else if ((r.schemaVersion ?? 0) < LATEST_VERSION) {
      r.notes.push(
        s.readonly
          ? `schema version ${r.schemaVersion ?? "none"} < ${LATEST_VERSION}: calls needing newer tables fail with SCHEMA_MISMATCH`
          : `schema version ${r.schemaVersion ?? "none"} < ${LATEST_VERSION}: \`chatdb migrate\` (or the next open) upgrades it`,
      );
    }
    if (withCounts) {
      const tables = new Set(
        (
          db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
            name: string;
          }[]
        ).map((t) => t.name),
      );
      r.counts = {};
      for (const t of COUNTED) {
        if (tables.has(t))
          r.counts[t] = (db.query(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      }
    }
  } catch (e) {
    unavailable(r, `SOURCE_UNAVAILABLE: ${s.path}: ${(e as Error).message}`);
  } finally {
    db.close(false);
  }
  return r;
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

export function inspectAll(config: ResolvedConfig, withCounts: boolean) {
  const sources = config.sources.map((s) => inspectSource(s, withCounts));
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

/** Header bytes 18/19: 2 = WAL, 1 = rollback journal. */
function journalOf(path: string): "wal" | "rollback" | null {
  try {
    const fd = openSync(path, "r");
    const buf = Buffer.alloc(20);
    try {
      if (readSync(fd, buf, 0, 20, 0) < 20) return null;
    } finally {
      closeSync(fd);
    }
    return buf[18] === 2 ? "wal" : buf[18] === 1 ? "rollback" : null;
  } catch {
    return null;
  }
}

/** notes/sqlite-live-sources.md: a non-root reader of another user's WAL file breaks its owner. */
function ownerHazard(path: string, uid: number): boolean {
  const me = process.getuid?.();
  if (me === undefined || me === 0 || me === uid) return false;
  // With -shm present and the writer running, nothing new is created.
  return statOf(`${path}-shm`) === null;
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
