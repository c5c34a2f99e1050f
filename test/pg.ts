/**
 * PostgreSQL fixtures: the server URL (env CHATDB_PG_URL), whether it answers, and a fresh
 * schema per test. Without a server the Postgres tests are skipped with a printed reason;
 * with CHATDB_REQUIRE_PG=1 (set by .ci/run) they fail instead.
 */

import { connect, createServer, type Server, type Socket } from "node:net";
import { SQL } from "bun";
import type { SourceConfig } from "../src/config/types.ts";

export const PG_URL = process.env.CHATDB_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const PG_REQUIRED = process.env.CHATDB_REQUIRE_PG === "1";

async function probe(): Promise<string> {
  const sql = new SQL({ url: PG_URL, max: 1, connectionTimeout: 3 });
  try {
    await sql.unsafe("SELECT 1");
    return "";
  } catch (e) {
    return (e as Error).message;
  } finally {
    await sql.close();
  }
}

const failure = await probe();
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

/** Closes the admin pool; call from afterAll. */
export async function closePgAdmin(): Promise<void> {
  await admin?.close();
  admin = undefined;
}

/** A resolved Postgres source config. */
export function pgSourceConfig(
  name: string,
  url: string,
  extra: Partial<SourceConfig> = {},
): SourceConfig {
  const readonly = extra.readonly ?? false;
  return Object.freeze({
    name,
    type: "postgres",
    path: "",
    url,
    readonly,
    immutable: false,
    mode: readonly ? "readonly" : "read-write",
    timeout: 5,
    maxConnections: 3,
    ...extra,
  });
}

/**
 * A TCP relay in front of the server, so a test can make "the server" go away and come back
 * without touching the real one (shared with other processes). `stop()` closes the listener
 * and cuts every relayed connection; `start()` listens again on the same port.
 */
export async function pgProxy() {
  const target = new URL(PG_URL);
  const upstream = { host: target.hostname, port: Number(target.port || 5432) };
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const up = connect(upstream);
        for (const s of [client, up]) {
          sockets.add(s);
          s.on("error", () => {});
          s.on("close", () => {
            sockets.delete(s);
            client.destroy();
            up.destroy();
          });
        }
        client.pipe(up);
        up.pipe(client);
      });
      const listening = server;
      listening.once("error", reject);
      listening.listen(port, "127.0.0.1", () => {
        port = (listening.address() as { port: number }).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await start();
  const proxied = new URL(PG_URL);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(port);
  return { url: proxied.toString(), start, stop, [Symbol.asyncDispose]: stop };
}
