import { describe, expect, test } from "bun:test";
import { DatabaseWrapper } from "../src/index.ts";
import { CHATS, multiSourceToml, seedDatabase, tempDir, writeConfig } from "./helpers.ts";

const OTHER = -1001000000002; // unmapped: its home is the default source, primary

async function seedThree(dir: ReturnType<typeof tempDir>) {
  // archive and external hold stale copies of chats whose home is elsewhere
  await seedDatabase(dir.file("archive.db"), async (db) => {
    await db.updateChatInfo(CHATS.archived, { type: "supergroup", title: "archived, at home" });
    await db.updateChatInfo(OTHER, { type: "group", title: "other, stale in archive" });
    await db.updateChatUser(CHATS.archived, 7, "@u", "U");
  });
  await seedDatabase(dir.file("external.db"), async (db) => {
    await db.updateChatInfo(CHATS.primary, { type: "group", title: "primary, stale in external" });
    await db.updateChatInfo(CHATS.archived, {
      type: "group",
      title: "archived, stale in external",
    });
    await db.updateChatUser(CHATS.primary, 7, "@u", "U");
  });
  const db = new DatabaseWrapper({ configPath: writeConfig(dir.path, multiSourceToml()) });
  await db.updateChatInfo(CHATS.primary, { type: "supergroup", title: "primary, at home" });
  await db.updateChatInfo(OTHER, { type: "private", title: "other, at home" });
  await db.updateChatUser(OTHER, 7, "@u", "U");
  return db;
}

describe("aggregation", () => {
  test("keeps the home source's copy of a chat found in several sources", async () => {
    await using dir = tempDir();
    await using db = await seedThree(dir);
    const groups = await db.getAllGroupChats();
    const byChat = new Map(groups.map((g) => [g.chatId, g]));
    expect(groups.length).toBe(byChat.size);
    expect(byChat.get(CHATS.primary)).toMatchObject({
      title: "primary, at home",
      dataSource: "primary",
    });
    expect(byChat.get(CHATS.archived)).toMatchObject({
      title: "archived, at home",
      dataSource: "archive",
    });
    // at home it is private (not a group), so the only group copy is the stale one
    expect(byChat.get(OTHER)).toMatchObject({
      title: "other, stale in archive",
      dataSource: "archive",
    });
  });

  test("merges a user's chats over every source, one copy per chat", async () => {
    await using dir = tempDir();
    await using db = await seedThree(dir);
    const chats = await db.getUserChats(7);
    expect(chats.map((c) => [c.chatId, c.dataSource]).sort()).toEqual(
      [
        [CHATS.primary, "external"], // primary has no chat_users row for user 7 in this chat
        [CHATS.archived, "archive"],
        [OTHER, "primary"],
      ].sort(),
    );
  });

  test("with one source, or with dataSource, returns that source's rows as they are", async () => {
    await using dir = tempDir();
    await using db = await seedThree(dir);
    const fromArchive = await db.getAllGroupChats({ dataSource: "archive" });
    expect(fromArchive.map((c) => c.title).sort()).toEqual([
      "archived, at home",
      "other, stale in archive",
    ]);
    await using single = new DatabaseWrapper(dir.file("archive-copy.db"));
    await single.updateChatInfo(1, { type: "group", title: "one" });
    await single.updateChatInfo(2, { type: "supergroup", title: "two" });
    expect((await single.getAllGroupChats()).map((c) => c.chatId)).toEqual([1, 2]);
  });
});
