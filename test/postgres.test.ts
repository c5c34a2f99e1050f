/**
 * PostgreSQL sources: migrations, error typing, readonly enforcement by the server, and a
 * mixed-engine wrapper (Postgres primary + SQLite archive) aggregating across both. The source
 * contract every kind shares is source-contract.suite.ts.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { redactUrl } from "../src/_internal/redact.ts";
import { parseConfig } from "../src/config/load.ts";
import type { Generation } from "../src/core.ts";
import { DatabaseWrapper } from "../src/index.ts";
import { chatSettings, settings } from "../src/repositories/settings.ts";
import { users } from "../src/repositories/users.ts";
import { PostgresSource } from "../src/sources/postgres-source.ts";
import { one, sql } from "../src/sources/query.ts";
import type { Source } from "../src/sources/source.ts";
import { expectCode, nextEvent, seedDatabase, tempDir } from "./helpers.ts";
import {
  closePgAdmin,
  PG_REQUIRED,
  pgFailure,
  pgSchema,
  pgSourceConfig,
  runPg,
  waitForRunning,
} from "./pg.ts";

afterAll(closePgAdmin);

if (PG_REQUIRED) {
  test("the PostgreSQL server answers (CHATDB_REQUIRE_PG=1)", () => {
    expect(pgFailure).toBe("");
  });
}

describe.skipIf(!runPg)("postgres source", () => {
  test("two processes opening one fresh database migrate it once", async () => {
    await using schema = await pgSchema();
    const a = new PostgresSource(pgSourceConfig("a", schema.url));
    const b = new PostgresSource(pgSourceConfig("b", schema.url));
    await Promise.all([a._ready(), b._ready()]);
    expect((a.migration?.applied.length ?? 0) + (b.migration?.applied.length ?? 0)).toBe(18);
    expect([a.health().schemaVersion, b.health().schemaVersion]).toEqual([18, 18]);
    await Promise.all([a.close(), b.close()]);
  });

  test("a schema newer than chatdb is refused with SCHEMA_MISMATCH", async () => {
    await using schema = await pgSchema();
    const a = new PostgresSource(pgSourceConfig("a", schema.url));
    await a.exec(settings.set, {
      key: "db-migration-version",
      value: "99",
      now: "2026-01-01 00:00:00",
    });
    await a.close();
    const b = new PostgresSource(pgSourceConfig("b", schema.url));
    const e = await expectCode(b.exec(settings.get, { key: "x" }), "SCHEMA_MISMATCH");
    expect(e.message).toContain("newer");
    expect(b.health().state).toBe("unavailable");
    await b.close();
  });

  test("an unreachable server is SOURCE_UNAVAILABLE, in health too, never a crash at construction", async () => {
    const source = new PostgresSource(
      pgSourceConfig("gone", "postgres://postgres@127.0.0.1:1/test"),
    );
    const e = await expectCode(source.exec(settings.get, { key: "x" }), "SOURCE_UNAVAILABLE");
    expect(e.source).toBe("gone");
    expect(source.health()).toMatchObject({ type: "postgres", state: "unavailable" });
    expect(source.health().reason).toContain("gone");
    await source.close();
  });

  test("close drains: a query in flight finishes, later calls reject CLOSED", async () => {
    await using schema = await pgSchema();
    const source = new PostgresSource(pgSourceConfig("a", schema.url));
    await source._ready();
    const slow = source.exec(
      one(
        (p: { x: string }) =>
          sql`SELECT pg_sleep(0.5) IS NULL AS done, ${p.x} AS x /* ${schema.name} */`,
        (r) => r.x,
      ),
      { x: "kept" },
    );
    await waitForRunning(schema.name);
    const closing = source.close();
    expect(await slow).toBe("kept");
    await closing;
    await expectCode(source.exec(settings.get, { key: "x" }), "CLOSED");
    expect(source.health().state).toBe("unavailable");
  });

  test("redactUrl hides the password in the user info and in a password= parameter", () => {
    expect(redactUrl("postgres://bot:p%40ss%2Fw@db:5432/x?sslmode=require")).toBe(
      "postgres://bot:***@db:5432/x?sslmode=require",
    );
    // a URL that does not parse is never echoed: it could be all password
    expect(redactUrl("postgres://bot:p%40ss/w@db:5432/x")).not.toContain("p%40ss");
    expect(redactUrl("postgres://bot@db/x?sslmode=require&password=s3cret&a=1")).toBe(
      "postgres://bot@db/x?sslmode=require&password=***&a=1",
    );
    expect(redactUrl("postgres://bot@db/x")).toBe("postgres://bot@db/x");
  });

  test("a readonly source is refused by routing and by the server", async () => {
    await using schema = await pgSchema();
    const chat = -1009;
    {
      await using seed = new DatabaseWrapper({ config: pgOnly(schema.url) });
      await seed.updateChatUser(chat, 1, "@ro", "Read Only");
    }
    await using db = new DatabaseWrapper({
      config: parseConfig(`
        [database]
        default_source = "primary"
        [database.sources.primary]
        path = ":memory:"
        [database.sources.archive]
        type = "postgres"
        url = "${schema.url}"
        readonly = true
        [database.chat_mapping]
        ${chat} = "archive"
      `),
    });
    expect((await db.getChatUser(chat, 1))?.dataSource).toBe("archive");
    const refused = await expectCode(db.updateChatUser(chat, 1, "@x", "X"), "READONLY_SOURCE");
    expect(refused.source).toBe("archive");
    expect(db.health().sources.find((s) => s.name === "archive")).toMatchObject({
      type: "postgres",
      mode: "readonly",
      schemaVersion: 18,
    });
    // past routing: the server refuses on the source's own connections
    const source = sourceOf(db, "archive") as PostgresSource;
    const raw = source
      ._sql()
      .unsafe(
        "INSERT INTO chat_settings (chat_id, key, value, created_at, updated_at) VALUES (1, 'k', 'v', now(), now())",
      );
    await expect(raw).rejects.toMatchObject({ errno: "25006" });
    const now = "2026-01-01 00:00:00";
    await expectCode(
      source.exec(chatSettings.set, { chatId: chat, key: "k", value: "v", updatedBy: 0, now }),
      "READONLY_SOURCE",
    );
    expect(await db.getChatSettings(chat)).toEqual({});
  });

  test("a readonly source never creates or migrates the schema", async () => {
    await using schema = await pgSchema();
    const source = new PostgresSource(pgSourceConfig("ro", schema.url, { readonly: true }));
    await expectCode(source.exec(users.get, { chatId: 1, userId: 2 }), "SCHEMA_MISMATCH");
    expect(source.health()).toMatchObject({ schemaVersion: null, state: "degraded" });
    expect(source.health().reason).toContain("missing settings, chat_messages");
    await source.close();
  });

  test("a readonly source with an older schema is degraded naming the gap: a later column reads as empty, a base one is SCHEMA_MISMATCH", async () => {
    await using schema = await pgSchema();
    const writer = new PostgresSource(pgSourceConfig("rw", schema.url));
    await writer.exec(users.get, { chatId: 1, userId: 2 }); // opens and migrates to the latest version
    await writer.close();
    const admin = new SQL({ url: schema.url, max: 1 });
    await admin.unsafe(`INSERT INTO chat_users (chat_id, user_id, username, full_name, metadata,
      created_at, updated_at) VALUES (1, 2, '@a', 'A', '{"isSpammer":true}', now(), now())`);
    // metadata came with gromozeka 003: a file without it is read with metadata "" (no flag)
    await admin.unsafe("ALTER TABLE chat_users DROP COLUMN metadata");
    {
      const source = new PostgresSource(pgSourceConfig("ro", schema.url, { readonly: true }));
      expect(await source.exec(users.get, { chatId: 1, userId: 2 })).toMatchObject({
        username: "@a",
        metadata: "",
        isSpammer: false,
        dataSource: "ro",
      });
      expect(source.health().state).toBe("degraded");
      expect(source.health().reason).toContain("chat_users.metadata");
      await source.close();
    }
    // full_name is in every version: without it the read cannot be answered
    await admin.unsafe("ALTER TABLE chat_users DROP COLUMN full_name");
    await admin.close();
    const source = new PostgresSource(pgSourceConfig("ro", schema.url, { readonly: true }));
    const e = await expectCode(source.exec(users.get, { chatId: 1, userId: 2 }), "SCHEMA_MISMATCH");
    expect(e.message).toContain("chat_users");
    expect(e.message).toContain("full_name");
    expect(source.health().state).toBe("degraded");
    expect(source.health().reason).toContain("chat_users.full_name");
    expect(await source.exec(chatSettings.get, { chatId: 1, key: "k" })).toBeNull(); // what needs no gap works
    await source.close();
  });
});

describe.skipIf(!runPg)("mixed engines: Postgres primary + SQLite archive", () => {
  test("getUserChats and getAllGroupChats deduplicate across engines, home source wins", async () => {
    await using schema = await pgSchema();
    await using dir = tempDir();
    const [archived, shared, fresh, user] = [-1001, -1002, -1003, 7];
    await seedDatabase(dir.file("archive.db"), async (a) => {
      await a.updateChatInfo(archived, { type: "supergroup", title: "Old" });
      await a.updateChatInfo(shared, { type: "group", title: "Stale copy" });
      await a.updateChatUser(archived, user, "@u", "U");
      await a.updateChatUser(shared, user, "@u", "U");
    });
    await using db = new DatabaseWrapper({
      config: parseConfig(
        `
        [database]
        default_source = "primary"
        [database.sources.primary]
        type = "postgres"
        url = "${schema.url}"
        [database.sources.archive]
        path = "archive.db"
        readonly = true
        [database.chat_mapping]
        ${archived} = "archive"
      `,
        { baseDir: dir.path },
      ),
    });
    await db.updateChatInfo(shared, { type: "group", title: "Live" });
    await db.updateChatInfo(fresh, { type: "private" });
    await db.updateChatUser(shared, user, "@u", "U");
    await db.updateChatUser(fresh, user, "@u", "U");

    const tag = (cs: { chatId: number; title: string | null; dataSource: string }[]) =>
      cs.map((c) => [c.chatId, c.title, c.dataSource]).sort();
    expect(tag(await db.getUserChats(user))).toEqual(
      [
        [archived, "Old", "archive"],
        [shared, "Live", "primary"],
        [fresh, null, "primary"],
      ].sort(),
    );
    expect(tag(await db.getAllGroupChats())).toEqual(
      [
        [archived, "Old", "archive"],
        [shared, "Live", "primary"],
      ].sort(),
    );
    expect(tag(await db.getAllGroupChats({ dataSource: "archive" }))).toEqual(
      [
        [archived, "Old", "archive"],
        [shared, "Stale copy", "archive"],
      ].sort(),
    );
    const created = (await db.getUserChats(user)).find((c) => c.chatId === shared)?.createdAt;
    expect(created).toBeInstanceOf(Date);
  });

  test("an unreachable Postgres source is skipped and reported by aggregation, fatal when strict", async () => {
    await using dir = tempDir();
    await using db = new DatabaseWrapper({
      config: parseConfig(
        `
        [database]
        default_source = "primary"
        [database.sources.primary]
        path = "primary.db"
        [database.sources.gone]
        type = "postgres"
        url = "postgres://postgres@127.0.0.1:1/test"
        readonly = true
      `,
        { baseDir: dir.path },
      ),
    });
    await db.updateChatInfo(-5, { type: "group", title: "Here" });
    const reported = nextEvent<{ source: string; error: { code: string } }>(db, "sourceError");
    expect((await db.getAllGroupChats()).map((c) => c.title)).toEqual(["Here"]);
    expect(await reported).toMatchObject({ source: "gone", error: { code: "SOURCE_UNAVAILABLE" } });
    expect(db.health().sources.find((s) => s.name === "gone")?.state).toBe("unavailable");
    await expectCode(db.getAllGroupChats({ strict: true }), "SOURCE_UNAVAILABLE");
  });
});

describe("postgres config", () => {
  test("discrete host/port/user/password/database keys build the url", () => {
    const config = parseConfig(`
      [database.sources.pg]
      type = "postgres"
      host = "db.example"
      port = 6543
      user = "bot"
      password = "p@ss"
      database = "chat"
      max_connections = 7
      timeout = 2.5
    `);
    expect(config.sources[0]).toMatchObject({
      type: "postgres",
      url: "postgres://bot:p%40ss@db.example:6543/chat",
      maxConnections: 7,
      timeout: 2.5,
    });
  });
});

/** A config with one writable Postgres source named primary. */
function pgOnly(url: string) {
  return parseConfig(`[database.sources.primary]\ntype = "postgres"\nurl = "${url}"\n`);
}

function sourceOf(db: DatabaseWrapper, name: string): Source {
  const source = (db as unknown as { gen: Generation }).gen.sources.get(name);
  if (!source) throw new Error(`no source ${name}`);
  return source;
}
