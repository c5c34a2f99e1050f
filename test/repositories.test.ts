/**
 * Every repository query is one SQL text rendered per engine in one place (query.ts): no
 * dialect token left over, the same parameters on both engines, and the SQLite text valid
 * on the current schema. (The PostgreSQL texts run in the data API suite's Postgres pass.)
 */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { Glob } from "bun";
import { migrateSqlite } from "../src/schema/migrate.ts";
import { type RunQuery, renderSql } from "../src/sources/query.ts";

type Text = { sql: string; pg: string | undefined };

/** Every query object reachable from a repository module's exports, by export path. */
async function repositoryQueries(): Promise<Map<string, Text>> {
  const found = new Map<string, Text>();
  const walk = (path: string, x: unknown) => {
    if (x === null || typeof x !== "object") return;
    const q = x as { kind?: string; steps?: { query: RunQuery }[] } & Text;
    if (q.kind === "batch") {
      for (const [i, s] of (q.steps ?? []).entries()) walk(`${path}[${i}]`, s.query);
    } else if (q.kind !== undefined) found.set(path, q);
    else if (x instanceof Map) for (const [k, v] of x) walk(`${path}.${k}`, v);
    else for (const [k, v] of Object.entries(x)) walk(`${path}.${k}`, v);
  };
  for (const file of new Glob("*.ts").scanSync(`${import.meta.dir}/../src/repositories`)) {
    walk(file.replace(/\.ts$/, ""), await import(`../src/repositories/${file}`));
  }
  return found;
}

const placeholders = (sql: string) => sql.replace(/'[^']*'/g, "").split("?").length - 1;

test("every repository query: one text, rendered for both engines with the same parameters", async () => {
  const queries = await repositoryQueries();
  expect(queries.size).toBeGreaterThan(50);
  const db = new Database(":memory:");
  migrateSqlite(db, "test");
  try {
    for (const [name, q] of queries) {
      const pg = q.pg ?? q.sql;
      expect([name, /\{\?/.test(q.sql), /\{\?/.test(pg)]).toEqual([name, false, false]);
      expect([name, placeholders(pg)]).toEqual([name, placeholders(q.sql)]);
      db.prepare(q.sql).finalize(); // throws on a syntax error or an unknown table/column
    }
  } finally {
    db.close();
  }
});

test("dialect tokens render to a bare ? on SQLite and a typed one on PostgreSQL", () => {
  const text = "WHERE ({?ts} IS NULL OR d > {?ts}) AND c IN {?json_strings} LIMIT {?limit}";
  expect(renderSql(text, "sqlite")).toBe(
    "WHERE (? IS NULL OR d > ?) AND c IN (SELECT value FROM json_each(?)) LIMIT ?",
  );
  expect(renderSql(text, "pg")).toBe(
    "WHERE (?::timestamptz IS NULL OR d > ?::timestamptz) AND c IN " +
      "(SELECT jsonb_array_elements_text(?::text::jsonb)) LIMIT NULLIF(?::bigint, -1)",
  );
});
