/**
 * One snapshot, published atomically: `VACUUM INTO` a temp file in the target's folder, fsync
 * it, `rename()` it over the target, fsync the folder. A reader that opens the target (even
 * with `immutable=1`) sees either the previous complete file or the new complete file, never
 * a half-written one (docs/sqlite-live-sources.md: publish-by-rename gave 0 torn reads).
 */
import type { Database } from "bun:sqlite";
import { readdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { replaceAtomically, tempPathFor } from "../_internal/fs.ts";

/** What one publish did. */
export interface SnapshotResult {
  bytes: number;
  /** Milliseconds spent in VACUUM INTO (the time `from` is held in a read transaction). */
  vacuumMs: number;
  /** Milliseconds for the whole publish, fsyncs and rename included. */
  totalMs: number;
}

/**
 * Removes temp files a killed publisher left for `to`. Files of a live process other than
 * this one are left alone (that process may be writing them). Returns the paths removed.
 */
export function cleanStaleTemps(to: string): string[] {
  const prefix = `.${basename(to)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dirname(to));
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
    const path = join(dirname(to), name);
    rmSync(path, { force: true });
    removed.push(path);
  }
  return removed;
}

/** True when a process with this id exists (EPERM means it exists but is not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Publishes a consistent copy of the database `db` is connected to as `to`. On any failure
 * the temp file is removed and `to` is left as it was.
 */
export function publishSnapshot(db: Database, to: string, temp = tempPathFor(to)): SnapshotResult {
  const started = performance.now();
  rmSync(temp, { force: true }); // VACUUM INTO refuses a non-empty existing file
  try {
    db.run("VACUUM INTO ?", [temp]);
    const vacuumMs = performance.now() - started;
    const bytes = statSync(temp).size;
    // fsyncs the VACUUM INTO output first: SQLite does not, and a crash after the rename
    // could otherwise leave a renamed but incomplete file
    replaceAtomically(temp, to);
    return { bytes, vacuumMs, totalMs: performance.now() - started };
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}
