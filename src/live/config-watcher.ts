/**
 * Watches the config file's folder (editors save by writing a temp file and renaming it over
 * the config) and calls `reload` when the file's content has changed. The safety poll compares
 * the file's identity, size and mtime ({@link changeOf}).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { changeOf, type FileIdentity, identityOf } from "../sources/sqlite-file.ts";
import { FolderWatch } from "./folder-watch.ts";

export interface ConfigWatcherOptions {
  debounceMs: number;
  pollMs: number;
  onError: (error: unknown) => void;
}

export class ConfigWatcher {
  readonly #file: string;
  readonly #folders: FolderWatch<string>;
  /** The file as of the last look; null when it was missing. */
  #identity: FileIdentity | null;
  /** The content as of the last reload; null when the file was missing. */
  #text: string | null;

  constructor(file: string, reload: () => void, options: ConfigWatcherOptions) {
    this.#file = resolve(file);
    this.#identity = identityOf(this.#file);
    this.#text = readText(this.#file);
    // Events come more than once per save (several per write, plus the re-report after
    // chokidar's throttle window): reload only when the content really changed.
    const fire = () => {
      this.#identity = identityOf(this.#file);
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
        const change = changeOf(this.#identity, identityOf(this.#file));
        // still missing is no change
        if (change !== "same" && (change !== "missing" || this.#identity !== null)) fire();
      },
    });
    void this.#folders.set([dirname(this.#file)]);
  }

  /**
   * Records the file as it is now as handled: a reload made by hand reads it, so the events
   * of the same save must not reload it a second time.
   */
  seen(): void {
    this.#identity = identityOf(this.#file);
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

/** The file's content, or null when it cannot be read. */
function readText(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}
