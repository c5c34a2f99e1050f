/**
 * A query is data: its SQL with named, typed parameters, how to run it, and how to turn rows
 * into records. Repositories declare queries; sources run them with their own cached prepared
 * statements. One mapper per record type is shared by every query that returns it.
 *
 * A query's values live next to its placeholders: the parameters are declared where the SQL is,
 * `one((p: { chatId: number }) => sql`… WHERE chat_id = ${p.chatId}`, map)`, and a call passes
 * `{ chatId }`. The text is compiled once, at definition, into each dialect — SQLite `?1…?n`,
 * PostgreSQL `$1…$n` with the casts it needs — plus the list of names: placeholder i takes
 * `params[names[i - 1]]`, and a name used twice is one placeholder used twice. Nothing about the
 * dialect is decided when the query runs.
 */
import { type BoundOp, sqliteTimeParts } from "../_internal/time-bounds.ts";
import { DatabaseError } from "../errors.ts";

/** A raw row as the engine returns it. */
export type Row = Record<string, unknown>;
/** One bound value. */
export type Value = string | number | boolean | null;
/** A call's parameters, by name; `undefined` binds as NULL. */
export type Params = { readonly [name: string]: Value | undefined };
/** The parameters of a query that takes none. */
export type NoParams = Record<string, never>;

/**
 * How each kind of parameter is written in each dialect, `?` standing for the placeholder
 * (`?i` on SQLite, `$i` on PostgreSQL). A cast is for a parameter whose type PostgreSQL cannot
 * infer (`$2::timestamptz IS NULL OR …`); SQLite needs none.
 */
export const QUERY_DIALECT = {
  plain: { sqlite: "?", pg: "?" },
  ts: { sqlite: "?", pg: "?::timestamptz" },
  bigint: { sqlite: "?", pg: "?::bigint" },
  boolean: { sqlite: "?", pg: "?::boolean" },
  text: { sqlite: "?", pg: "?::text" },
  /** A row limit where −1 means none (SQLite's own rule; PostgreSQL: LIMIT NULL). */
  limit: { sqlite: "?", pg: "NULLIF(?::bigint, -1)" },
  /**
   * The strings of a JSON array bound as text, as a subquery for `IN` (Bun would encode a
   * string bound to a jsonb parameter as a JSON string, so PostgreSQL casts the text).
   */
  jsonStrings: {
    sqlite: "(SELECT value FROM json_each(?))",
    pg: "(SELECT jsonb_array_elements_text(?::text::jsonb))",
  },
} as const;
type Cast = keyof typeof QUERY_DIALECT;

const misuse = (): never => {
  throw new TypeError("a query parameter or fragment used outside the sql tag");
};

/** `p.name` inside a query's definition: a reference to the parameter `name`. */
class Param {
  constructor(
    readonly name: string,
    readonly cast: Cast,
  ) {}
  /** A parameter spliced into a plain template string would become "[object Object]". */
  toString(): never {
    return misuse();
  }
}

/** SQL text with parameters in it, from the {@link sql} tag; fragments nest. */
export class Sql {
  constructor(readonly parts: readonly (string | Param | PerDialect)[]) {}
  toString(): never {
    return misuse();
  }
}

/** A fragment written differently per dialect (see {@link perDialect}). */
class PerDialect {
  constructor(
    readonly sqlite: Sql,
    readonly pg: Sql,
  ) {}
  toString(): never {
    return misuse();
  }
}

/**
 * A fragment whose SQL differs by engine, not just by a cast: each dialect's text takes only
 * the parameters it names (a query's two texts may bind different lists, see `pgNames`).
 */
export function perDialect(fragments: { sqlite: Sql; pg: Sql }): Sql {
  return new Sql([new PerDialect(fragments.sqlite, fragments.pg)]);
}

