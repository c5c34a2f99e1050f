/**
 * The publisher for one `[sync.NAME]`: watches `from` cheaply and publishes a snapshot to `to`
 * when it changed, at most once per `interval`.
 *
 * `from` is someone else's live database, so it is only ever read, through ONE persistent
 * `{ readonly: true }` connection with a busy timeout: never created, never written, never
 * migrated, no `-wal`/`-shm` games. Change detection is `PRAGMA data_version` (≈ 4 µs; it
 * moves when another connection commits) plus the file's dev+inode (a replaced file needs a
 * reopen), polled on a timer; an optional folder watch only makes the next poll come sooner.
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { SafeEmitter } from "../_internal/emitter.ts";
import type { SyncConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { FolderWatch } from "../live/folder-watch.ts";
import type { Logger } from "../options.ts";
import { changeOf, type FileIdentity, statFile } from "../sources/sqlite-file.ts";
import { cleanStaleTemps, publishSnapshot } from "./snapshot.ts";
import { TargetLock } from "./target-lock.ts";

/** Events a publisher (and the {@link Sidecar}) emits. The library prints nothing. */
export interface SyncEvents {
  /** A new snapshot is in place at `to`. */
  published: [
    {
      name: string;
      from: string;
      to: string;
      bytes: number;
      vacuumMs: number;
      totalMs: number;
      /** Why: "start", "change", "replaced" (from's file was swapped), "target-missing". */
      reason: string;
    },
  ];
  /** A publish or an open failed; the publisher keeps polling and retries. */
  error: [{ name: string; error: DatabaseError }];
  /** `from` is missing; nothing is published until it appears. Emitted once per absence. */
  waiting: [{ name: string; reason: string }];
  /** Temp files left by a killed publisher were removed at start. */
  cleaned: [{ name: string; paths: string[] }];
}

/** Options of {@link SnapshotPublisher} and {@link Sidecar}. */
export interface PublisherOptions {
  /** Poll period in ms. Default: min(100, interval). */
  pollMs?: number | undefined;
  /** Also watch `from`'s folder so a commit is noticed before the next poll. Default false. */
  watch?: boolean | undefined;
  /** busy_timeout of the reading connection, ms. Default 5000. */
  busyTimeoutMs?: number | undefined;
  /**
   * Where a throwing event listener, or an `error` event with no listener, is reported
   * (`logger.error`). Such a listener never stops publishing. Default: nowhere.
   */
  logger?: Logger | undefined;
}

/**
 * Publishes snapshots for one `[sync.NAME]`: reads `from` through one persistent readonly
 * connection, polls `PRAGMA data_version` and the file's identity, and publishes to `to` when
 * either moved, at most once per `interval`. {@link Sidecar} runs one per target.
 */
export class SnapshotPublisher extends SafeEmitter<SyncEvents> {
  readonly config: SyncConfig;
  readonly #pollMs: number;
  readonly #busyMs: number;
  readonly #watch: boolean;
  #db: Database | null = null;
  #identity: FileIdentity | null = null;
  /** data_version and identity as of the last publish; null = publish at next chance. */
  #published: { version: number; identity: FileIdentity } | null = null;
  #lastStart = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #watcher: FolderWatch<string> | null = null;
  #waiting = false;
  #lastError = "";
  #closing: Promise<void> | undefined;
  readonly #lock: TargetLock;
  /** Number of snapshots published so far. */
  count = 0;

  constructor(config: SyncConfig, options: PublisherOptions = {}) {
    super();
    this.config = config;
    this.#pollMs = options.pollMs ?? Math.min(100, config.interval * 1000);
    this.#busyMs = options.busyTimeoutMs ?? 5000;
    this.#watch = options.watch ?? false;
    this.listenerLogger = options.logger ?? {};
    this.#lock = new TargetLock(config.to, config.name);
  }

