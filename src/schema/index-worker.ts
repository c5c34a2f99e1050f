/**
 * A worker thread that builds chatdb's missing indexes on a large writable file (see
 * index-build.ts): the minutes-per-gigabyte work of CREATE INDEX never runs on the bot's
 * thread. Its own connection waits for locks (busy_timeout: this is not the bot's thread)
 * and pauses between indexes, so the bot's writes, which wait for the lock off the thread,
 * get their turn.
 */
import { Database } from "bun:sqlite";
import { ensureIndexesSqlite, type IndexReport } from "./indexes.ts";

export interface IndexJob {
  path: string;
  timeoutMs: number;
  /** Int32 flag: 1 = stop before the next index (the source is closing). */
  stop: SharedArrayBuffer;
}

/** Between two indexes: long enough for writers retrying every ≤ 8 ms to take the lock. */
const PAUSE_MS = 20;

declare const self: Worker;

self.onmessage = (event: MessageEvent<IndexJob>) => {
  const { path, timeoutMs, stop } = event.data;
  const flag = new Int32Array(stop);
  let built = 0;
  let report: IndexReport;
  try {
    const db = new Database(path, { readwrite: true });
    try {
      db.run(`PRAGMA busy_timeout = ${Math.round(timeoutMs)}`);
      report = ensureIndexesSqlite(db, () => {
        if (built++ > 0) Bun.sleepSync(PAUSE_MS);
        return Atomics.load(flag, 0) === 0;
      });
    } finally {
      db.close();
    }
  } catch (e) {
    report = { created: [], skipped: [], ms: 0, failed: (e as Error).message ?? String(e) };
  }
  postMessage(report);
};
