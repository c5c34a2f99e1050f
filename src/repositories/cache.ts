/** cache_storage (namespace, key) and the typed cache_<type> tables. */
import { fromDbTime } from "../_internal/values.ts";
import { CACHE_TYPES, type CacheType } from "../schema/migrations.ts";
import { fold, many, named, one, type Row, write } from "../sources/query.ts";
import type { CacheEntry, CacheStorageEntry } from "../types.ts";

export function mapStorage(r: Row, dataSource: string): CacheStorageEntry {
  return {
    namespace: r.namespace as string,
    key: r.key as string,
    value: r.value as string,
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

export function mapEntry(r: Row, dataSource: string): CacheEntry {
  return {
    key: r.key as string,
    data: r.data as string,
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

export const cacheStorage = named("cacheStorage", {
  all: many(
    "SELECT namespace, key, value, updated_at FROM cache_storage ORDER BY updated_at DESC, namespace, key",
    mapStorage,
  ),
  /** One entry by its primary key (namespace, key): one index lookup. params: namespace, key. */
  get: one(
    "SELECT namespace, key, value, updated_at FROM cache_storage WHERE namespace = ? AND key = ?",
    mapStorage,
  ),
  /** The keys of one namespace, in key order (the primary key's order). params: namespace. */
  keys: fold("SELECT key FROM cache_storage WHERE namespace = ? ORDER BY key", (rows) =>
    rows.map((r) => r.key as string),
  ),
  /** params: namespace, key, value, now. */
  set: write(`INSERT INTO cache_storage (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
  unset: write("DELETE FROM cache_storage WHERE namespace = ? AND key = ?"),
});

/** The queries of one cache_<type> table; the table name is from the fixed list, never user text. */
function typedCache(type: CacheType) {
  const table = `cache_${type}`;
  return named(`cache.${type}`, {
    /** params: key, notBefore (null = no expiry) ×2. */
    get: one(
      `SELECT key, data, created_at, updated_at FROM ${table} WHERE key = ?
       AND ({?ts} IS NULL OR updated_at >= {?ts})`,
      mapEntry,
    ),
    /** params: key, data, now, now. */
    set: write(`INSERT INTO ${table} (key, data, created_at, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`),
    clear: write(`DELETE FROM ${table}`),
  });
}

export const typedCaches: ReadonlyMap<string, ReturnType<typeof typedCache>> = new Map(
  CACHE_TYPES.map((t) => [t, typedCache(t)]),
);
