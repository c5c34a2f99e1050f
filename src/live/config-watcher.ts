/**
 * Watches the config file's folder (editors save by writing a temp file and renaming it over
 * the config) and calls `reload` when the file's content has changed. The safety poll compares
 * the file's identity, size and mtime.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { FolderWatch } from "./folder-watch.ts";

export interface ConfigWatcherOptions {
  debounceMs: number;
  pollMs: number;
  onError: (error: unknown) => void;
}

export class ConfigWatcher {
  readonly #file: string;
  readonly #folders: FolderWatch<string>;
  #stamp: string;
  /** The content as of the last reload; null when the file was missing. */
  #text: string | null;

  constructor(file: string, reload: () => void, options: ConfigWatcherOptions) {
    this.#file = resolve(file);
    this.#stamp = stamp(this.#file);
    this.#text = readText(this.#file);
    // Events come more than once per save (several per write, plus the re-report after
    // chokidar's throttle window): reload only when the content really changed.
    const fire = () => {
      this.#stamp = stamp(this.#file);
      const text = readText(this.#file);
      if (text === this.#text) return;
      this.#text = text;
      reload();
    };
    this.#folders = new FolderWatch({
      ...options,
      match: (path) => (resolve(path) === this.#file ? this.#file : undefined),
      fire,
      poll: () => {
        if (stamp(this.#file) !== this.#stamp) fire();
      },
    });
    void this.#folders.set([dirname(this.#file)]);
  }

  /**
   * Records the file as it is now as handled: a reload made by hand reads it, so the events
   * of the same save must not reload it a second time.
   */
  seen(): void {
    this.#stamp = stamp(this.#file);
    this.#text = readText(this.#file);
  }

  /** Resolves once the folder is being watched. */
  get ready(): Promise<void> {
    return this.#folders.ready;
  }

  close(): Promise<void> {
    return this.#folders.close();
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
