/**
 * Notices when the files of readonly and immutable sources change under us: watches their
 * folders, keeps events for the database and its `-wal`/`-journal`, and lets the source compare
 * file identity and `data_version` ({@link SqliteSource.check}); the safety poll checks them all.
 */
import { dirname } from "node:path";
import type { Source } from "../sources/source.ts";
import { SqliteSource } from "../sources/sqlite-source.ts";
import { FolderWatch } from "./folder-watch.ts";

export interface SourceWatcherOptions {
  debounceMs: number;
  pollMs: number;
  onError: (error: unknown) => void;
}

export class SourceWatcher {
  #sources: SqliteSource[] = [];
  /** file path (db, -wal, -journal) → source */
  #byPath = new Map<string, SqliteSource>();
  readonly #folders: FolderWatch<SqliteSource>;

  constructor(options: SourceWatcherOptions) {
    this.#folders = new FolderWatch({
      ...options,
      match: (path) => this.#byPath.get(path),
      fire: (source) => source.check(),
      poll: () => {
        for (const s of this.#sources) s.check();
      },
    });
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

  close(): Promise<void> {
    return this.#folders.close();
  }
}
