/** Shared by the sidecar test and the soak script: a padded WAL database, the writer, the reader. */
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseWrapper, parseConfig } from "../../src/index.ts";
import { migrateSqlite } from "../../src/schema/migrate.ts";

export const WRITER = join(import.meta.dir, "fixtures", "wal-writer.ts");
export const CLI = join(import.meta.dir, "..", "..", "src", "cli", "main.ts");
export const WRITER_CHAT = -1009000000001;

export interface WriterResult {
  commits: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

/** A WAL database with chatdb's schema and `padRows` rows of another chat, so VACUUM has work. */
export function createPaddedDb(path: string, padRows: number): void {
  const db = new Database(path, { create: true, readwrite: true });
  db.run("PRAGMA journal_mode = WAL");
  migrateSqlite(db, "setup");
  const insert = db.prepare(
    // created_at given: gromozeka's 013 removed the default
    `INSERT INTO chat_messages (chat_id, message_id, date, user_id, message_text, created_at)
     VALUES (-1, ?, '2024-01-01T00:00:00+00:00', 2, ?, '2024-01-01T00:00:00+00:00')`,
  );
  db.transaction(() => {
    for (let i = 0; i < padRows; i++) insert.run(String(i), "x".repeat(200));
  })();
  insert.finalize();
  db.close();
}

/** Runs the writer process for `ms` and returns its latency summary. */
export async function runWriter(db: string, ms: number, pauseMs = 1): Promise<WriterResult> {
  const proc = Bun.spawn([process.execPath, WRITER, db, String(ms), String(pauseMs)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`writer exited ${code}: ${err}`);
  return JSON.parse(out.trim()) as WriterResult;
}

export interface ReaderStats {
  snapshots: number;
  errors: string[];
  torn: number;
  regressions: number;
  lastCount: number;
}

/**
 * Watches `to` (stat every `pollMs`), and for every new file opens a fresh DatabaseWrapper with
 * `to` as an immutable source and checks the writer's invariant, until `stop()`. `stats` is
 * live (wait on it); `stop()` resolves with it once the loop has ended.
 */
export function readSnapshots(
  to: string,
  pollMs = 2,
): { stats: ReaderStats; stop(): Promise<ReaderStats> } {
  const stats: ReaderStats = { snapshots: 0, errors: [], torn: 0, regressions: 0, lastCount: -1 };
  let done = false;
  const loop = watchSnapshots(to, pollMs, stats, () => done);
  return {
    stats,
    stop() {
      done = true;
      return loop;
    },
  };
}

async function watchSnapshots(
  to: string,
  pollMs: number,
  stats: ReaderStats,
  done: () => boolean,
): Promise<ReaderStats> {
  let lastIno = -1;
  const config = parseConfig(
    `[database.sources.snap]\npath = ${JSON.stringify(to)}\nreadonly = true\nimmutable = true\n`,
  );
  while (!done()) {
    let ino = -1;
    try {
      ino = statSync(to).ino;
    } catch {}
    if (ino !== -1 && ino !== lastIno) {
      lastIno = ino;
      stats.snapshots++;
      try {
        await using db = new DatabaseWrapper({ config });
        const settings = await db.getChatSettings(WRITER_CHAT);
        const messages = await db.getChatMessagesByUser(WRITER_CHAT, 1, { limit: 1_000_000 });
        const count = Number(settings.count ?? 0);
        const sum = Number(settings.sum ?? 0);
        const realSum = messages.reduce((s, m) => s + Number(m.messageText), 0);
        if (messages.length !== count || realSum !== sum) stats.torn++;
        if (count < stats.lastCount) stats.regressions++;
        stats.lastCount = count;
      } catch (e) {
        stats.errors.push((e as Error).message);
      }
    }
    await Bun.sleep(pollMs);
  }
  return stats;
}

export const fmtMs = (n: number) => `${n.toFixed(3)} ms`;
