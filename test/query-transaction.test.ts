/**
 * A bot's own SQL (`db.query`) and transactions (`db.transaction`), routed like the data
 * methods, on SQLite and PostgreSQL primaries, with real files and a real server.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseConfig } from "../src/config/load.ts";
import { DatabaseWrapper } from "../src/index.ts";
import {
  CHATS,
  expectCode,
  multiSourceToml,
  seedDatabase,
  tempDir,
  writeConfig,
} from "./helpers.ts";
import { closePgAdmin, pgSchema, runPg } from "./pg.ts";

afterAll(closePgAdmin);

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const EXT = -1001000000077;

/** primary (writable), archive (mapped chat, readonly), external (readonly, seeded). */
async function fixture(dir: ReturnType<typeof tempDir>) {
  await seedDatabase(dir.file("archive.db"), (w) =>
    w.updateChatUser(CHATS.archived, 1, "@arch", "A"),
  );
  await seedDatabase(dir.file("external.db"), (w) => w.updateChatUser(EXT, 2, "@ext", "E"));
  const config = writeConfig(dir.path, multiSourceToml({ extra: `${EXT} = "external"` }));
  return new DatabaseWrapper({ configPath: config, watchSources: false });
}

const message = (chatId: number, messageId: number) => ({
  chatId,
  messageId,
  userId: 7,
  date: new Date("2026-01-02T10:00:00Z"),
  messageText: `m${messageId}`,
});

