/**
 * The sidecar's cross-process lock on one snapshot target: one publisher per target, across
 * processes and within one. `.<target>.lock` beside the target holds the owner's pid and is
 * created complete (written aside, then hard-linked into place, which fails if it exists); a
 * lock whose owner is dead is taken over by exactly one claimant (see {@link takeOverStale}).
 */
import {
  closeSync,
  fstatSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { tempPathFor } from "../_internal/fs.ts";
import { DatabaseError } from "../errors.ts";
import { cleanStaleTemps, isAlive } from "./snapshot.ts";

/** Target locks held by publishers of this process (its pid alone cannot tell them apart). */
const HELD = new Set<string>();
/** A takeover claim older than this was left by a process that died while holding it. */
const CLAIM_STALE_MS = 10_000;

/** The lock on `target` for `[sync.NAME]` `name` (its errors name the sync). */
export class TargetLock {
  /** The lock file. */
  readonly path: string;
  readonly #target: string;
  readonly #name: string;
  #held = false;

  constructor(target: string, name: string) {
    this.#target = target;
    this.#name = name;
    this.path = join(dirname(target), `.${basename(target)}.lock`);
  }

  /** Takes the lock; throws SOURCE_UNAVAILABLE when a live publisher (of any process) holds it. */
  take(): void {
    const lock = this.path;
    if (HELD.has(lock)) throw this.#busy(process.pid);
    cleanStaleTemps(lock);
    for (let attempt = 0; attempt < 10; attempt++) {
      if (createLock(lock)) {
        HELD.add(lock);
        this.#held = true;
        return;
      }
      const owner = readLock(lock);
      if (owner === null) continue; // released meanwhile
      if (ownerAlive(lock, owner.pid)) throw this.#busy(owner.pid);
      takeOverStale(lock, owner);
    }
    throw this.#unavailable(`could not take the lock ${lock} (it keeps changing)`);
  }

  /** Lets the lock go (removing the file if it is still ours); idempotent. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    HELD.delete(this.path);
    if (readText(this.path) === String(process.pid)) rmSync(this.path, { force: true });
  }

  #busy(pid: number): DatabaseError {
    return this.#unavailable(
      `${this.#target} is published by another sidecar (pid ${pid}, lock ${this.path})`,
    );
  }

  #unavailable(message: string): DatabaseError {
    return new DatabaseError("SOURCE_UNAVAILABLE", `sync ${this.#name}: ${message}`, {
      source: this.#name,
    });
  }
}

/** Creates `lock` holding this pid, complete or not at all; false when it exists. */
function createLock(lock: string): boolean {
  const temp = tempPathFor(lock);
  writeFileSync(temp, String(process.pid));
  try {
    linkSync(temp, lock);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    rmSync(temp, { force: true });
  }
}

interface LockOwner {
  pid: number;
  text: string;
  ino: number;
}

/** The lock's owner pid (0 when unreadable) and inode; null when there is no lock. */
function readLock(lock: string): LockOwner | null {
  let fd: number;
  try {
    fd = openSync(lock, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  try {
    const text = readFileSync(fd, "utf8").trim();
    const pid = /^\d+$/.test(text) ? Number(text) : 0;
    return { pid, text, ino: fstatSync(fd).ino };
  } finally {
    closeSync(fd);
  }
}

/** A live process owns the lock (this process only through a publisher that holds it). */
const ownerAlive = (lock: string, pid: number) =>
  pid > 0 && (pid === process.pid ? HELD.has(lock) : isAlive(pid));

/**
 * Removes the stale lock `seen` if it is still in place, racing other starters safely: only the
 * one that hard-links it to `<lock>.stale-<inode>` may remove it, and only after checking that
 * the link points at the same dead owner's file (not a new lock, even one reusing the inode).
 * Everyone then retries creating the lock, and exactly one succeeds.
 */
function takeOverStale(lock: string, seen: LockOwner): void {
  const claim = `${lock}.stale-${seen.ino}`;
  try {
    linkSync(lock, claim);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return; // gone already
    if (code !== "EEXIST") throw e;
    // Another starter is removing it right now; a claim this old was left by a dead one.
    try {
      if (Date.now() - lstatSync(claim).ctimeMs > CLAIM_STALE_MS) rmSync(claim, { force: true });
    } catch {}
    return;
  }
  try {
    const now = readLock(claim);
    if (
      now !== null &&
      now.ino === seen.ino &&
      now.text === seen.text &&
      !ownerAlive(lock, now.pid)
    )
      rmSync(lock, { force: true });
  } finally {
    rmSync(claim, { force: true });
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}
