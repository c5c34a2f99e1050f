/**
 * The stall cases: another process, file or server in the bot's way, measured from inside the
 * bot. For each case: the event loop's max lag (a 5 ms interval ticker), the p99 latency of
 * reads on a source the case does not touch next to a quiet run of the same reads, and what
 * the call on the affected source returned and when. Shared by `bun run bench --only stall`
 * (a README table) and test/integration/stall.test.ts (loose bounds, data and codes).
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { DatabaseError, DatabaseWrapper, parseConfig } from "../../src/index.ts";
import { LineProcess } from "../soak/lines.ts";
import { PG_URL, pgProxy } from "./relay.ts";

const LOCKER = join(import.meta.dir, "locker.ts");
/** The chat served by the source a case does not touch, and the one on the affected source. */
export const CALM_CHAT = 7;
export const HIT_CHAT = 5;

/** What the call on the affected source did: "ok" or its error code, after how long. */
export interface Outcome {
  outcome: string;
  ms: number;
  /** What it returned, for the tests to check the data. */
  value?: unknown;
}

export interface StallResult {
  name: string;
  maxLagMs: number;
  calmP99Ms: number;
  quietP99Ms: number;
  affected: Outcome | null;
  /** Extra figures a case reports (the constructor's time, connection attempts…). */
  notes: string[];
}

/** A scratch folder and what a case runs in it. */
export interface Scene {
  dir: string;
  file(name: string): string;
  /** Starts another process holding a lock (see locker.ts); resolves once it holds it. */
  lock(
    db: string,
    kind: "exclusive" | "immediate" | "fresh" | "wal-write",
    hold: number | "stdin",
  ): Promise<Locker>;
}

export interface Locker {
  released: Promise<string>;
  release(): void;
  exited: Promise<number>;
}

export function scene(): Scene & { [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "chatdb-stall-"));
  const children: LineProcess[] = [];
  return {
    dir,
    file: (name) => join(dir, name),
    async lock(db, kind, hold) {
      const p = new LineProcess([process.execPath, LOCKER, db, kind, String(hold)]);
      children.push(p);
      await p.line((l) => l === "locked", `${kind} lock on ${db}`);
      return {
        released: p.line((l) => l === "released", "lock released", 60_000),
        release: () => {
          p.send("go");
          p.proc.stdin.end();
        },
        exited: p.exited,
      };
    },
    [Symbol.dispose]() {
      for (const c of children) c.proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A chatdb file holding one user in `chat`, in the given journal mode. */
export async function seeded(path: string, chat: number, journal: "wal" | "delete" = "wal") {
  const db = new DatabaseWrapper(path);
  await db.updateChatUser(chat, 1, `@u${chat}`, `User ${chat}`);
  await db.close();
  if (journal === "delete") {
    const raw = new Database(path);
    raw.run("PRAGMA journal_mode = DELETE");
    raw.close();
  }
}

/** The config every SQLite case uses: an own primary and one readonly external source. */
export function configFor(
  dir: string,
  ext: { timeout: number; path?: string },
  primary: { path?: string; timeout?: number } = {},
) {
  return parseConfig(
    `[database]
default_source = "primary"
[database.sources.primary]
path = ${JSON.stringify(primary.path ?? "primary.db")}
timeout = ${primary.timeout ?? 5}
[database.sources.ext]
path = ${JSON.stringify(ext.path ?? "ext.db")}
readonly = true
timeout = ${ext.timeout}
[database.chat_mapping]
${HIT_CHAT} = "ext"
`,
    { baseDir: dir },
  );
}

/** The event loop's worst delay past a 5 ms interval, from now until `stop()`. */
export function lagTicker(): { stop(): number } {
  let maxLag = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 5);
    last = now;
  }, 5);
  return {
    stop() {
      clearInterval(ticker);
      return Math.max(0, maxLag);
    },
  };
}

