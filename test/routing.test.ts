import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { DatabaseWrapper, loadConfig, parseConfig, type SqliteSourceConfig } from "../src/index.ts";
import { SqliteSource } from "../src/sources/sqlite-source.ts";
import {
  CHATS,
  expectCode,
  multiSourceToml,
  seedDatabase,
  tempDir,
  writeConfig,
} from "./helpers.ts";

async function setup(dir: ReturnType<typeof tempDir>) {
  await seedDatabase(dir.file("archive.db"), async (db) => {
    await db.updateChatUser(CHATS.archived, 1, "@arch", "In Archive");
    await db.updateChatUser(CHATS.primary, 1, "@arch-copy", "Archive copy of a primary chat");
  });
  await seedDatabase(dir.file("external.db"), (db) =>
    db.updateChatUser(CHATS.primary, 1, "@ext", "External"),
  );
  return new DatabaseWrapper({ configPath: writeConfig(dir.path, multiSourceToml()) });
}

describe("routing", () => {
  test("reads go dataSource → chat mapping → default", async () => {
    await using dir = tempDir();
    await using db = await setup(dir);
    await db.updateChatUser(CHATS.primary, 1, "@prim", "Primary");

    expect((await db.getChatUser(CHATS.primary, 1))?.dataSource).toBe("primary");
    expect((await db.getChatUser(CHATS.archived, 1))?.username).toBe("@arch");
    expect((await db.getChatUser(CHATS.archived, 1))?.dataSource).toBe("archive");
    const explicit = await db.getChatUser(CHATS.primary, 1, { dataSource: "external" });
    expect(explicit?.username).toBe("@ext");
    expect(explicit?.dataSource).toBe("external");
    // dataSource beats the chat mapping too
    expect(await db.getChatUser(CHATS.archived, 1, { dataSource: "primary" })).toBeNull();
    expect(db.explain({ chatId: CHATS.archived }).rule).toBe("chatMapping");
    expect(db.explain({ chatId: 77 })).toMatchObject({
      source: "primary",
      rule: "default",
      refused: false,
      generation: 1,
    });
    expect(db.explain({ chatId: 77, dataSource: "archive" })).toMatchObject({
      source: "archive",
      rule: "dataSource",
      mode: "readonly",
    });
  });

  test("an unknown explicit source is UNKNOWN_SOURCE, never the default", async () => {
    await using dir = tempDir();
    await using db = await setup(dir);
    const e = await expectCode(
      db.getChatUser(CHATS.primary, 1, { dataSource: "archiv" }),
      "UNKNOWN_SOURCE",
    );
    expect(e.message).toContain("archiv");
    await expectCode(db.getChatUser(CHATS.primary, 1, { dataSource: "" }), "UNKNOWN_SOURCE");
  });

  test("writes route by chat and a readonly target is refused before any SQL, bytes unchanged", async () => {
    await using dir = tempDir();
    await using db = await setup(dir);
    const before = readFileSync(dir.file("archive.db"));
    const e = await expectCode(db.setChatSetting(CHATS.archived, "lang", "en"), "READONLY_SOURCE");
    expect(e.source).toBe("archive");
    expect(e.chatId).toBe(CHATS.archived);
    await expectCode(db.updateChatUser(CHATS.archived, 2, "@x", "X"), "READONLY_SOURCE");
    expect(readFileSync(dir.file("archive.db")).equals(before)).toBe(true);
    expect(db.explain({ chatId: CHATS.archived, write: true }).refused).toBe(true);

    // an unmapped chat writes to the default source
    expect(await db.setChatSetting(CHATS.primary, "lang", "en")).toBe(true);
    expect(await db.getChatSetting(CHATS.primary, "lang")).toBe("en");
    expect(await db.getChatSetting(CHATS.primary, "lang", { dataSource: "external" })).toBeNull();
  });

  test("a write through a readonly connection by raw SQL fails in the engine too", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("ro.db"));
    const config = parseConfig(`[database.sources.ro]\npath = "ro.db"\nreadonly = true\n`, {
      baseDir: dir.path,
    });
    for (const immutable of [false, true]) {
      const source = new SqliteSource({
        ...(config.sources[0] as SqliteSourceConfig),
        immutable,
        mode: immutable ? "immutable" : "readonly",
      });
      let error: unknown;
      try {
        source._connection().run("INSERT INTO settings (key, value) VALUES ('x', 'y')");
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "SQLITE_READONLY" });
      await source.close();
    }
  });

  test("1,000+ chat mappings load and route correctly", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("archive.db"));
    await seedDatabase(dir.file("external.db"));
    const lines: string[] = [];
    for (let i = 0; i < 1500; i++)
      lines.push(`${-1001000000000 - i * 7} = "${i % 2 ? "archive" : "external"}"`);
    const toml = multiSourceToml().replace('-1001000000001 = "archive"', lines.join("\n"));
    const config = loadConfig(writeConfig(dir.path, toml));
    expect(config.chatMapping.size).toBe(1500);
    await using db = new DatabaseWrapper({ config });
    for (let i = 0; i < 1500; i++) {
      const chatId = -1001000000000 - i * 7;
      expect(db.explain({ chatId }).source).toBe(i % 2 ? "archive" : "external");
    }
    expect(db.explain({ chatId: 1 }).source).toBe("primary");
  });
});

describe("legacy single-path mode", () => {
  test("a path string is one writable source named default", async () => {
    await using dir = tempDir();
    await using db = new DatabaseWrapper(dir.file("bot.db"));
    expect(db.health().sources.map((s) => [s.name, s.mode, s.schemaVersion])).toEqual([
      ["default", "read-write", 18],
    ]);
    expect(await db.setChatSetting(5, "k", "v")).toBe(true);
    expect(await db.getChatSetting(5, "k")).toBe("v");
    expect(db.explain({ chatId: 5, write: true })).toMatchObject({
      source: "default",
      refused: false,
    });
  });

  test("{ dbPath, maxConnections, timeout } becomes the same default source", async () => {
    await using dir = tempDir();
    await using db = new DatabaseWrapper({
      dbPath: dir.file("bot.db"),
      maxConnections: 3,
      timeout: 2,
    });
    expect(db.config.sources[0]).toMatchObject({
      name: "default",
      maxConnections: 3,
      timeout: 2,
      readonly: false,
    });
    expect(await db.updateChatUser(1, 2, "@u", "U")).toBe(true);
    expect((await db.getChatUser(1, 2))?.dataSource).toBe("default");
  });
});

describe("lifecycle", () => {
  test("close is idempotent and later calls reject CLOSED", async () => {
    await using dir = tempDir();
    const db = new DatabaseWrapper(dir.file("bot.db"));
    const first = db.close();
    expect(db.close()).toBe(first);
    await first;
    await expectCode(db.getChatUser(1, 2), "CLOSED");
    await expectCode(db.setChatSetting(1, "k", "v"), "CLOSED");
    await expectCode(() => db.explain({ chatId: 1 }), "CLOSED");
  });
});

describe("hot reload needs a file", () => {
  test("watch: true without a config file is refused at construction", async () => {
    const config = parseConfig('[database.sources.m]\npath = ":memory:"\n');
    await expectCode(() => new DatabaseWrapper({ config, watch: true }), "INVALID_ARGUMENT");
    await using db = new DatabaseWrapper({ config });
    await expectCode(db.watch(), "INVALID_ARGUMENT");
    await expectCode(db.reload(), "INVALID_ARGUMENT");
  });
});
