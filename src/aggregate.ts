/**
 * Cross-source reads (README "Routing"), over the sources of one captured generation:
 * each source queried in config order, rows deduplicated by key, the copy from the row's home
 * source winning, else the first in config order; a failing source skipped and reported
 * unless `strict`.
 */
import { DatabaseError } from "./errors.ts";
import type { Router } from "./routing.ts";
import type { Query } from "./sources/query.ts";
import type { Source } from "./sources/source.ts";
import type { AggregateOptions } from "./types.ts";

/** How one aggregated method merges rows. */
export interface MergeRule<T> {
  key: (row: T) => string | number;
  /**
   * The source the row's data belongs to, by the captured generation's `router` (a reload
   * during a PostgreSQL source's await must not mix the new chat map with the old sources).
   */
  home: (row: T, router: Router) => string;
  /** The query's own ORDER BY, so one source or many read the same. */
  order: (a: T, b: T) => number;
  limit?: number;
}

/** Called for a source that failed and was skipped. */
export type Report = (source: string, error: DatabaseError, operation: string) => void;

/** Every source's rows, merged by `rule`. */
export async function aggregate<T extends { readonly dataSource: string }, P>(
  { sources, router }: { sources: ReadonlyMap<string, Source>; router: Router },
  query: Query<T[], P>,
  params: P,
  opts: AggregateOptions | undefined,
  rule: MergeRule<T>,
  report: Report,
): Promise<T[]> {
  const { key, home } = rule;
  const winners = new Map<string | number, T>();
  for (const source of sources.values()) {
    let rows: T[];
    try {
      // await only real promises (Postgres): an all-SQLite aggregate runs in one go
      const result = source.exec(query, params);
      rows = (result instanceof Promise ? await result : result) as T[];
    } catch (e) {
      if (opts?.strict || !(e instanceof DatabaseError)) throw e;
      report(source.name, e, "aggregate");
      continue;
    }
    // Keys are primary keys, so one source's rows are already unique: nothing to merge.
    if (sources.size === 1) return rows;
    for (const row of rows) {
      const k = key(row);
      const seen = winners.get(k);
      // `dataSource` tells where a copy came from; home is worked out only on a collision.
      if (
        seen === undefined ||
        (home(row, router) === row.dataSource && home(seen, router) !== seen.dataSource)
      ) {
        winners.set(k, row);
      }
    }
  }
  const merged = [...winners.values()].sort(rule.order);
  return rule.limit === undefined ? merged : merged.slice(0, rule.limit);
}

/** The first source (default first, then config order) whose query returns non-null. */
export async function firstMatch<T, P>(
  sources: ReadonlyMap<string, Source>,
  defaultSource: string,
  query: Query<T | null, P>,
  params: P,
  opts: AggregateOptions | undefined,
  report: Report,
): Promise<T | null> {
  const first = sources.get(defaultSource);
  const order = [...(first ? [first] : []), ...[...sources.values()].filter((s) => s !== first)];
  for (const source of order) {
    try {
      const result = source.exec(query, params);
      const found = (result instanceof Promise ? await result : result) as T | null;
      if (found !== null) return found;
    } catch (e) {
      if (opts?.strict || !(e instanceof DatabaseError)) throw e;
      report(source.name, e, "firstMatch");
    }
  }
  return null;
}

/** `strict` decides whether a failing source is fatal: a truthy string must not flip it. */
export function checkStrict(opts: AggregateOptions | undefined): void {
  if (opts?.strict !== undefined && typeof opts.strict !== "boolean") {
    throw new DatabaseError(
      "INVALID_ARGUMENT",
      `strict: expected a boolean, got ${typeof opts.strict}`,
    );
  }
}
