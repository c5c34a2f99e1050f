/**
 * Watches folders, not files: editors save by rename, SQLite commits in WAL mode touch only
 * `-wal`, and a watch on a file goes silent after delete+recreate (docs/sqlite-live-sources.md).
 * Events are mapped to keys, debounced on the trailing edge, re-reported once chokidar's
 * leading-edge throttle window has passed (it drops a second write to a path within 50 ms),
 * and a slow safety poll catches whatever was still missed. Callers make `fire` idempotent.
 */
import { statSync } from "node:fs";
import type { FSWatcher } from "chokidar";
import { chokidarLoaded, loadChokidar } from "../_internal/chokidar.ts";

/** chokidar's per-path throttle window for "change" events. */
const CHOKIDAR_THROTTLE_MS = 50;

export interface FolderWatchOptions<K> {
  /** Trailing debounce after a file event, ms. */
  debounceMs: number;
  /** Safety poll period, ms; 0 disables it. */
  pollMs: number;
  onError: (error: unknown) => void;
  /** The key an event's path concerns, or undefined to ignore the event. */
  match: (path: string) => K | undefined;
  /** Acts on a key after its events settle. */
  fire: (key: K) => void;
  /** Runs every `pollMs`. */
  poll: () => void;
}

export class FolderWatch<K> {
  #watcher: FSWatcher | null = null;
  #closed = false;
  #folders = new Set<string>();
  /** Each watched folder's inode: a folder replaced by another (mv cfg.new cfg) is re-watched. */
  readonly #inodes = new Map<string, number>();
  #ready: Promise<void> = Promise.resolve();
  readonly #options: FolderWatchOptions<K>;
  readonly #debounce: Debounce<K>;
  readonly #echo: Debounce<K>;
  readonly #poll: ReturnType<typeof setInterval> | undefined;
  readonly #folderCheck: ReturnType<typeof setInterval>;

  constructor(options: FolderWatchOptions<K>) {
    this.#options = options;
    this.#debounce = new Debounce(options.debounceMs, options.fire);
    this.#echo = new Debounce(CHOKIDAR_THROTTLE_MS + 10, (key) => this.#debounce.schedule(key));
    this.#folderCheck = setInterval(() => this.#rewatchReplaced(), REPLACED_FOLDER_CHECK_MS);
    this.#folderCheck.unref?.();
    if (options.pollMs > 0) {
      this.#poll = setInterval(options.poll, options.pollMs);
      this.#poll.unref?.();
    }
  }

  /**
   * A watch follows the folder's inode: after `mv cfg cfg.old; mv cfg.new cfg` it would go on
   * watching cfg.old. Checked every 50 ms (one stat per folder), so edits in the
   * new folder are seen by events again instead of by the slow poll alone.
   */
  #rewatchReplaced(): void {
    const w = this.#watcher;
    if (w === null) return;
    let replaced = false;
    for (const folder of this.#folders) {
      const ino = inodeOf(folder);
      const was = this.#inodes.get(folder);
      this.#inodes.set(folder, ino);
      if (was !== undefined && was !== ino && ino !== -1) replaced = true;
    }
    if (!replaced) return;
    // chokidar keeps a path it has unwatched ignored: start a fresh watcher on the same folders
    const folders = [...this.#folders];
    this.#watcher = null;
    this.#folders = new Set();
    void w.close();
    // what changed while the old folder was watched, and while the new watcher was starting
    // (its events begin only at "ready"): let the key owners look again, now and then
    void this.set(folders).then(() => this.#options.poll());
    this.#options.poll();
  }

  /** Makes the watched folders exactly `folders`; resolves when the new ones are watched. */
  set(folders: Iterable<string>): Promise<void> {
    const want = new Set(folders);
    const add = [...want].filter((f) => !this.#folders.has(f));
    const remove = [...this.#folders].filter((f) => !want.has(f));
    this.#folders = want;
    for (const f of remove) this.#inodes.delete(f);
    for (const f of add) this.#inodes.set(f, inodeOf(f));
    if (this.#watcher === null) {
      if (want.size === 0) return this.#ready;
      const chokidar = chokidarLoaded();
      if (chokidar === undefined) {
        // the first watch loads chokidar; then the folders wanted by then are watched
        this.#ready = loadChokidar().then(() =>
          this.#closed ? undefined : this.set(this.#folders),
        );
        return this.#ready;
      }
      const w = chokidar.watch([...want], { depth: 0, ignoreInitial: true, persistent: true });
      this.#watcher = w;
      w.on("all", (_event, path) => this.#event(path));
      w.on("error", (e) => this.#options.onError(e));
      this.#ready = new Promise((resolve) => w.once("ready", () => resolve()));
      return this.#ready;
    }
    if (remove.length > 0) this.#watcher.unwatch(remove);
    if (add.length > 0) {
      this.#watcher.add(add);
      // chokidar emits no second "ready"; a short settle is the documented way to wait for add()
      this.#ready = Bun.sleep(20);
    }
    return this.#ready;
  }

  get ready(): Promise<void> {
    return this.#ready;
  }

  #event(path: string): void {
    const key = this.#options.match(path);
    if (key === undefined) return;
    this.#debounce.schedule(key);
    this.#echo.schedule(key);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    clearInterval(this.#folderCheck);
    this.#echo.cancel();
    this.#debounce.cancel();
    const w = this.#watcher;
    this.#watcher = null;
    this.#folders.clear();
    await w?.close();
  }
}

/** How often, at most, a watched folder's identity is compared (see #rewatchReplaced). */
const REPLACED_FOLDER_CHECK_MS = 50;

function inodeOf(folder: string): number {
  try {
    return statSync(folder).ino;
  } catch {
    return -1;
  }
}

/** A trailing-edge debounce per key. */
export class Debounce<K> {
  readonly #timers = new Map<K, ReturnType<typeof setTimeout>>();
  readonly #ms: number;
  readonly #fire: (key: K) => void;

  constructor(ms: number, fire: (key: K) => void) {
    this.#ms = ms;
    this.#fire = fire;
  }

  schedule(key: K): void {
    const t = this.#timers.get(key);
    if (t !== undefined) clearTimeout(t);
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        this.#fire(key);
      }, this.#ms),
    );
  }

  cancel(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