/** Runs `call` with a lag ticker and a loop of reads on the calm source; stops when it settles. */
export async function observe(
  calmRead: () => Promise<unknown>,
  call: () => Promise<unknown>,
  minMs = 0,
): Promise<{ maxLagMs: number; p99Ms: number; affected: Outcome }> {
  const lag = lagTicker();
  const latencies: number[] = [];
  let stop = false;
  const reads = (async () => {
    while (!stop) {
      const t0 = performance.now();
      await calmRead();
      latencies.push(performance.now() - t0);
      await Bun.sleep(2);
    }
  })();
  const t0 = performance.now();
  let affected: Outcome;
  try {
    const value = await call();
    affected = { outcome: "ok", ms: performance.now() - t0, value };
  } catch (e) {
    affected = {
      outcome: e instanceof DatabaseError ? e.code : `untyped ${(e as Error).name}`,
      ms: performance.now() - t0,
      value: e,
    };
  }
  const rest = minMs - (performance.now() - t0);
  if (rest > 0) await Bun.sleep(rest);
  stop = true;
  await reads;
  return { maxLagMs: lag.stop(), p99Ms: p99(latencies), affected };
}

export function p99(xs: number[]): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
}

/** The quiet figure: the same calm reads for `ms` with nothing in the way. */
async function quiet(calmRead: () => Promise<unknown>, ms: number): Promise<number> {
  return (await observe(calmRead, () => Bun.sleep(ms))).p99Ms;
}

type Case = (s: Scene) => Promise<StallResult>;

/** One case's row, from what {@link observe} saw and the quiet figure. */
function result(
  name: string,
  r: Awaited<ReturnType<typeof observe>>,
  quietP99Ms: number,
  affected: Outcome | null = r.affected,
  notes: string[] = [],
): StallResult {
  return { name, maxLagMs: r.maxLagMs, calmP99Ms: r.p99Ms, quietP99Ms, affected, notes };
}

const calmOf = (db: DatabaseWrapper) => () => db.getChatUser(CALM_CHAT, 1);

/** Rollback-journal external source under another process's BEGIN EXCLUSIVE for `holdMs`. */
export function exclusiveExternal(timeout: number, holdMs: number): Case {
  return async (s) => {
    await seeded(s.file("primary.db"), CALM_CHAT);
    await seeded(s.file("ext.db"), HIT_CHAT, "delete");
    await using db = new DatabaseWrapper({ config: configFor(s.dir, { timeout }), pollMs: 100 });
    const calm = calmOf(db);
    const quietP99 = await quiet(calm, 300);
    const locker = await s.lock(s.file("ext.db"), "exclusive", holdMs);
    const r = await observe(calm, () => db.getChatUser(HIT_CHAT, 1));
    await locker.released;
    return result(
      `rollback-journal external source, BEGIN EXCLUSIVE ${holdMs / 1000} s, timeout = ${timeout} s`,
      r,
      quietP99,
    );
  };
}

/** The same lock, but the bot never calls that source: only the watcher meets it. */
export function watcherAlone(holdMs: number): Case {
  return async (s) => {
    await seeded(s.file("primary.db"), CALM_CHAT);
    await seeded(s.file("ext.db"), HIT_CHAT, "delete");
    await using db = new DatabaseWrapper({
      config: configFor(s.dir, { timeout: 10 }),
      pollMs: 20,
      debounceMs: 5,
    });
    const calm = calmOf(db);
    const quietP99 = await quiet(calm, 300);
    const locker = await s.lock(s.file("ext.db"), "exclusive", holdMs);
    const r = await observe(calm, () => locker.released, holdMs);
    return result(
      `watcher alone: external source under BEGIN EXCLUSIVE ${holdMs / 1000} s, never called`,
      r,
      quietP99,
      null,
    );
  };
}