/**
 * The tag for a query's text. `${p.name}` is a parameter, `${ts(p.name)}` (and the other casts)
 * a typed one, `${fragment}` another `sql` fragment, `${"text"}` SQL text itself (column lists,
 * table names: constants of the repository, never a value).
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  const parts: (string | Param | PerDialect)[] = [];
  for (let i = 0; i < strings.length; i++) {
    parts.push(strings[i] as string);
    if (i === values.length) break;
    const v = values[i];
    if (typeof v === "string" || v instanceof Param || v instanceof PerDialect) parts.push(v);
    else if (v instanceof Sql) parts.push(...v.parts);
    else throw new TypeError(`sql: \${${String(v)}} is neither SQL text nor a query parameter`);
  }
  return new Sql(parts);
}

const cast =
  <T extends Value>(kind: Cast) =>
  (value: T): Sql => {
    if (!(value instanceof Param)) throw new TypeError(`${kind}(): expected a query parameter`);
    return new Sql([new Param(value.name, kind)]);
  };
/** A timestamp (`YYYY-MM-DD HH:MM:SS[.mmm]` text, or null). */
export const ts = cast<string | null>("ts");
/** An integer (an id), or null. */
export const bigint = cast<number | null>("bigint");
/** A boolean, where PostgreSQL needs to be told (`jsonb_build_object('k', $1::boolean)`). */
export const boolean = cast<boolean>("boolean");
/** A string, or null, where PostgreSQL needs to be told it is text (`$1 IS NULL`). */
export const text = cast<string | null>("text");
/** A row limit; −1 means none. */
export const limit = cast<number>("limit");
/** A JSON array of strings (text), as a subquery for `IN`. */
export const jsonStrings = cast<string | null>("jsonStrings");

/**
 * `col op bound` on a timestamp column, where `bound` is the three parameters {@link
 * boundParams} makes (`p.since`, `p.sinceIso`, `p.sinceDay`): on SQLite right for both of
 * gromozeka's text encodings and still one index range (_internal/time-bounds.ts); on
 * PostgreSQL, whose column is timestamptz, a plain comparison of instants.
 */
export function timeCompare(
  col: string,
  op: BoundOp,
  bound: { space: Value; iso: Value; day: Value },
): Sql {
  const param = (v: Value) => {
    if (!((v as unknown) instanceof Param))
      throw new TypeError("timeCompare(): expected query parameters");
    return v as unknown as Param;
  };
  const slots = { space: param(bound.space), iso: param(bound.iso), isoDay: param(bound.day) };
  const sqlite = new Sql(
    sqliteTimeParts(col, op).map((part) => (typeof part === "string" ? part : slots[part.slot])),
  );
  return perDialect({ sqlite, pg: sql`${col} ${op} ${ts(bound.space as string | null)}` });
}

/** What a definition's `p` is at run time: every property a reference to that parameter. */
const REFS = new Proxy(
  {},
  { get: (_, name) => (typeof name === "string" ? new Param(name, "plain") : undefined) },
);

/** A query's text: SQL with no parameters, or a definition over its typed parameters. */
export type Define<P> = string | ((p: P) => Sql);

interface Compiled {
  /** The SQLite text: `?i` is the value of `names[i - 1]`. */
  readonly sql: string;
  /** The PostgreSQL text: `$i`, cast where PostgreSQL cannot infer the type. */
  readonly pg: string;
  /** Each distinct parameter of the SQLite text once, in order of first use. */
  readonly names: readonly string[];
  /** The same for the PostgreSQL text (the same list unless a fragment is {@link perDialect}). */
  readonly pgNames: readonly string[];
}

type Dialect = "sqlite" | "pg";

/** One dialect's text of a definition's parts, and its parameter names. */
function render(parts: Sql["parts"], dialect: Dialect, names: string[]): string {
  let text = "";
  for (const part of parts) {
    if (typeof part === "string") {
      // a bare `?` would be a positional value out of step with the names
      if (part.includes("?")) throw new TypeError(`sql: a bare ? in ${JSON.stringify(part)}`);
      text += part;
    } else if (part instanceof PerDialect) {
      text += render(part[dialect].parts, dialect, names);
    } else {
      let i = names.indexOf(part.name) + 1;
      if (i === 0) i = names.push(part.name);
      text += QUERY_DIALECT[part.cast][dialect].replace("?", dialect === "pg" ? `$${i}` : `?${i}`);
    }
  }
  return text;
}

/** A definition → its text in both dialects plus their parameter names. Once, at definition. */
export function compile<P>(define: Define<P>): Compiled {
  const body = typeof define === "string" ? new Sql([define]) : define(REFS as P);
  const names: string[] = [];
  const pgNames: string[] = [];
  const sqlite = render(body.parts, "sqlite", names);
  const pg = render(body.parts, "pg", pgNames);
  const same = names.length === pgNames.length && names.every((n, i) => pgNames[i] === n);
  return { sql: sqlite, pg, names, pgNames: same ? names : pgNames };
}

/**
 * The values of a query's placeholders, in order: `names.map((n) => params[n] ?? null)`
 * (PostgreSQL passes the query's `pgNames`).
 */
export function bind(
  query: { readonly names: readonly string[] },
  params: Params,
  names: readonly string[] = query.names,
): Value[] {
  const values: Value[] = [];
  for (let i = 0; i < names.length; i++) values.push(params[names[i] as string] ?? null);
  return values;
}

/** Type only: carries a query's parameters type (never set at run time). */
declare const PARAMS: unique symbol;

