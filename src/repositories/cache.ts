/** cache_storage (namespace, key) and the typed cache_<type> tables. */
import { fromDbTime } from "../_internal/values.ts";
import { CACHE_TYPES, type CacheType } from "../schema/migrations.ts";
import { fold, many, named, one, type Row, sql, ts, write } from "../sources/query.ts";
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

type StorageKey = { namespace: string; key: string };

export const cacheStorage = named("cacheStorage", {
  all: many(
    "SELECT namespace, key, value, updated_at FROM cache_storage ORDER BY updated_at DESC, namespace, key",
    mapStorage,
  ),
  /** One entry by its primary key (namespace, key): one index lookup. */
  get: one(
    (p: StorageKey) => sql`SELECT namespace, key, value, updated_at FROM cache_storage
    WHERE namespace = ${p.namespace} AND key = ${p.key}`,
    mapStorage,
  ),
  /** The keys of one namespace, in key order (the primary key's order). */
  keys: fold(
    (p: { namespace: string }) =>
      sql`SELECT key FROM cache_storage WHERE namespace = ${p.namespace} ORDER BY key`,
    (rows) => rows.map((r) => r.key as string),
  ),
  set: write(
    (p: StorageKey & { value: string; now: string }) =>
      sql`INSERT INTO cache_storage (namespace, key, value, updated_at)
      VALUES (${p.namespace}, ${p.key}, ${p.value}, ${p.now}) ON CONFLICT (namespace, key)
      DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ),
  unset: write(
    (p: StorageKey) =>
      sql`DELETE FROM cache_storage WHERE namespace = ${p.namespace} AND key = ${p.key}`,
  ),
});

/** The queries of one cache_<type> table; the table name is from the fixed list, never user text. */
function typedCache(type: CacheType) {
  const table = `cache_${type}`;
  return named(`cache.${type}`, {
    /** `notBefore`: null = no expiry. */
    get: one(
      (p: { key: string; notBefore: string | null }) =>
        sql`SELECT key, data, created_at, updated_at FROM ${table} WHERE key = ${p.key}
        AND (${ts(p.notBefore)} IS NULL OR updated_at >= ${ts(p.notBefore)})`,
      mapEntry,
    ),
    set: write(
      (p: { key: string; data: string; now: string }) =>
        sql`INSERT INTO ${table} (key, data, created_at, updated_at)
        VALUES (${p.key}, ${p.data}, ${p.now}, ${p.now})
        ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
    ),
    clear: write(`DELETE FROM ${table}`),
  });
}

export const typedCaches: ReadonlyMap<string, ReturnType<typeof typedCache>> = new Map(
  CACHE_TYPES.map((t) => [t, typedCache(t)]),
);