/** A WAL external source while its owner runs a long write transaction, then a checkpoint. */
export function walWriteCheckpoint(holdMs: number): Case {
  return async (s) => {
    await seeded(s.file("primary.db"), CALM_CHAT);
    await seeded(s.file("ext.db"), HIT_CHAT);
    await using db = new DatabaseWrapper({ config: configFor(s.dir, { timeout: 10 }), pollMs: 20 });
    const calm = calmOf(db);
    const quietP99 = await quiet(calm, 300);
    const locker = await s.lock(s.file("ext.db"), "wal-write", holdMs);
    const r = await observe(calm, async () => {
      // the affected source is read all through the write and the checkpoint
      let last: unknown;
      let done = false;
      void locker.exited.then(() => {
        done = true;
      });
      while (!done) {
        last = await db.getChatUser(HIT_CHAT, 1);
        await Bun.sleep(5);
      }
      return last;
    });
    return result(
      `WAL external source, a ${holdMs / 1000} s write transaction + TRUNCATE checkpoint`,
      r,
      quietP99,
    );
  };
}

/** The bot's own primary while a second process holds BEGIN IMMEDIATE (a replica, `chatdb archive`). */
export function primaryImmediate(holdMs: number): Case {
  return async (s) => {
    await seeded(s.file("primary.db"), CALM_CHAT);
    await seeded(s.file("ext.db"), HIT_CHAT);
    await using db = new DatabaseWrapper({ config: configFor(s.dir, { timeout: 10 }) });
    // here the calm source is the external one, and the write goes to the locked primary
    const calm = () => db.getChatUser(HIT_CHAT, 1);
    const quietP99 = await quiet(calm, 300);
    const locker = await s.lock(s.file("primary.db"), "immediate", holdMs);
    const r = await observe(calm, async () => {
      await db.setChatSetting(CALM_CHAT, "k", "v");
      return db.getChatSetting(CALM_CHAT, "k");
    });
    await locker.released;
    return result(
      `the bot's primary under a second process's BEGIN IMMEDIATE ${holdMs / 1000} s`,
      r,
      quietP99,
    );
  };
}

/** A fresh primary file that another process is creating and migrating as the bot opens it. */
export function freshFile(holdMs: number): Case {
  return async (s) => {
    await seeded(s.file("ext.db"), HIT_CHAT);
    const locker = await s.lock(s.file("fresh.db"), "fresh", holdMs);
    const lag = lagTicker();
    const t0 = performance.now();
    await using db = new DatabaseWrapper({
      config: configFor(s.dir, { timeout: 10 }, { path: "fresh.db", timeout: 10 }),
    });
    const constructorMs = performance.now() - t0;
    const state = db.health().sources[0]?.state;
    const calm = () => db.getChatUser(HIT_CHAT, 1);
    const r = await observe(calm, async () => {
      await db.setChatSetting(CALM_CHAT, "k", "fresh");
      return db.getChatSetting(CALM_CHAT, "k");
    });
    const constructionLag = lag.stop();
    await locker.released;
    const quietP99 = await quiet(calm, 300);
    return result(
      `two processes opening one fresh file (the other holds its migration lock ${holdMs / 1000} s)`,
      { ...r, maxLagMs: Math.max(constructionLag, r.maxLagMs) },
      quietP99,
      r.affected,
      [`constructor ${constructorMs.toFixed(1)} ms, state "${state}" after it`],
    );
  };
}

/** Every SQLite case, as the bench runs them. */
export const SQLITE_CASES: Case[] = [
  exclusiveExternal(1, 2000),
  exclusiveExternal(10, 2000),
  walWriteCheckpoint(1500),
  primaryImmediate(2000),
  watcherAlone(2000),
  freshFile(1000),
];

export async function runCase(c: Case): Promise<StallResult> {
  using s = scene();
  return await c(s);
}