describe("db.query on SQLite", () => {
  test("reads route by chat and dataSource; ? and :name work; rows carry their source", async () => {
    await using dir = tempDir();
    await using db = await fixture(dir);
    await db.updateChatUser(CHATS.primary, 7, "@ann", "Ann");
    expect(
      await db.query(
        "SELECT username FROM chat_users WHERE chat_id = ? AND user_id = ?",
        [CHATS.primary, 7],
        {
          chatId: CHATS.primary,
        },
      ),
    ).toEqual([{ username: "@ann", dataSource: "primary" }]);
    // the chat map sends this one to the readonly archive
    expect(
      await db.query(
        "SELECT username FROM chat_users WHERE chat_id = :chat",
        { chat: CHATS.archived },
        {
          chatId: CHATS.archived,
        },
      ),
    ).toEqual([{ username: "@arch", dataSource: "archive" }]);
    expect(
      await db.query("SELECT count(*) AS n FROM chat_users", [], { dataSource: "external" }),
    ).toEqual([{ n: 1, dataSource: "external" }]);
    // placeholders inside literals, identifiers and comments are text; a name used twice is one value
    expect(
      await db.query(
        `SELECT '?' AS q, "user_id" AS "a:b", :x + :x AS twice -- :y ?\n`,
        { x: 2 },
        {},
      ),
    ).toEqual([{ q: "?", "a:b": "user_id", twice: 4, dataSource: "primary" }]);
  });

  test("a write routes by chat; on a readonly source it is refused before any SQL, the file unchanged", async () => {
    await using dir = tempDir();
    await using db = await fixture(dir);
    const before = sha(dir.file("external.db"));
    expect(
      await db.query(
        "INSERT INTO chat_settings (chat_id, key, value, updated_by, created_at, updated_at) VALUES (?, 'k', 'v', 0, ?, ?) RETURNING key",
        [CHATS.primary, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"],
        { chatId: CHATS.primary, write: true },
      ),
    ).toEqual([{ key: "k", dataSource: "primary" }]);
    expect(await db.getChatSetting(CHATS.primary, "k")).toBe("v");
    await expectCode(
      db.query("DELETE FROM chat_users", [], { chatId: EXT, write: true }),
      "READONLY_SOURCE",
    );
    // not declared a write: the readonly connection refuses it in the engine
    await expectCode(db.query("DELETE FROM chat_users", [], { chatId: EXT }), "READONLY_SOURCE");
    expect(sha(dir.file("external.db"))).toBe(before);
    expect((await db.getChatUser(EXT, 2))?.username).toBe("@ext");
  });

  test("bad calls are INVALID_ARGUMENT naming what is wrong", async () => {
    await using dir = tempDir();
    await using db = await fixture(dir);
    await expectCode(db.query("SELECT ?, ?", [1]), "INVALID_ARGUMENT");
    await expectCode(db.query("SELECT :a", {}), "INVALID_ARGUMENT");
    await expectCode(db.query("SELECT ?, :a", [1]), "INVALID_ARGUMENT");
    await expectCode(db.query("SELECT ?1", [1]), "INVALID_ARGUMENT");
    const e = await expectCode(
      db.query("SELECT 1", [], { chatID: 5 } as never),
      "INVALID_ARGUMENT",
    );
    expect(e.message).toContain('"chatID"');
    await expectCode(
      db.query("SELECT 1", [], { dataSource: "external", write: true }),
      "INVALID_ARGUMENT",
    );
    await expectCode(db.query("SELECT nope FROM chat_users"), "SCHEMA_MISMATCH");
    await expectCode(db.query("SELEC 1"), "QUERY_FAILED");
  });
});

describe("db.transaction on SQLite", () => {
  test("data methods and query commit together; a throw leaves nothing", async () => {
    await using dir = tempDir();
    await using db = await fixture(dir);
    await db.updateChatUser(CHATS.primary, 7, "@ann", "Ann");
    const result = await db.transaction({ chatId: CHATS.primary }, async (tx) => {
      expect(await tx.saveChatMessage(message(CHATS.primary, 1))).toBe(true);
      await tx.query("UPDATE chat_users SET timezone = 'UTC' WHERE user_id = ?", [7], {
        chatId: CHATS.primary,
        write: true,
      });
      // the transaction sees its own writes
      return (await tx.getChatUser(CHATS.primary, 7))?.messagesCount;
    });
    expect(result).toBe(1);
    expect((await db.getChatUser(CHATS.primary, 7))?.timezone).toBe("UTC");

    const boom = new Error("the bot's own bug");
    let caught: unknown;
    try {
      await db.transaction({ chatId: CHATS.primary }, async (tx) => {
        await tx.saveChatMessage(message(CHATS.primary, 2));
        await tx.setChatSetting(CHATS.primary, "k", "v");
        throw boom;
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(boom);
    expect(await db.getChatMessageByMessageId(CHATS.primary, 2)).toBeNull();
    expect(await db.getChatSetting(CHATS.primary, "k")).toBeNull();
    expect((await db.getChatUser(CHATS.primary, 7))?.messagesCount).toBe(1);
  });

  test("one source per transaction: another source's call, a nested transaction, a readonly target are refused", async () => {
    await using dir = tempDir();
    await using db = await fixture(dir);
    await expectCode(
      db.transaction({ chatId: CHATS.primary }, async (tx) => {
        await tx.saveChatMessage(message(CHATS.primary, 3));
        await tx.getChatUser(EXT, 2); // routes to external
      }),
      "INVALID_ARGUMENT",
    );
    expect(await db.getChatMessageByMessageId(CHATS.primary, 3)).toBeNull();
    await expectCode(
      db.transaction({ chatId: CHATS.primary }, (tx) => tx.transaction({}, async () => 1)),
      "INVALID_ARGUMENT",
    );
    await expectCode(
      db.transaction({ chatId: EXT }, async () => 1),
      "READONLY_SOURCE",
    );
    await expectCode(
      db.transaction({ dataSource: "archive" }, async () => 1),
      "READONLY_SOURCE",
    );
    await expectCode(
      db.transaction({ chatID: 1 } as never, async () => 1),
      "INVALID_ARGUMENT",
    );
    let kept: DatabaseWrapper | undefined;
    await db.transaction({}, async (tx) => {
      kept = tx;
    });
    // a transaction's handle is dead once it has ended
    await expectCode((kept as DatabaseWrapper).getChatUser(CHATS.primary, 7), "INVALID_ARGUMENT");
  });

  test("two transactions on one source run one after the other; a read on another source answers meanwhile", async () => {
    await using dir = tempDir();
    await using db = await fixture(dir);
    const order: string[] = [];
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let firstIn = () => {};
    const firstStarted = new Promise<void>((r) => {
      firstIn = r;
    });
    const first = db.transaction({ chatId: CHATS.primary }, async (tx) => {
      order.push("first begins");
      await tx.setChatSetting(CHATS.primary, "who", "first");
      firstIn();
      await held; // spans awaits, holding the connection
      order.push("first commits");
    });
    await firstStarted;
    const second = db.transaction({ chatId: CHATS.primary }, async (tx) => {
      order.push("second begins");
      return tx.getChatSetting(CHATS.primary, "who");
    });
    // a plain call to the same source waits for the first transaction too
    const plain = db.getChatSetting(CHATS.primary, "who").then((v) => {
      order.push(`plain read ${v}`);
    });
    // another source answers while the first transaction holds the primary
    expect((await db.getChatUser(EXT, 2))?.username).toBe("@ext");
    order.push("external answered");
    release();
    await first;
    expect(await second).toBe("first");
    await plain;
    expect(order).toEqual([
      "first begins",
      "external answered",
      "first commits",
      "second begins",
      "plain read first",
    ]);
  });
});

describe.skipIf(!runPg)("db.query and db.transaction on a PostgreSQL primary", () => {
  test("? and :name, ::casts, commit and rollback (batches inside as savepoints)", async () => {
    await using schema = await pgSchema();
    await using db = new DatabaseWrapper({
      config: parseConfig(
        `[database]\ndefault_source = "pg"\n[database.sources.pg]\ntype = "postgres"\nurl = "${schema.url}"\n`,
      ),
    });
    await db.updateChatUser(5, 7, "@ann", "Ann");
    expect(
      await db.query(
        "SELECT username, :id::bigint + 1 AS next FROM chat_users WHERE user_id = :id",
        { id: 7 },
        {},
      ),
    ).toEqual([{ username: "@ann", next: "8", dataSource: "pg" }]);
    expect(await db.query("SELECT ? AS a, '?' AS q", ["x"])).toEqual([
      { a: "x", q: "?", dataSource: "pg" },
    ]);
    await db.transaction({ chatId: 5 }, async (tx) => {
      await tx.saveChatMessage(message(5, 1));
      await tx.query("UPDATE chat_users SET timezone = 'UTC' WHERE user_id = ?", [7], {
        chatId: 5,
        write: true,
      });
    });
    expect((await db.getChatUser(5, 7))?.messagesCount).toBe(1);
    await expect(
      db.transaction({ chatId: 5 }, async (tx) => {
        await tx.saveChatMessage(message(5, 2));
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await db.getChatMessageByMessageId(5, 2)).toBeNull();
    expect((await db.getChatUser(5, 7))?.messagesCount).toBe(1);
  });
});
