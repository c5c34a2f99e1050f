/**
 * Every repository query is compiled once, at definition, from one text with named parameters
 * (query.ts): the SQLite text numbers its placeholders ?1..?n and the PostgreSQL one $1..$n,
 * one per distinct name, and the SQLite text is valid on the current schema. A schema-dependent
 * read (a variant) is checked as picked for each of gromozeka's versions 1–18, on a file at that
 * version. (The PostgreSQL texts run in the data API suite's Postgres pass.)
 */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { Glob } from "bun";
import { DatabaseError } from "../src/errors.ts";
import { migrateSqlite, tableColumns } from "../src/schema/migrate.ts";
import { MIGRATIONS } from "../src/schema/migrations.ts";
import {
  bind,
  compile,
  jsonStrings,
  limit,
  type RunQuery,
  type SchemaInfo,
  schemaInfo,
  sql,
  ts,
} from "../src/sources/query.ts";

type Text = { sql: string; pg: string; names: readonly string[]; pgNames: readonly string[] };
type Found =
  | (Text & { kind: "get" | "all" | "run" })
  | { kind: "variant"; pick: (s: SchemaInfo) => Text };

/** Every query object reachable from a repository module's exports, by export path. */
async function repositoryQueries(): Promise<Map<string, Found>> {
  const found = new Map<string, Found>();
  const walk = (path: string, x: unknown) => {
    if (x === null || typeof x !== "object") return;
    const q = x as { kind?: string; steps?: RunQuery[] };
    if (q.kind === "batch") {
      for (const [i, s] of (q.steps ?? []).entries()) walk(`${path}[${i}]`, s);
    } else if (q.kind !== undefined) found.set(path, q as Found);
    else if (x instanceof Map) for (const [k, v] of x) walk(`${path}.${k}`, v);
    else for (const [k, v] of Object.entries(x)) walk(`${path}.${k}`, v);
  };
  for (const file of new Glob("*.ts").scanSync(`${import.meta.dir}/../src/repositories`)) {
    walk(file.replace(/\.ts$/, ""), await import(`../src/repositories/${file}`));
  }
  return found;
}

/** The distinct placeholder numbers of a text, sorted (`?3`, `$3` → 3). */
const numbers = (text: string, mark: "?" | "$") =>
  [...new Set(text.replace(/'[^']*'/g, "").match(mark === "?" ? /\?\d+/g : /\$\d+/g))]
    .map((m) => Number(m.slice(1)))
    .sort((a, b) => a - b);

/** The placeholders of one statement, and that its SQLite text prepares on `db`. */
function checkText(db: Database, name: string, q: Text) {
  // each dialect's own list: a perDialect fragment (timeCompare) may bind different names
  const want = (names: readonly string[]) => names.map((_, i) => i + 1);
  expect([name, numbers(q.sql, "?"), numbers(q.pg, "$")]).toEqual([
    name,
    want(q.names),
    want(q.pgNames),
  ]);
  // no bare ? (a positional value) on SQLite, none left at all on PostgreSQL
  expect([name, /\?(?!\d)/.test(q.sql), q.pg.includes("?")]).toEqual([name, false, false]);
  db.prepare(q.sql).finalize(); // throws on a syntax error or an unknown table/column
}

test("every repository query: one numbered placeholder per name, on both engines", async () => {
  const queries = await repositoryQueries();
  expect(queries.size).toBeGreaterThan(50);
  const variants = [...queries].filter(([, q]) => q.kind === "variant");
  expect(variants.length).toBeGreaterThan(10);
  for (const version of MIGRATIONS.map((m) => m.version)) {
    const latest = version === MIGRATIONS.length;
    const db = new Database(":memory:");
    migrateSqlite(db, "test", MIGRATIONS.slice(0, version), latest);
    const schema = schemaInfo(version, tableColumns(db));
    try {
      for (const [name, q] of queries) {
        if (q.kind !== "variant") {
          if (latest) checkText(db, name, q); // writes run on the latest schema only
          continue;
        }
        let picked: Text;
        try {
          picked = q.pick(schema);
        } catch (e) {
          // a read this version cannot answer (its table is not there yet) says so by code
          expect([name, version, (e as DatabaseError).code]).toEqual([
            name,
            version,
            "SCHEMA_MISMATCH",
          ]);
          expect(e).toBeInstanceOf(DatabaseError);
          expect(latest).toBe(false);
          continue;
        }
        checkText(db, `${name} @ v${version}`, picked);
      }
    } finally {
      db.close();
    }
  }
});

test("a name used twice is one placeholder; casts apply on PostgreSQL only", () => {
  const q = compile(
    (p: { since: string | null; categories: string | null; limit: number }) =>
      sql`WHERE (${ts(p.since)} IS NULL OR d > ${ts(p.since)}) AND c IN ${jsonStrings(p.categories)} LIMIT ${limit(p.limit)}`,
  );
  expect(q.names).toEqual(["since", "categories", "limit"]);
  expect(q.sql).toBe(
    "WHERE (?1 IS NULL OR d > ?1) AND c IN (SELECT value FROM json_each(?2)) LIMIT ?3",
  );
  expect(q.pg).toBe(
    "WHERE ($1::timestamptz IS NULL OR d > $1::timestamptz) AND c IN " +
      "(SELECT jsonb_array_elements_text($2::text::jsonb)) LIMIT NULLIF($3::bigint, -1)",
  );
  // values bound by name, in placeholder order; an absent one binds NULL
  expect(bind(q, { limit: 5, since: "2026-01-01 00:00:00" })).toEqual([
    "2026-01-01 00:00:00",
    null,
    5,
  ]);
});

test("a definition that mixes in a value or a bare placeholder is refused when it is defined", () => {
  expect(() => compile(() => sql`SELECT * FROM t WHERE a = ?`)).toThrow(TypeError);
  expect(() => compile(() => sql`SELECT ${1 as unknown as string}`)).toThrow(TypeError);
  // a parameter spliced into a plain template string instead of the sql tag
  expect(() => compile((p: { a: string }) => sql`${`SELECT ${p.a}`}`)).toThrow(TypeError);
});