/** A scratch schema on the PostgreSQL server, dropped afterwards; null when no server answers. */
async function pgScratch(): Promise<{ url: string; name: string; drop(): Promise<void> } | null> {
  const admin = new SQL({ url: PG_URL, max: 1, connectionTimeout: 3 });
  const name = `chatdb_stall_${process.pid}_${Date.now().toString(36)}`;
  try {
    await admin.unsafe(`CREATE SCHEMA ${name}`);
  } catch {
    await admin.close();
    return null;
  }
  const url = new URL(PG_URL);
  url.searchParams.set("search_path", name);
  return {
    url: url.toString(),
    name,
    async drop() {
      await admin.unsafe(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await admin.close();
    },
  };
}

/** A PostgreSQL default source (timeout 1 s) and a readonly local one serving CALM_CHAT. */
export const pgConfig = (dir: string, url: string) =>
  parseConfig(
    `[database]
default_source = "pg"
[database.sources.pg]
type = "postgres"
url = ${JSON.stringify(url)}
timeout = 1
[database.sources.local]
path = "local.db"
readonly = true
[database.chat_mapping]
${CALM_CHAT} = "local"
`,
    { baseDir: dir },
  );

/** A PostgreSQL row lock held by another session for `holdMs`; the bot writes that row. */
export function pgRowLock(holdMs: number): Case {
  return async (s) => {
    const pg = await pgScratch();
    if (pg === null) return skipped("PostgreSQL row lock");
    try {
      await seeded(s.file("local.db"), CALM_CHAT);
      await using db = new DatabaseWrapper({ config: pgConfig(s.dir, pg.url) });
      await db.setChatSetting(HIT_CHAT, "k", "before");
      const calm = calmOf(db);
      const quietP99 = await quiet(calm, 300);
      const other = new SQL({ url: pg.url, max: 1 });
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const held = other.begin(async (tx) => {
        await tx.unsafe(`UPDATE chat_settings SET value = 'other' WHERE chat_id = ${HIT_CHAT}`);
        locked();
        await Bun.sleep(holdMs);
      });
      await isLocked;
      const r = await observe(calm, () => db.setChatSetting(HIT_CHAT, "k", "mine"));
      await held;
      await other.close();
      return result(
        `PostgreSQL row lock held by another session ${holdMs / 1000} s, timeout = 1 s`,
        r,
        quietP99,
      );
    } finally {
      await pg.drop();
    }
  };
}

/** The PostgreSQL server gone (a relay stopped): calls answered from the backoff. */
export function pgStopped(ms: number): Case {
  return async (s) => {
    const pg = await pgScratch();
    if (pg === null) return skipped("PostgreSQL server stopped");
    try {
      await seeded(s.file("local.db"), CALM_CHAT);
      await using proxy = await pgProxy();
      const url = new URL(proxy.url);
      url.searchParams.set("search_path", pg.name);
      await using db = new DatabaseWrapper({ config: pgConfig(s.dir, url.toString()) });
      await db.setChatSetting(HIT_CHAT, "k", "v");
      const calm = calmOf(db);
      const quietP99 = await quiet(calm, 300);
      await proxy.stop();
      let calls = 0;
      let slow = 0;
      const r = await observe(calm, async () => {
        const until = performance.now() + ms;
        let last: unknown;
        while (performance.now() < until) {
          const t0 = performance.now();
          last = await db.getChatSetting(HIT_CHAT, "k").catch((e: unknown) => e);
          if (performance.now() - t0 > 1) slow++;
          calls++;
          await Bun.sleep(1);
        }
        throw last;
      });
      return result(
        `PostgreSQL server stopped, calls for ${ms / 1000} s`,
        r,
        quietP99,
        r.affected,
        [`${calls} calls, ${slow} took > 1 ms (the probes); the rest answered from the backoff`],
      );
    } finally {
      await pg.drop();
    }
  };
}

function skipped(name: string): StallResult {
  return {
    name: `${name}: skipped, no PostgreSQL at ${PG_URL}`,
    maxLagMs: 0,
    calmP99Ms: 0,
    quietP99Ms: 0,
    affected: null,
    notes: [],
  };
}

/** The PostgreSQL cases (skipped rows without a server). */
export const PG_CASES: Case[] = [pgRowLock(2000), pgStopped(1000)];