interface Named<P> {
  /**
   * `repository.key` ("messages.since"), stamped by {@link named}: what `slowQuery` events
   * report as `method`. One name per SQL statement (what an index or a plan fixes); a wrapper
   * method that picks among several statements shows which one was slow.
   */
  name?: string;
  /** A function of P, so a query taking fewer parameters fits where more are passed. */
  readonly [PARAMS]?: (params: P) => void;
}

interface Base<P> extends Named<P>, Compiled {}

/** One row → a record, or null when nothing matched. */
export interface GetQuery<R, P = NoParams> extends Base<P> {
  readonly kind: "get";
  readonly finish: (row: Row | null, source: string) => R;
}
/** All rows → a result. */
export interface AllQuery<R, P = NoParams> extends Base<P> {
  readonly kind: "all";
  readonly finish: (rows: Row[], source: string) => R;
}
/** A write; resolves true when at least one row was inserted, changed or deleted. */
export interface RunQuery<P = NoParams> extends Base<P> {
  readonly kind: "run";
}
/**
 * Several writes in one transaction, all bound from the call's one params object (each step
 * takes the names it uses). The first decides the result: see {@link runBatch}.
 */
export interface BatchQuery<P = NoParams> extends Named<P> {
  readonly kind: "batch";
  readonly steps: readonly RunQuery<P>[];
}

/**
 * What a source's file has, read when the source opens (and again at each reopen): a file of
 * another program may be at any of gromozeka's schema versions, older or newer than chatdb's.
 */
export interface SchemaInfo {
  /** `settings['db-migration-version']`, null when unknown. */
  readonly version: number | null;
  /** The table exists (and has `column`, when given). */
  has(table: string, column?: string): boolean;
}

/**
 * A read whose SQL depends on the file's schema (a column one version has and another lacks):
 * each source picks its statement once per open. `pick` returns the query to run, or throws
 * SCHEMA_MISMATCH naming what is missing when the call cannot be answered at all.
 */
export interface VariantQuery<R, P = NoParams> extends Named<P> {
  readonly kind: "variant";
  readonly pick: (schema: SchemaInfo) => GetQuery<R, P> | AllQuery<R, P>;
}

// biome-ignore lint/suspicious/noExplicitAny: whatever its parameters
type AnyParams = any;
export type Query<R = unknown, P = AnyParams> =
  | GetQuery<R, P>
  | AllQuery<R, P>
  | RunQuery<P>
  | BatchQuery<P>
  | VariantQuery<R, P>;
/** What running a query resolves to. */
export type ResultOf<Q> =
  Q extends GetQuery<infer R, AnyParams>
    ? R
    : Q extends AllQuery<infer R, AnyParams>
      ? R
      : Q extends VariantQuery<infer R, AnyParams>
        ? R
        : boolean;
/** The params object a call of the query passes. */
export type ParamsOf<Q> = Q extends { readonly [PARAMS]?: (params: infer P) => void } ? P : never;

/** A query returning one mapped record or null. */
export function one<T, P extends Params = NoParams>(
  define: Define<P>,
  map: (row: Row, source: string) => T,
): GetQuery<T | null, P> {
  return {
    kind: "get",
    ...compile(define),
    finish: (row, source) => (row === null ? null : map(row, source)),
  };
}

/** A query returning every row mapped. */
export function many<T, P extends Params = NoParams>(
  define: Define<P>,
  map: (row: Row, source: string) => T,
): AllQuery<T[], P> {
  return {
    kind: "all",
    ...compile(define),
    finish: (rows, source) => rows.map((r) => map(r, source)),
  };
}

/** A query returning rows folded into one value (a key → value map, a single column...). */
export function fold<T, P extends Params = NoParams>(
  define: Define<P>,
  finish: (rows: Row[], source: string) => T,
): AllQuery<T, P> {
  return { kind: "all", ...compile(define), finish };
}

/** A single-statement write. */
export function write<P extends Params = NoParams>(define: Define<P>): RunQuery<P> {
  return { kind: "run", ...compile(define) };
}

/** A union of params types → one type with all of them (what a batch's call passes). */
type All<U> = (U extends unknown ? (u: U) => void : never) extends (all: infer I) => void
  ? I
  : never;

/**
 * Several writes in one transaction over one params object (every step's parameters
 * together); the first one decides the result.
 */
export function batch<S extends readonly RunQuery<AnyParams>[]>(
  steps: S,
): BatchQuery<All<ParamsOf<S[number]>>> {
  return { kind: "batch", steps };
}

