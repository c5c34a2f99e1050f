/**
 * A session store for Telegram bot frameworks on chatdb's cache storage: one object that is
 * both a grammY `StorageAdapter<T>` and a GramIO `Storage`.
 */
import { DatabaseError } from "./errors.ts";
import type { DatabaseWrapper } from "./wrapper.ts";

/** Options of {@link createSessionStorage}. */
export interface SessionStorageOptions {
  /** The cache-storage namespace the sessions live in. Default `"sessions"`. */
  namespace?: string | undefined;
}

/**
 * A session store over `cache_storage` (namespace, key → JSON text) on the wrapper's default
 * source. grammY's `StorageAdapter<T>` is `read`/`write`/`delete`/`has`/`readAllKeys`; GramIO's
 * `Storage` is `get`/`set`/`has`/`delete` (its `delete` resolves whether something was deleted).
 */
export interface SessionStorage<T> {
  /** grammY: the session stored under `key`, or undefined. One primary-key lookup. */
  read(key: string): Promise<T | undefined>;
  /** grammY: stores `value` (as JSON) under `key`. */
  write(key: string, value: T): Promise<void>;
  /** Both: removes `key`; resolves true when it was there (GramIO's contract). */
  delete(key: string): Promise<boolean>;
  /** grammY's `StorageAdapter.delete` signature (the same call: void is all grammY expects). */
  delete(key: string): Promise<void>;
  /** Both: whether `key` has a session. */
  has(key: string): Promise<boolean>;
  /** grammY: every key of the namespace, in key order. */
  readAllKeys(): AsyncIterable<string>;
  /** GramIO: same as {@link read}. */
  get(key: string): Promise<T | undefined>;
  /** GramIO: same as {@link write}. */
  set(key: string, value: T): Promise<void>;
}

/**
 * Session storage for grammY (`session({ initial, storage })`) and GramIO on chatdb.
 *
 * Sessions go to the default source, not routed by chat: they are the bot's own mutable state
 * (a key may be a chat, a user or `chat:user`, and chatdb cannot tell which), the default
 * source is where chatdb keeps data that is not per chat, and it is writable. Routing by chat
 * would send a session write to a readonly archive (`READONLY_SOURCE`) once the chat is archived.
 *
 * Values are stored as JSON text, so a session must be JSON-serializable (a `Date` comes back
 * as a string). A value that is not (`undefined`, a function, a cycle) is `INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * import { Bot, session } from "grammy";
 * import { createSessionStorage, DatabaseWrapper } from "chatdb";
 *
 * const db = new DatabaseWrapper("bot.db");
 * const bot = new Bot("TOKEN");
 * bot.use(session({ initial: () => ({ count: 0 }), storage: createSessionStorage(db) }));
 * ```
 */
export function createSessionStorage<T = unknown>(
  db: DatabaseWrapper,
  options: SessionStorageOptions = {},
): SessionStorage<T> {
  const namespace = options.namespace ?? "sessions";
  if (typeof namespace !== "string" || namespace === "") {
    throw new DatabaseError(
      "INVALID_ARGUMENT",
      "createSessionStorage: namespace must be a non-empty string",
    );
  }
  const read = async (key: string): Promise<T | undefined> => {
    const entry = await db.getCacheStorageEntry(namespace, key);
    return entry === null ? undefined : (JSON.parse(entry.value) as T);
  };
  const write = async (key: string, value: T): Promise<void> => {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (e) {
      throw new DatabaseError(
        "INVALID_ARGUMENT",
        `session ${key}: value is not JSON (${(e as Error).message})`,
        {
          cause: e,
        },
      );
    }
    if (json === undefined) {
      throw new DatabaseError("INVALID_ARGUMENT", `session ${key}: value is not JSON-serializable`);
    }
    await db.setCacheStorage(namespace, key, json);
  };
  return {
    read,
    write,
    get: read,
    set: write,
    // one function serving both declared signatures (grammY ignores the boolean)
    delete: ((key: string) => db.unsetCacheStorage(namespace, key)) as SessionStorage<T>["delete"],
    has: async (key) => (await db.getCacheStorageEntry(namespace, key)) !== null,
    async *readAllKeys() {
      yield* await db.getCacheStorageKeys(namespace);
    },
  };
}
