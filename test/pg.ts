/**
 * PostgreSQL fixtures: the server URL (env CHATDB_PG_URL), whether it answers, and a fresh
 * schema per test. Without a server the Postgres tests are skipped with a printed reason;
 * with CHATDB_REQUIRE_PG=1 (set by .ci/run) they fail instead.
 */

import { SQL } from "bun";
import { probe } from "../scripts/bench/suites/postgres.ts";
import type { PostgresSourceConfig } from "../src/config/types.ts";
import { waitFor } from "./helpers.ts";

export const PG_URL = process.env.CHATDB_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const PG_REQUIRED = process.env.CHATDB_REQUIRE_PG === "1";

/** "" when the server answers, else why not (the bench asks the same way). */
const failure = await probe(PG_URL);
/** True when the server answered the probe. */
export const pgAvailable = failure === "";
/** Why the server did not answer ("" when it did). */
export const pgFailure = failure;
/** Run the Postgres tests: the server answers, or CI requires them (and they will fail). */
export const runPg = pgAvailable || PG_REQUIRED;

if (!pgAvailable) {
  console.warn(
    PG_REQUIRED
      ? `chatdb: PostgreSQL at ${PG_URL} does not answer (${failure}) and CHATDB_REQUIRE_PG=1: the Postgres tests will FAIL`
      : `chatdb: PostgreSQL at ${PG_URL} does not answer (${failure}): SKIPPING the Postgres tests (set CHATDB_PG_URL, or CHATDB_REQUIRE_PG=1 to fail instead)`,
  );
}

let admin: SQL | undefined;
let counter = 0;

/** `url` with one more query parameter. */
export function withParam(url: string, key: string, value: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}${key}=${encodeURIComponent(value)}`;
}

/**
 * A fresh, empty schema, dropped (with everything in it) by `await using`. `url` selects it
 * through `search_path`, so a source configured with it creates and reads its tables there.
 */
export async function pgSchema() {
  admin ??= new SQL({ url: PG_URL, max: 2, connectionTimeout: 5 });
  const name = `chatdb_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  await admin.unsafe(`CREATE SCHEMA ${name}`);
  return {
    name,
    url: withParam(PG_URL, "search_path", name),
    async [Symbol.asyncDispose]() {
      await admin?.unsafe(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    },
  };
}

/** Waits until some session waits for a lock on `schema.table`: a call is blocked there. */
export function waitForLockWait(schema: string, table: string): Promise<unknown> {
  return waitFor(`a session waiting for a lock on ${schema}.${table}`, async () => {
    admin ??= new SQL({ url: PG_URL, max: 2, connectionTimeout: 5 });
    const [row] = await admin`
      SELECT count(*)::int AS n FROM pg_locks l
      JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace ns ON ns.oid = c.relnamespace
      WHERE NOT l.granted AND ns.nspname = ${schema} AND c.relname = ${table}`;
    return row.n > 0;
  });
}

/** Waits until `count` statements whose text contains `marker` are running on the server. */
export function waitForRunning(marker: string, count = 1): Promise<unknown> {
  return waitFor(`${count} statement(s) containing ${marker} to run`, async () => {
    admin ??= new SQL({ url: PG_URL, max: 2, connectionTimeout: 5 });
    const [row] = await admin`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE state = 'active' AND pid <> pg_backend_pid() AND position(${marker} in query) > 0`;
    return row.n >= count;
  });
}

/** Closes the admin pool; call from afterAll. */
export async function closePgAdmin(): Promise<void> {
  await admin?.close();
  admin = undefined;
}

/** A resolved Postgres source config. */
export function pgSourceConfig(
  name: string,
  url: string,
  extra: Partial<PostgresSourceConfig> = {},
): PostgresSourceConfig {
  const readonly = extra.readonly ?? false;
  return Object.freeze({
    name,
    type: "postgres",
    url,
    readonly,
    immutable: false,
    mode: readonly ? "readonly" : "read-write",
    timeout: 5,
    maxConnections: 3,
    ...extra,
  });
}

export { pgProxy } from "../scripts/stall/relay.ts";
