/**
 * PostgreSQL sources while the bot runs: hot reload that swaps a Postgres source (old pool
 * drained, new one opened, routing follows, no failed read), the server going away and coming
 * back (sourceError / sourceReopened), and what health says before the first connection.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { parseConfig } from "../../src/config/load.ts";
import type { Generation } from "../../src/core.ts";
import { DatabaseWrapper, type WrapperEvents } from "../../src/index.ts";
import { settings } from "../../src/repositories/settings.ts";
import type { PostgresSource } from "../../src/sources/postgres-source.ts";
import { one, sql } from "../../src/sources/query.ts";
import { expectCode, seedDatabase, tempDir, waitFor, writeConfig } from "../helpers.ts";
import { closePgAdmin, pgProxy, pgSchema, runPg, waitForRunning, withParam } from "../pg.ts";

afterAll(closePgAdmin);

const primaryToml = (keys: string) =>
  `[database]\ndefault_source = "primary"\n\n[database.sources.primary]\n${keys}\n`;
const pgKeys = (url: string) => `type = "postgres"\nurl = "${url}"\ntimeout = 2`;

/** The source a wrapper routes `name` to right now. Internal, for tests. */
const sourceOf = (db: DatabaseWrapper, name: string) =>
  (db as unknown as { gen: Generation }).gen.sources.get(name) as PostgresSource;

/** Every warning and source event of a wrapper, in order. */
function record(db: DatabaseWrapper, warnings: string[]) {
  const errors: WrapperEvents["sourceError"][0][] = [];
  const reopened: WrapperEvents["sourceReopened"][0][] = [];
  db.on("sourceError", (e) => errors.push(e));
  db.on("sourceReopened", (e) => reopened.push(e));
  return { warnings, errors, reopened };
}

