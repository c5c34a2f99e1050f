/**
 * Watches the config file's folder (editors save by writing a temp file and renaming it over
 * the config), debounces on the trailing edge, and calls `reload`. A slow poll of the file's
 * identity, size and mtime catches an event chokidar's leading-edge throttle dropped.
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
  /** The content as of the last reload; null when the file was missing. */
  #text: string | null;

  constructor(file: string, reload: () => void, options: ConfigWatcherOptions) {
    this.#file = resolve(file);
    this.#stamp = stamp(this.#file);
    this.#text = readText(this.#file);
    this.#debounce = new Debounce(options.debounceMs, () => {
      this.#stamp = stamp(this.#file);
      // FolderWatch reports each event twice (once more after chokidar's throttle window), and
      // one save can raise several events: reload only when the content really changed.
      const text = readText(this.#file);
      if (text === this.#text) return;
      this.#text = text;
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

/** dev:ino:size:mtime, or "missing". */
function stamp(file: string): string {
  try {
    const s = statSync(file);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return "missing";
  }
}

/** The file's content, or null when it cannot be read. */
function readText(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}
