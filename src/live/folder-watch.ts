/**
 * Watches folders, not files: editors save by rename, SQLite commits in WAL mode touch only
 * `-wal`, and a watch on a file goes silent after delete+recreate (notes/sqlite-live-sources.md).
 * chokidar's own per-path throttle is leading-edge and can drop the last of two quick writes,
 * so callers debounce on the trailing edge and keep a slow safety poll.
 */
import { watch as chokidarWatch, type FSWatcher } from "chokidar";

/** chokidar's per-path throttle window for "change" events. */
const CHOKIDAR_THROTTLE_MS = 50;

/** One chokidar watcher over a set of folders (depth 0), reporting changed paths. */
export class FolderWatch {
  #watcher: FSWatcher | null = null;
  #folders = new Set<string>();
  #ready: Promise<void> = Promise.resolve();
  readonly #onPath: (path: string) => void;
  readonly #onError: (error: unknown) => void;

  constructor(onPath: (path: string) => void, onError: (error: unknown) => void) {
    this.#onPath = onPath;
    this.#onError = onError;
  }

  /** Makes the watched folders exactly `folders`; resolves when the new ones are watched. */
  set(folders: Iterable<string>): Promise<void> {
    const want = new Set(folders);
    const add = [...want].filter((f) => !this.#folders.has(f));
    const remove = [...this.#folders].filter((f) => !want.has(f));
    this.#folders = want;
    if (this.#watcher === null) {
      if (want.size === 0) return this.#ready;
      const w = chokidarWatch([...want], { depth: 0, ignoreInitial: true, persistent: true });
      this.#watcher = w;
      w.on("all", (_event, path) => this.#event(path));
      w.on("error", (e) => this.#onError(e));
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

  /**
   * chokidar drops a second change to a path within 50 ms of the first (its throttle is
   * leading-edge), so every event is reported again once that window has passed: a write
   * that landed inside the window is then seen by the caller's identity check.
   */
  #event(path: string): void {
    this.#onPath(path);
    this.#echo.schedule(path);
  }

  readonly #echo = new Debounce<string>(CHOKIDAR_THROTTLE_MS + 10, (path) => this.#onPath(path));

  async close(): Promise<void> {
    this.#echo.cancel();
    const w = this.#watcher;
    this.#watcher = null;
    this.#folders.clear();
    await w?.close();
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