/**
 * The batch rule, for every engine: the steps run in order, inside the engine's transaction,
 * each bound from the one params object; the first decides — when it changes nothing (a
 * duplicate insert) the rest are skipped and the result is false. `runStep` runs one statement
 * and returns its change count: synchronously (SQLite) or as a promise (PostgreSQL).
 */
export function runBatch(
  query: BatchQuery,
  params: Params,
  runStep: (step: RunQuery, values: Value[]) => number,
): boolean;
export function runBatch(
  query: BatchQuery,
  params: Params,
  runStep: (step: RunQuery, values: Value[]) => Promise<number>,
  dialect: "pg",
): Promise<boolean>;
export function runBatch(
  query: BatchQuery,
  params: Params,
  runStep: (step: RunQuery, values: Value[]) => number | Promise<number>,
  dialect: Dialect = "sqlite",
): boolean | Promise<boolean> {
  const steps = query.steps;
  const from = (first: number): boolean | Promise<boolean> => {
    for (let i = first; i < steps.length; i++) {
      const step = steps[i] as RunQuery;
      const values = bind(step, params, dialect === "pg" ? step.pgNames : step.names);
      const changes = runStep(step, values);
      if (typeof changes !== "number") {
        return changes.then((n) => (i === 0 && n === 0 ? false : from(i + 1)));
      }
      if (i === 0 && changes === 0) return false;
    }
    return true;
  };
  return from(0);
}

/** A read chosen by the file's schema (see {@link VariantQuery}); its picks carry its name. */
export function variant<R, P extends Params>(
  pick: (schema: SchemaInfo) => GetQuery<R, P> | AllQuery<R, P>,
): VariantQuery<R, P> {
  const query: VariantQuery<R, P> = {
    kind: "variant",
    pick: (schema) => {
      const picked = pick(schema);
      if (query.name !== undefined) picked.name ??= query.name;
      return picked;
    },
  };
  return query;
}

/**
 * A read over a table some of whose columns a file may lack (added by a later migration):
 * `build(col)` writes the query with `col(name)` for each optional column — the column where
 * the file has it, `NULL AS name` where it does not — so the mapper sees null, never a
 * rejected call. One statement per combination of columns present, made on first use.
 */
export function optionalColumns<R, P extends Params>(
  table: string,
  optional: readonly string[],
  build: (col: (name: string) => string) => GetQuery<R, P> | AllQuery<R, P>,
  alias = "",
): VariantQuery<R, P> {
  const made = new Map<string, GetQuery<R, P> | AllQuery<R, P>>();
  return variant((schema) => {
    const present = optional.map((c) => schema.has(table, c));
    const key = present.map(Number).join("");
    let query = made.get(key);
    if (query === undefined) {
      const has = new Set(optional.filter((_, i) => present[i]));
      query = build((c) => (has.has(c) ? `${alias}${c}` : `NULL AS ${c}`));
      made.set(key, query);
    }
    return query;
  });
}

/** A read of a table only later schemas have: SCHEMA_MISMATCH on a file without it. */
export function needsTable<R, P extends Params>(
  table: string,
  since: string,
  query: VariantQuery<R, P>,
): VariantQuery<R, P> {
  return variant((schema) => {
    if (!schema.has(table)) {
      throw new DatabaseError(
        "SCHEMA_MISMATCH",
        `this file has no table ${table} (${since}; its schema version is ${schema.version ?? "unknown"})`,
      );
    }
    return query.pick(schema);
  });
}

/**
 * The statement a source runs for `query`: a variant picked once per open (`cache` is the
 * source's, cleared when it reopens), anything else as it is.
 */
export function resolveQuery(
  query: Query,
  cache: Map<object, Query>,
  schema: () => SchemaInfo,
): Exclude<Query, VariantQuery<unknown>> {
  if (query.kind !== "variant") return query;
  let picked = cache.get(query);
  if (picked === undefined) {
    picked = query.pick(schema());
    cache.set(query, picked);
  }
  return picked as Exclude<Query, VariantQuery<unknown>>;
}

/** A SchemaInfo over table → columns. */
export function schemaInfo(
  version: number | null,
  tables: ReadonlyMap<string, ReadonlySet<string>>,
): SchemaInfo {
  return {
    version,
    has: (table, column) => {
      const cols = tables.get(table);
      return cols !== undefined && (column === undefined || cols.has(column));
    },
  };
}

/** Names every query of a repository `repository.key` (nested lists: `repository.key.n`). */
export function named<T extends object>(repository: string, queries: T): T {
  for (const [key, value] of Object.entries(queries)) {
    if (value !== null && typeof value === "object" && "kind" in value) {
      (value as { name?: string }).name ??= `${repository}.${key}`;
    }
  }
  return queries;
}