  /**
   * Takes the target's lock (one publisher per target, across processes), removes stale temp
   * files, publishes a first snapshot and starts polling. Throws SOURCE_UNAVAILABLE when
   * another live sidecar owns the target.
   */
  start(): void {
    mkdirSync(dirname(this.config.to), { recursive: true });
    this.#lock.take();
    const cleaned = cleanStaleTemps(this.config.to);
    if (cleaned.length > 0) this.emit("cleaned", { name: this.config.name, paths: cleaned });
    if (this.#watch) this.#startWatch();
    this.tick();
  }

  /**
   * Events shorten the wait for a change; the poll alone would find it too (so the watch has
   * no poll of its own). The folder, not the file: a file watch goes silent after rename-over.
   */
  #startWatch(): void {
    const { from } = this.config;
    this.#watcher = new FolderWatch({
      debounceMs: 0,
      pollMs: 0,
      // An "error" nobody listens to would throw and kill the sidecar: report it; polling goes on.
      onError: (e) => this.#report(e, "watch"),
      match: (path) => (path.startsWith(from) ? from : undefined),
      fire: () => this.#schedule(0),
      poll: () => this.#schedule(0),
    });
    void this.#watcher.set([dirname(from)]);
  }

  /** One poll: reopen on replacement, publish if changed and the interval allows. */
  tick(): void {
    if (this.#closing) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    let delay = this.#pollMs;
    try {
      const reason = this.#changeReason();
      if (reason !== null) {
        const wait = this.#lastStart + this.config.interval * 1000 - performance.now();
        if (wait > 0) delay = Math.min(delay, Math.ceil(wait));
        else this.#publish(reason);
      }
      this.#lastError = "";
    } catch (e) {
      this.#fail(e);
    }
    this.#schedule(delay);
  }

  #schedule(ms: number): void {
    if (this.#closing) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.tick(), ms);
  }

  /** Why a snapshot is due, or null when `to` is current. */
  #changeReason(): string | null {
    const { from, to } = this.config;
    const id = statFile(from);
    if (typeof id === "string") {
      this.#close();
      if (!this.#waiting) {
        this.#waiting = true;
        this.emit("waiting", { name: this.config.name, reason: absence(from, id) });
      }
      return null;
    }
    this.#waiting = false;
    let replaced = false;
    if (this.#db === null || changeOf(this.#identity, id) === "replaced") {
      replaced = this.#db !== null;
      this.#open(id);
    }
    const db = this.#db as Database;
    const version = (db.query("PRAGMA data_version").get() as { data_version: number })
      .data_version;
    if (this.#published === null) return "start";
    if (replaced || changeOf(this.#published.identity, id) === "replaced") return "replaced";
    if (version !== this.#published.version) return "change";
    if (!existsSync(to)) return "target-missing";
    return null;
  }

  #open(id: FileIdentity): void {
    this.#close();
    // Never `create`: a missing file must stay missing (and not become an empty database).
    const db = new Database(this.config.from, { readonly: true });
    try {
      db.run(`PRAGMA busy_timeout = ${this.#busyMs}`);
      db.query("SELECT count(*) FROM sqlite_master").get();
    } catch (e) {
      db.close();
      throw e;
    }
    this.#db = db;
    this.#identity = id;
    // A new file: its data_version sequence restarts, so compare identities, not versions.
  }

  #publish(reason: string): void {
    const db = this.#db as Database;
    const identity = this.#identity as FileIdentity;
    const version = (db.query("PRAGMA data_version").get() as { data_version: number })
      .data_version;
    this.#lastStart = performance.now();
    const result = publishSnapshot(db, this.config.to);
    this.#published = { version, identity };
    this.count++;
    this.emit("published", {
      name: this.config.name,
      from: this.config.from,
      to: this.config.to,
      ...result,
      reason,
    });
  }

  /** Publishes now if `from` is there, regardless of change and interval. */
  publishNow(reason = "forced"): void {
    const id = statFile(this.config.from);
    if (typeof id === "string") throw unavailable(this.config, absence(this.config.from, id));
    if (this.#db === null || changeOf(this.#identity, id) === "replaced") this.#open(id);
    this.#publish(reason);
  }

  #fail(e: unknown): void {
    this.#report(e);
    this.#close();
  }

  /** Emits `error` for `e`; a persistent failure (say, a corrupt `from`) once, not every poll. */
  #report(e: unknown, during?: string): void {
    const error =
      e instanceof DatabaseError
        ? e
        : new DatabaseError(
            "QUERY_FAILED",
            `sync ${this.config.name}: ${during ? `${during}: ` : ""}${(e as Error).message ?? String(e)}`,
            { source: this.config.name, cause: e },
          );
    // EventEmitter throws on an "error" nobody listens to; a sidecar must not die of that.
    if (error.message !== this.#lastError && this.listenerCount("error") > 0) {
      this.emit("error", { name: this.config.name, error });
    }
    this.#lastError = error.message;
  }

  #close(): void {
    this.#db?.close(false);
    this.#db = null;
    this.#identity = null;
  }

  /**
   * Stops polling and closes the connection. Publishing is synchronous, so no snapshot is ever
   * half-done when this runs; a killed process leaves a temp file that the next start removes.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      await this.#watcher?.close();
      this.#close();
      this.#lock.release();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Why `from` cannot be read, from {@link statFile}'s answer. */
const absence = (path: string, why: string) =>
  why === "ENOENT" ? `${path} does not exist` : `${path} cannot be used (${why})`;

const unavailable = (c: SyncConfig, message: string) =>
  new DatabaseError("SOURCE_UNAVAILABLE", `sync ${c.name}: ${message}`, { source: c.name });
