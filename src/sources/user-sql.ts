/**
 * A bot's own SQL (`db.query`) as a query object like chatdb's: `?` or `:name` placeholders,
 * found outside string literals, quoted identifiers, comments and PostgreSQL's `::` casts and
 * dollar quotes, rewritten once per text into each dialect (`?i` / `$i`). The query object is
 * cached per text, so each source keeps one prepared statement for it, as for its own queries.
 */
import { DatabaseError } from "../errors.ts";
import type { AllQuery, Params, Row, Value } from "./query.ts";

export type UserParams = readonly Value[] | Readonly<Record<string, Value>>;
/** A row of the bot's own query, with the source that answered it. */
export type UserRow = Row & { dataSource: string };

const invalid = (message: string): never => {
  throw new DatabaseError("INVALID_ARGUMENT", `query: ${message}`);
};

interface Compiled {
  query: AllQuery<UserRow[], Params>;
  /** Positional (`?`): how many; named: null. */
  positional: number | null;
}

const cache = new Map<string, Compiled>();
/** Texts remembered; past it the oldest is forgotten (a bot building SQL by hand must not leak). */
const CACHE_SIZE = 1000;

const IDENT = /[A-Za-z0-9_]/;

/** Finds the placeholders of `text` and renders both dialects. */
function compile(text: string): Compiled {
  let sqlite = "";
  let pg = "";
  const names: string[] = [];
  let positional = 0;
  let named = false;
  const n = text.length;
  let i = 0;
  const copyUntil = (end: number) => {
    sqlite += text.slice(i, end);
    pg += text.slice(i, end);
    i = end;
  };
  while (i < n) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < n && !(text[j] === c && text[j + 1] !== c)) j += text[j] === c ? 2 : 1;
      copyUntil(Math.min(j + 1, n));
    } else if (c === "-" && next === "-") {
      const j = text.indexOf("\n", i);
      copyUntil(j === -1 ? n : j);
    } else if (c === "/" && next === "*") {
      const j = text.indexOf("*/", i + 2);
      copyUntil(j === -1 ? n : j + 2);
    } else if (c === "$" && /[A-Za-z_$]/.test(next ?? "")) {
      // a dollar quote ($$…$$, $tag$…$tag$) is copied whole; anything else after $ is text
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i))?.[0];
      if (tag) {
        const j = text.indexOf(tag, i + tag.length);
        copyUntil(j === -1 ? n : j + tag.length);
      } else copyUntil(i + 1);
    } else if (c === ":" && next === ":") {
      copyUntil(i + 2);
    } else if (c === "?") {
      if (/[0-9]/.test(next ?? ""))
        invalid("numbered placeholders (?1) are not supported: use ? or :name");
      positional++;
      sqlite += `?${positional}`;
      pg += `$${positional}`;
      i++;
    } else if (c === ":" && /[A-Za-z_]/.test(next ?? "") && !IDENT.test(text[i - 1] ?? "")) {
      let j = i + 1;
      while (j < n && IDENT.test(text[j] as string)) j++;
      const name = text.slice(i + 1, j);
      let k = names.indexOf(name) + 1;
      if (k === 0) k = names.push(name);
      named = true;
      sqlite += `?${k}`;
      pg += `$${k}`;
      i = j;
    } else {
      copyUntil(i + 1);
    }
  }
  if (named && positional > 0) invalid("use either ? or :name placeholders, not both");
  const list = named ? names : Array.from({ length: positional }, (_, k) => String(k));
  return {
    query: {
      kind: "all",
      name: "query",
      sql: sqlite,
      pg,
      names: list,
      pgNames: list,
      finish: (rows, dataSource) => rows.map((r) => ({ ...r, dataSource })),
    },
    positional: named ? null : positional,
  };
}

/** A value SQLite and PostgreSQL both bind. */
function ok(v: unknown): boolean {
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
      return true;
    default:
      return v === null;
  }
}

/** The bot's SQL and its values, checked: a query to run with `params`. */
export function userQuery(
  text: unknown,
  params: unknown,
): { query: AllQuery<UserRow[], Params>; params: Params } {
  if (typeof text !== "string" || text.trim() === "") invalid("sql: expected SQL text");
  const sql = text as string;
  let compiled = cache.get(sql);
  if (compiled === undefined) {
    compiled = compile(sql);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(sql, compiled);
  }
  const given = params ?? (compiled.positional === null ? {} : []);
  if (compiled.positional !== null) {
    if (!Array.isArray(given)) invalid("this SQL has ? placeholders: pass an array of values");
    const values = given as unknown[];
    if (values.length !== compiled.positional) {
      invalid(`${compiled.positional} ? placeholder(s), ${values.length} value(s)`);
    }
    for (let k = 0; k < values.length; k++) {
      if (!ok(values[k])) invalid(`value ${k}: expected a string, number, boolean or null`);
    }
    return { query: compiled.query, params: values as unknown as Params };
  }
  if (typeof given !== "object" || Array.isArray(given)) {
    invalid("this SQL has :name placeholders: pass an object of values");
  }
  const record = given as Record<string, unknown>;
  for (const name of compiled.query.names) {
    if (!(name in record)) invalid(`no value for :${name}`);
    if (!ok(record[name])) invalid(`:${name}: expected a string, number, boolean or null`);
  }
  return { query: compiled.query, params: record as Params };
}
