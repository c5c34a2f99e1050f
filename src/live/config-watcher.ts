/**
 * Watches the config file's folder (editors save by writing a temp file and renaming it over
 * the config) and hands what it reads to core: the file's text, or why it cannot be read.
 * Core parses it, and drops a text it has already loaded (events come several times per save,
 * and a reload made by hand has read the same save). The safety poll compares the file's
 * identity, size and mtime ({@link changeOf}).
 */
import { dirname, resolve } from "node:path";
import { readConfigFile } from "../config/load.ts";
import type { DatabaseError } from "../errors.ts";
import { changeOf, type FileIdentity, identityOf } from "../sources/sqlite-file.ts";
import { FolderWatch } from "./folder-watch.ts";

/** What the watcher read: the config's text, or the CONFIG_INVALID error of a failed read. */
export type ConfigRead = string | DatabaseError;

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

  constructor(file: string, changed: (read: ConfigRead) => void, options: ConfigWatcherOptions) {
    this.#file = resolve(file);
    this.#identity = identityOf(this.#file);
    const fire = () => {
      this.#identity = identityOf(this.#file);
      changed(readConfigFile(this.#file));
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

  /** Resolves once the folder is being watched. */
  get ready(): Promise<void> {
    return this.#folders.ready;
  }

  close(): Promise<void> {
    return this.#folders.close();
  }
}
