/**
 * A query is data: its SQL (one text for both engines, rendered per dialect here), how to run
 * it, and how to turn rows into records. Repositories declare queries; sources run them with
 * their own cached prepared statements. One mapper per record type is shared by every query
 * that returns it.
 */

/** A raw row as the engine returns it. */
export type Row = Record<string, unknown>;
/** Values bound to `?` placeholders, in order. */
export type Params = readonly (string | number | boolean | null)[];

interface Named {
  /**
   * `repository.key` ("messages.since"), stamped by {@link named}: what `slowQuery` events
   * report as `method`. One name per SQL statement (what an index or a plan fixes); a wrapper
   * method that picks among several statements shows which one was slow.
   */
  name?: string;
}

interface Base extends Named {
  /** The SQLite text, `?` placeholders. */
  readonly sql: string;
  /** The PostgreSQL text when it differs; `?` placeholders are numbered by the Postgres source. */
  readonly pg: string | undefined;
}

/** One row → a record, or null when nothing matched. */
export interface GetQuery<R> extends Base {
  readonly kind: "get";
  readonly finish: (row: Row | null, source: string) => R;
}
/** All rows → a result. */
export interface AllQuery<R> extends Base {
  readonly kind: "all";
  readonly finish: (rows: Row[], source: string) => R;
}
/** A write; resolves true when at least one row was inserted, changed or deleted. */
export interface RunQuery extends Base {
  readonly kind: "run";
}
/**
 * Several writes in one transaction. The first decides the result: when it changes
 * nothing (a duplicate insert), the rest are skipped and the result is false.
 */
export interface BatchQuery extends Named {
  readonly kind: "batch";
  /** Each step's parameters are picked, by index, from the call's parameters. */
  readonly steps: readonly { readonly query: RunQuery; readonly params: readonly number[] }[];
}

export type Query<R = unknown> = GetQuery<R> | AllQuery<R> | RunQuery | BatchQuery;
/** What running a query resolves to. */
export type ResultOf<Q> =
  Q extends GetQuery<infer R> ? R : Q extends AllQuery<infer R> ? R : boolean;

/**
 * The only places the dialects differ in chatdb's queries, as tokens in the one SQL text.
 * A typed placeholder is a `?` whose type PostgreSQL cannot infer (`{?ts} IS NULL OR …`);
 * SQLite needs no cast. Every token holds exactly one `?`, so parameters line up on both.
 */
export const QUERY_DIALECT = {
  "{?ts}": { sqlite: "?", pg: "?::timestamptz" },
  "{?id}": { sqlite: "?", pg: "?::bigint" },
  "{?text}": { sqlite: "?", pg: "?::text" },
  /** A row limit where −1 means none (SQLite's own rule; PostgreSQL: LIMIT NULL). */
  "{?limit}": { sqlite: "?", pg: "NULLIF(?::bigint, -1)" },
  /** The strings of a JSON array bound as text, as a subquery for `IN`. */
  "{?json_strings}": {
    sqlite: "(SELECT value FROM json_each(?))",
    pg: "(SELECT jsonb_array_elements_text(?::text::jsonb))",
  },
} as const;

type Dialect = "sqlite" | "pg";
const TOKENS = new RegExp(
  Object.keys(QUERY_DIALECT)
    .map((t) => t.replace(/[{}?]/g, "\\$&"))
    .join("|"),
  "g",
);

/** One SQL text (with {@link QUERY_DIALECT} tokens) in one dialect. */
export function renderSql(text: string, dialect: Dialect): string {
  return text.replace(TOKENS, (t) => QUERY_DIALECT[t as keyof typeof QUERY_DIALECT][dialect]);
}

const split = (text: string) => {
  const sql = renderSql(text, "sqlite");
  const pg = renderSql(text, "pg");
  return { sql, pg: pg === sql ? undefined : pg };
};

/** A query returning one mapped record or null. */
export function one<T>(sql: string, map: (row: Row, source: string) => T): GetQuery<T | null> {
  return {
    kind: "get",
    ...split(sql),
    finish: (row, source) => (row === null ? null : map(row, source)),
  };
}

/** A query returning every row mapped. */
export function many<T>(sql: string, map: (row: Row, source: string) => T): AllQuery<T[]> {
  return { kind: "all", ...split(sql), finish: (rows, source) => rows.map((r) => map(r, source)) };
}

/** A query returning rows folded into one value (a key → value map, a single column...). */
export function fold<T>(sql: string, finish: (rows: Row[], source: string) => T): AllQuery<T> {
  return { kind: "all", ...split(sql), finish };
}

/** A single-statement write. */
export function write(sql: string): RunQuery {
  return { kind: "run", ...split(sql) };
}

/** Several writes in one transaction; the first one decides the result. */
export function batch(steps: BatchQuery["steps"]): BatchQuery {
  return { kind: "batch", steps };
}

/** Names every query of a repository `repository.key` (nested lists: `repository.key.n`). */
export function named<T extends object>(repository: string, queries: T): T {
  for (const [key, value] of Object.entries(queries)) {
    if (value !== null && typeof value === "object" && "kind" in value) {
      (value as Named).name ??= `${repository}.${key}`;
    }
  }
  return queries;
}
