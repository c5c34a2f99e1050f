/**
 * Watches the config file's folder (editors save by writing a temp file and renaming it over
 * the config), debounces on the trailing edge, and calls `reload`. A slow poll of the file's
 * identity, size and mtime catches an event chokidar's leading-edge throttle dropped.
 *
 * The first event of a save is what applies it (edit → live ≈ the debounce). The re-report
 * folder-watch.ts makes 60 ms later, and the poll, only confirm: they reload only when the
 * file's bytes differ from those last handed to `reload`, so one save is one reload, and a
 * second write swallowed by chokidar's throttle is still applied.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Debounce, FolderWatch } from "./folder-watch.ts";

export interface ConfigWatcherOptions {
  debounceMs: number;
  pollMs: number;
  onError: (error: unknown) => void;
}

export class ConfigWatcher {
  readonly #file: string;
  readonly #folders: FolderWatch;
  readonly #debounce: Debounce<string>;
  readonly #poll: ReturnType<typeof setInterval> | undefined;
  #stamp: string;
  /** The file's bytes when `reload` was last called; undefined before the first call. */
  #applied: Buffer | undefined;

  constructor(file: string, reload: () => void, options: ConfigWatcherOptions) {
    this.#file = resolve(file);
    this.#stamp = stamp(this.#file);
    this.#debounce = new Debounce(options.debounceMs, () => {
      this.#stamp = stamp(this.#file);
      const bytes = contents(this.#file);
      if (bytes !== undefined && this.#applied?.equals(bytes)) return; // an echo: nothing new
      this.#applied = bytes;
      reload();
    });
    this.#folders = new FolderWatch((path) => {
      if (resolve(path) === this.#file) this.#debounce.schedule(this.#file);
    }, options.onError);
    void this.#folders.set([dirname(this.#file)]);
    if (options.pollMs > 0) {
      this.#poll = setInterval(() => {
        if (stamp(this.#file) !== this.#stamp) this.#debounce.schedule(this.#file);
      }, options.pollMs);
      this.#poll.unref?.();
    }
  }

  /** Resolves once the folder is being watched. */
  get ready(): Promise<void> {
    return this.#folders.ready;
  }

  async close(): Promise<void> {
    if (this.#poll) clearInterval(this.#poll);
    this.#debounce.cancel();
    await this.#folders.close();
  }
}

/** The file's bytes, or undefined when it cannot be read (reload then reports why). */
function contents(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** dev:ino:size:mtime, or "missing". */
function stamp(file: string): string {
  try {
    const s = statSync(file);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return "missing";
  }
}
