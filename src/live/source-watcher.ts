/**
 * Notices when the files of readonly and immutable sources change under us: watches their
 * folders, keeps events for the database and its `-wal`/`-journal`, debounces, then lets the
 * source compare file identity and `data_version` ({@link SqliteSource.check}). A slow poll
 * catches whatever the watcher missed.
 */
import { dirname } from "node:path";
import type { Source } from "../sources/source.ts";
import { SqliteSource } from "../sources/sqlite-source.ts";
import { Debounce, FolderWatch } from "./folder-watch.ts";

export interface SourceWatcherOptions {
  /** Trailing debounce after a file event, ms. */
  debounceMs: number;
  /** Safety poll period, ms; 0 disables it. */
  pollMs: number;
  onError: (error: unknown) => void;
}

export class SourceWatcher {
  #sources: SqliteSource[] = [];
  /** file path (db, -wal, -journal) → source */
  #byPath = new Map<string, SqliteSource>();
  readonly #folders: FolderWatch;
  readonly #debounce: Debounce<SqliteSource>;
  readonly #poll: ReturnType<typeof setInterval> | undefined;

  constructor(options: SourceWatcherOptions) {
    this.#debounce = new Debounce(options.debounceMs, (s) => s.check());
    this.#folders = new FolderWatch((path) => {
      const source = this.#byPath.get(path);
      if (source) this.#debounce.schedule(source);
    }, options.onError);
    if (options.pollMs > 0) {
      this.#poll = setInterval(() => {
        for (const s of this.#sources) s.check();
      }, options.pollMs);
      this.#poll.unref?.();
    }
  }

  /** Watches exactly the readonly/immutable SQLite sources among `sources`. */
  track(sources: Iterable<Source>): Promise<void> {
    this.#sources = [...sources].filter(
      (s): s is SqliteSource =>
        s instanceof SqliteSource && s.config.readonly && s.config.path !== ":memory:",
    );
    this.#byPath = new Map();
    for (const s of this.#sources) {
      for (const suffix of ["", "-wal", "-journal"]) this.#byPath.set(s.config.path + suffix, s);
    }
    return this.#folders.set(this.#sources.map((s) => dirname(s.config.path)));
  }

  get ready(): Promise<void> {
    return this.#folders.ready;
  }

  async close(): Promise<void> {
    if (this.#poll) clearInterval(this.#poll);
    this.#debounce.cancel();
    await this.#folders.close();
  }
}