describe.skipIf(!runPg)("postgres sources, live", () => {
  test("an aggregate spanning a Postgres await keeps its generation's chat map: a reload meanwhile does not change which copy wins", async () => {
    await using dir = tempDir();
    await using pg = await pgSchema();
    const chat = -1001000000555;
    // the same chat in both SQLite sources, each copy titled after its source
    for (const name of ["one", "two"]) {
      await seedDatabase(dir.file(`${name}.db`), async (w) => {
        await w.updateChatInfo(chat, { type: "group", title: name });
        await w.updateChatUser(chat, 42, "u", "U");
      });
    }
    const toml = (home: string) => `[database]
default_source = "pg"
[database.sources.pg]
${pgKeys(pg.url)}
[database.sources.one]
path = "one.db"
readonly = true
[database.sources.two]
path = "two.db"
readonly = true
[database.chat_mapping]
${chat} = "${home}"
`;
    const configPath = writeConfig(dir.path, toml("one"));
    await using db = new DatabaseWrapper({ configPath });
    expect((await db.getUserChats(42)).map((c) => [c.title, c.dataSource])).toEqual([
      ["one", "one"],
    ]);
    // started on generation 1 (home: one); the Postgres source is asked first, and while its
    // answer is on the way the config moves the chat's home to two
    const during = db.getUserChats(42);
    writeFileSync(configPath, toml("two"));
    expect(await db.reload()).toBe(2);
    expect((await during).map((c) => [c.title, c.dataSource])).toEqual([["one", "one"]]);
    expect((await db.getUserChats(42)).map((c) => [c.title, c.dataSource])).toEqual([
      ["two", "two"],
    ]);
  });

  test("reload moves the primary SQLite → Postgres A → Postgres B: in-flight queries finish, no read fails, routing follows", async () => {
    await using dir = tempDir();
    await using a = await pgSchema();
    await using b = await pgSchema();
    await seedDatabase(dir.file("primary.db"), (w) => w.setSetting("from", "sqlite"));
    for (const [schema, from] of [
      [a, "pg-a"],
      [b, "pg-b"],
    ] as const) {
      const w = new DatabaseWrapper({ config: parseConfig(primaryToml(pgKeys(schema.url))) });
      await w.setSetting("from", from);
      await w.close();
    }
    const configPath = writeConfig(dir.path, primaryToml('path = "primary.db"'));
    const warnings: string[] = [];
    // slowMs above the deliberate 0.3 s query below: no other warning is expected
    await using db = new DatabaseWrapper({
      configPath,
      slowMs: 1000,
      logger: { warn: (m) => warnings.push(m) },
    });
    const log = record(db, warnings);

    // a bot-like reader, all along
    let reading = true;
    const seen: string[] = [];
    const failures: unknown[] = [];
    const reader = (async () => {
      while (reading) {
        try {
          const from = (await db.getSetting("from")) as string;
          if (seen.at(-1) !== from) seen.push(from);
        } catch (e) {
          failures.push(e);
        }
        await Bun.sleep(1);
      }
    })();

    writeFileSync(configPath, primaryToml(pgKeys(a.url)));
    expect(await db.reload()).toBe(2);
    expect(await db.getSetting("from")).toBe("pg-a");
    const oldPool = sourceOf(db, "primary");

    // a slow query in flight on A's pool while the config moves the primary to B
    const marker = `/* ${a.name} */`;
    const slowQuery = one(
      (p: { x: string }) => sql`SELECT pg_sleep(0.3) IS NULL AS done, ${p.x} AS x ${marker}`,
      (r) => r.x,
    );
    const slow = oldPool.exec(slowQuery, { x: "finished on A" });
    const slowRaw = oldPool
      ._sql()
      .unsafe(`SELECT pg_sleep(0.3) IS NULL AS done, 'raw' AS x ${marker}`)
      .execute();
    await waitForRunning(marker, 2);
    writeFileSync(configPath, primaryToml(pgKeys(b.url)));
    const started = performance.now();
    expect(await db.reload()).toBe(3);
    // the swap does not wait for A's queries: the next call is already routed to B
    expect(performance.now() - started).toBeLessThan(100);
    expect(await db.getSetting("from")).toBe("pg-b");
    expect(sourceOf(db, "primary")).not.toBe(oldPool);

    // A drains: its queries in flight finish, then its pool closes and refuses new work
    expect(await slow).toBe("finished on A");
    expect((await slowRaw)[0]?.x).toBe("raw");
    await oldPool.close();
    expect(oldPool.health()).toMatchObject({ state: "unavailable", reason: "closed" });
    await expectCode(oldPool.exec(settings.get, { key: "from" }), "CLOSED");

    await waitFor("the reader to read from B", () => seen.at(-1) === "pg-b");
    reading = false;
    await reader;
    expect(failures).toEqual([]);
    expect(seen).toEqual(["sqlite", "pg-a", "pg-b"]);
    expect(db.health().sources).toMatchObject([{ name: "primary", type: "postgres", state: "ok" }]);
    expect(log).toMatchObject({ warnings: [], errors: [], reopened: [] });
  });

  test("a Postgres source starts 'opening' without a warning, then reports each outage once and each return", async () => {
    await using schema = await pgSchema();
    await using proxy = await pgProxy();
    await proxy.stop(); // the server is down when the bot starts
    const url = withParam(proxy.url, "search_path", schema.name);
    const warnings: string[] = [];
    await using db = new DatabaseWrapper({
      config: parseConfig(primaryToml(pgKeys(url))),
      logger: { warn: (m) => warnings.push(m) },
    });
    const log = record(db, warnings);
    const health = () => db.health().sources[0];

    // nothing is known yet: not ok, not failed, and nothing to warn about
    expect(health()).toMatchObject({ state: "opening", reason: "first connection in progress" });
    expect(warnings).toEqual([]);

    // the first connection fails: one report, at that moment
    await waitFor("the first connection to fail", () => health()?.state === "unavailable");
    expect(log.errors.map((e) => [e.source, e.error.code, e.operation])).toEqual([
      ["primary", "SOURCE_UNAVAILABLE", "open"],
    ]);
    expect(warnings).toHaveLength(1);
    await expectCode(db.getSetting("from"), "SOURCE_UNAVAILABLE");
    expect(log.errors).toHaveLength(1); // the same outage is not reported again

    // the server comes up: the first call after the backoff opens (migrates), the return is reported
    await proxy.start();
    expect(
      await waitFor("served after the backoff", () =>
        db.setSetting("from", "back").catch(() => false),
      ),
    ).toBe(true);
    expect(health()).toMatchObject({ state: "ok", reason: "", schemaVersion: 18 });
    expect(log.reopened).toEqual([{ source: "primary", reason: "server answers" }]);

    // it goes away while in use, and comes back
    await proxy.stop();
    await expectCode(db.getSetting("from"), "SOURCE_UNAVAILABLE");
    await expectCode(db.getSetting("from"), "SOURCE_UNAVAILABLE");
    expect(health()?.state).toBe("unavailable");
    expect(log.errors.map((e) => [e.error.code, e.operation])).toEqual([
      ["SOURCE_UNAVAILABLE", "open"],
      ["SOURCE_UNAVAILABLE", "query"],
    ]);
    await proxy.start();
    // the first probe after the return gets through (no stale pooled connection fails it)
    expect(
      await waitFor("served after the backoff", () => db.getSetting("from").catch(() => null)),
    ).toBe("back");
    expect(health()?.state).toBe("ok");
    expect(log.reopened.map((e) => e.reason)).toEqual(["server answers", "server answers again"]);
  });

  test("a reachable Postgres source is 'opening' at construction, 'ok' once open, and logs no warning", async () => {
    await using schema = await pgSchema();
    const warnings: string[] = [];
    await using db = new DatabaseWrapper({
      config: parseConfig(primaryToml(pgKeys(schema.url))),
      logger: { warn: (m) => warnings.push(m) },
    });
    expect(db.health().sources[0]?.state).toBe("opening");
    expect(await db.getSetting("db-migration-version")).toBe("18");
    expect(db.health().sources[0]).toMatchObject({ state: "ok", reason: "", schemaVersion: 18 });
    expect(warnings).toEqual([]);
  });
});
