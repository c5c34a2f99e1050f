/** cache_storage (namespace, key) and the typed caches (gromozeka's `cache`, or cache_<type> before 012). */
import { fromDbTime } from "../_internal/values.ts";
import { DatabaseError } from "../errors.ts";
import { CACHE_TYPES, type CacheType } from "../schema/migrations.ts";
import {
  fold,
  many,
  named,
  one,
  type Row,
  sql,
  text,
  timeCompare,
  variant,
  write,
} from "../sources/query.ts";
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

/**
 * The queries of one cache type. gromozeka 012+ keeps every type in one table `cache`,
 * namespace = the type; before, each type had its own `cache_<type>` table. Reads pick by what
 * the file has (a readonly source may be at any version); writes go to a writable source, which
 * is always at the latest schema. The table name is from the fixed list, never user text.
 */
function typedCache(type: CacheType) {
  const legacy = `cache_${type}`;
  const fresh = (p: {
    notBefore: string | null;
    notBeforeIso: string | null;
    notBeforeDay: string | null;
  }) =>
    sql`(${text(p.notBefore)} IS NULL OR ${timeCompare("updated_at", ">=", { space: p.notBefore, iso: p.notBeforeIso, day: p.notBeforeDay })})`;
  type Get = { key: string } & Record<"notBefore" | "notBeforeIso" | "notBeforeDay", string | null>;
  const unified = one(
    (p: Get) => sql`SELECT key, data, created_at, updated_at FROM cache
    WHERE namespace = '${type}' AND key = ${p.key} AND ${fresh(p)}`,
    mapEntry,
  );
  const perType = one(
    (p: Get) => sql`SELECT key, data, created_at, updated_at FROM ${legacy}
    WHERE key = ${p.key} AND ${fresh(p)}`,
    mapEntry,
  );
  return named(`cache.${type}`, {
    /** `notBefore`: null = no expiry. */
    get: variant((schema) => {
      if (schema.has("cache")) return unified;
      if (schema.has(legacy)) return perType;
      throw new DatabaseError(
        "SCHEMA_MISMATCH",
        `cache type ${type}: this file has neither the table cache (gromozeka 012+) nor ${legacy}`,
      );
    }),
    set: write(
      (p: { key: string; data: string; now: string }) =>
        sql`INSERT INTO cache (namespace, key, data, created_at, updated_at)
        VALUES ('${type}', ${p.key}, ${p.data}, ${p.now}, ${p.now})
        ON CONFLICT (namespace, key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
    ),
    clear: write(`DELETE FROM cache WHERE namespace = '${type}'`),
  });
}

type Before = Record<"before" | "beforeIso" | "beforeDay", string | null>;
const olderThan = (p: Before) =>
  timeCompare("updated_at", "<", { space: p.before, iso: p.beforeIso, day: p.beforeDay });

/** gromozeka's clearOldCacheEntries: entries last updated before `before`, of one type or all. */
export const oldCacheEntries = named("cache", {
  clearOld: write((p: Before) => sql`DELETE FROM cache WHERE ${olderThan(p)}`),
  clearOldOf: write(
    (p: Before & { namespace: string }) =>
      sql`DELETE FROM cache WHERE namespace = ${p.namespace} AND ${olderThan(p)}`,
  ),
});

export const typedCaches: ReadonlyMap<string, ReturnType<typeof typedCache>> = new Map(
  CACHE_TYPES.map((t) => [t, typedCache(t)]),
);
