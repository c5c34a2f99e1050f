/**
 * The data API with the same expectations on a SQLite primary and a PostgreSQL primary:
 * write, read back, and the true/false/null rules of API.md.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../src/config/load.ts";
import { DatabaseWrapper } from "../src/index.ts";
import { closePgAdmin, pgSchema, runPg } from "./pg.ts";

afterAll(closePgAdmin);

/** A fresh wrapper whose only (default) source is `primary`, disposed with its storage. */
interface Fixture extends AsyncDisposable {
  db: DatabaseWrapper;
}

const engines: { name: string; run: boolean; open(): Promise<Fixture> }[] = [
  {
    name: "sqlite",
    run: true,
    async open() {
      const db = new DatabaseWrapper({
        config: parseConfig('[database.sources.primary]\npath = ":memory:"\n'),
      });
      return { db, [Symbol.asyncDispose]: () => db.close() };
    },
  },
  {
    name: "postgres",
    run: runPg,
    async open() {
      const schema = await pgSchema();
      const db = new DatabaseWrapper({
        config: parseConfig(
          `[database.sources.primary]\ntype = "postgres"\nurl = "${schema.url}"\n`,
        ),
      });
      return {
        db,
        async [Symbol.asyncDispose]() {
          await db.close();
          await schema[Symbol.asyncDispose]();
        },
      };
    },
  },
];

const CHAT = -1001234567890;
const at = (iso: string) => new Date(iso);

for (const engine of engines) {
  describe.skipIf(!engine.run)(`data API on ${engine.name}`, () => {
    test("saves messages once, counts them, and reads them back newest first", async () => {
      await using f = await engine.open();
      const { db } = f;
      await db.updateChatUser(CHAT, 42, "@ann", "Ann");
      const base = { chatId: CHAT, userId: 42, messageText: "hi" };
      expect(
        await db.saveChatMessage({ ...base, messageId: 1, date: at("2026-01-02T10:00:00Z") }),
      ).toBe(true);
      expect(
        await db.saveChatMessage({
          ...base,
          messageId: 2,
          date: at("2026-01-02T10:00:01.250Z"),
          threadId: 5,
          rootMessageId: 1,
          replyId: 1,
        }),
      ).toBe(true);
      expect(
        await db.saveChatMessage({ ...base, messageId: 1, date: at("2026-01-03T00:00:00Z") }),
      ).toBe(false);

      const m = await db.getChatMessageByMessageId(CHAT, 2);
      expect(m).toMatchObject({
        chatId: CHAT,
        messageId: "2",
        userId: 42,
        threadId: 5,
        replyId: "1",
        rootMessageId: "1",
        messageText: "hi",
        messageType: "text",
        messageCategory: "user",
        username: "@ann",
        fullName: "Ann",
        dataSource: "primary",
      });
      expect(m?.date.toISOString()).toBe("2026-01-02T10:00:01.250Z");
      expect(m?.createdAt).toBeInstanceOf(Date);
      expect(await db.getChatMessageByMessageId(CHAT, 3)).toBeNull();
      expect((await db.getChatMessagesByUser(CHAT, 42)).map((x) => x.messageId)).toEqual([
        "2",
        "1",
      ]);
      expect(
        (await db.getChatMessagesByUser(CHAT, 42, { limit: 1 })).map((x) => x.messageId),
      ).toEqual(["2"]);
      expect((await db.getChatUser(CHAT, 42))?.messagesCount).toBe(2);

      const since = await db.getChatMessagesSince(CHAT, {
        since: at("2026-01-02T10:00:00Z"),
        categories: ["user"],
      });
      expect(since.map((x) => x.messageId)).toEqual(["2"]);
      expect(await db.getChatMessagesSince(CHAT, { categories: [] })).toEqual([]);
      expect((await db.getChatMessagesSince(CHAT, { threadId: 5, limit: 10 })).length).toBe(1);
      expect((await db.getChatMessagesByRootId(CHAT, 1)).map((x) => x.messageId)).toEqual(["2"]);
      expect(await db.getChatMessagesByRootId(CHAT, 1, { threadId: 6 })).toEqual([]);
      expect(await db.updateChatMessageCategory(CHAT, 2, "bot")).toBe(true);
      expect(await db.updateChatMessageCategory(CHAT, 9, "bot")).toBe(false);
    });

    test("updateChatUser upserts and keeps createdAt, counters and flags", async () => {
      await using f = await engine.open();
      const { db } = f;
      expect(await db.getChatUser(CHAT, 1)).toBeNull();
      expect(await db.updateChatUser(CHAT, 1, "@old", "Old Name")).toBe(true);
      const first = await db.getChatUser(CHAT, 1);
      expect(await db.markUserIsSpammer(CHAT, 1, true)).toBe(true);
      expect(await db.updateUserMetadata(CHAT, 1, '{"a":1}')).toBe(true);
      await Bun.sleep(5);
      expect(await db.updateChatUser(CHAT, 1, "@new", "New Name")).toBe(true);
      const user = await db.getChatUser(CHAT, 1);
      expect(user).toMatchObject({
        username: "@new",
        fullName: "New Name",
        isSpammer: true,
        metadata: '{"a":1}',
        messagesCount: 0,
      });
      expect(user?.createdAt?.getTime()).toBe(first?.createdAt?.getTime() as number);
      expect((user?.updatedAt as Date) >= (first?.updatedAt as Date)).toBe(true);
      expect((await db.getChatUserByUsername(CHAT, "@new"))?.userId).toBe(1);
      expect(await db.getChatUserByUsername(CHAT, "@old")).toBeNull();
      expect(await db.markUserIsSpammer(CHAT, 2, true)).toBe(false);
      expect((await db.getChatUsers(CHAT, { seenSince: at("2000-01-01T00:00:00Z") })).length).toBe(
        1,
      );
      expect(await db.getChatUsers(CHAT, { seenSince: at("2999-01-01T00:00:00Z") })).toEqual([]);
    });

    test("chat settings and user data are true upserts, deletes report what they did", async () => {
      await using f = await engine.open();
      const { db } = f;
      expect(await db.setChatSetting(CHAT, "lang", "en")).toBe(true);
      expect(await db.setChatSetting(CHAT, "lang", "ru")).toBe(true);
      expect(await db.setChatSetting(CHAT, "tz", "UTC")).toBe(true);
      expect(await db.getChatSetting(CHAT, "lang")).toBe("ru");
      expect(await db.getChatSetting(CHAT, "none")).toBeNull();
      expect(await db.getChatSettings(CHAT)).toEqual({ lang: "ru", tz: "UTC" });
      expect(await db.unsetChatSetting(CHAT, "tz")).toBe(true);
      expect(await db.unsetChatSetting(CHAT, "tz")).toBe(false);
      expect(await db.clearChatSettings(CHAT)).toBe(true);
      expect(await db.getChatSettings(CHAT)).toEqual({});

      expect(await db.addUserData(7, CHAT, "k", "v1")).toBe(true);
      expect(await db.addUserData(7, CHAT, "k", "v2")).toBe(true);
      expect(await db.addUserData(7, CHAT, "j", "w")).toBe(true);
      expect(await db.getUserData(7, CHAT)).toEqual({ j: "w", k: "v2" });
      expect(await db.deleteUserData(7, CHAT, "j")).toBe(true);
      expect(await db.clearUserData(7, CHAT)).toBe(true);
      expect(await db.clearUserData(7, CHAT)).toBe(false);

      expect(await db.setSetting("global", "1")).toBe(true);
      expect(await db.getSetting("global")).toBe("1");
      expect(await db.getSetting("missing", { default: "d" })).toBe("d");
    });

    test("chat info, topics and summaries round-trip", async () => {
      await using f = await engine.open();
      const { db } = f;
      expect(await db.getChatInfo(CHAT)).toBeNull();
      expect(await db.updateChatInfo(CHAT, { type: "supergroup", title: "T", isForum: true })).toBe(
        true,
      );
      const first = await db.getChatInfo(CHAT);
      expect(first).toMatchObject({
        chatId: CHAT,
        type: "supergroup",
        title: "T",
        username: null,
        isForum: true,
      });
      expect(await db.updateChatInfo(CHAT, { type: "supergroup", username: "tt" })).toBe(true);
      const info = await db.getChatInfo(CHAT);
      expect(info).toMatchObject({ title: null, username: "tt", isForum: false });
      expect(info?.createdAt?.getTime()).toBe(first?.createdAt?.getTime() as number);

      expect(await db.updateChatTopicInfo(CHAT, 3, { name: "Three", iconColor: 7 })).toBe(true);
      expect(await db.updateChatTopicInfo(CHAT, 1)).toBe(true);
      const topics = await db.getChatTopics(CHAT);
      expect(topics.map((t) => [t.topicId, t.name, t.iconColor])).toEqual([
        [1, "Default", null],
        [3, "Three", 7],
      ]);

      const key = { chatId: CHAT, topicId: null, firstMessageId: 1, lastMessageId: 9, prompt: "p" };
      expect(await db.getChatSummarization(key)).toBeNull();
      expect(await db.addChatSummarization({ ...key, summary: "s1" })).toBe(true);
      expect(await db.addChatSummarization({ ...key, summary: "s2" })).toBe(true);
      expect(await db.getChatSummarization(key)).toMatchObject({
        summary: "s2",
        topicId: null,
        firstMessageId: "1",
      });
    });

    test("media attachments and delayed tasks: insert-only, partial updates", async () => {
      await using f = await engine.open();
      const { db } = f;
      expect(await db.addMediaAttachment({ fileUniqueId: "u1", fileId: "f1", fileSize: 10 })).toBe(
        true,
      );
      expect(await db.addMediaAttachment({ fileUniqueId: "u1", fileId: "f2" })).toBe(false);
      expect(await db.updateMediaAttachment("u1", { status: "done", description: "a cat" })).toBe(
        true,
      );
      expect(await db.updateMediaAttachment("nope", { status: "done" })).toBe(false);
      expect(await db.getMediaAttachment("u1")).toMatchObject({
        fileId: "f1",
        fileSize: 10,
        status: "done",
        description: "a cat",
        prompt: null,
        dataSource: "primary",
      });

      expect(await db.addDelayedTask("t1", "send", "{}", 200)).toBe(true);
      expect(await db.addDelayedTask("t2", "send", "{}", 100)).toBe(true);
      expect(await db.addDelayedTask("t1", "send", "{}", 300)).toBe(false);
      expect((await db.getPendingDelayedTasks()).map((t) => [t.id, t.delayedTs, t.isDone])).toEqual(
        [
          ["t2", 100, false],
          ["t1", 200, false],
        ],
      );
      expect(await db.updateDelayedTask("t2", true)).toBe(true);
      expect((await db.getPendingDelayedTasks()).map((t) => t.id)).toEqual(["t1"]);
    });

    test("spam: insert-only, read by user, by text and across sources", async () => {
      await using f = await engine.open();
      const { db } = f;
      const s = {
        chatId: CHAT,
        userId: 5,
        messageId: 1,
        text: "buy",
        reason: "bayes",
        score: 0.75,
      };
      expect(await db.addSpamMessage(s)).toBe(true);
      expect(await db.addSpamMessage(s)).toBe(false);
      expect(await db.addSpamMessage({ ...s, messageId: "2" })).toBe(true);
      expect(await db.addHamMessage(s)).toBe(true);
      const byUser = await db.getSpamMessagesByUserId(CHAT, 5);
      expect(byUser.map((m) => [m.messageId, m.score])).toEqual([
        ["1", 0.75],
        ["2", 0.75],
      ]);
      expect((await db.getSpamMessagesByText("buy")).length).toBe(2);
      const all = await db.getSpamMessages({ limit: 10 });
      expect(all.length).toBe(2);
      expect(all[0]).toMatchObject({
        chatId: CHAT,
        userId: 5,
        reason: "bayes",
        dataSource: "primary",
      });
      expect(await db.deleteSpamMessagesByUserId(CHAT, 5)).toBe(true);
      expect(await db.getSpamMessages()).toEqual([]);
    });

    test("cache storage and typed caches, with ttl", async () => {
      await using f = await engine.open();
      const { db } = f;
      expect(await db.setCacheStorage("ns", "a", "1")).toBe(true);
      expect(await db.setCacheStorage("ns", "a", "2")).toBe(true);
      expect(await db.setCacheStorage("ns", "b", "3")).toBe(true);
      const entries = await db.getCacheStorage();
      expect(entries.map((e) => [e.namespace, e.key, e.value]).sort()).toEqual([
        ["ns", "a", "2"],
        ["ns", "b", "3"],
      ]);
      expect(entries[0]?.updatedAt).toBeInstanceOf(Date);
      expect(await db.unsetCacheStorage("ns", "b")).toBe(true);
      expect(await db.unsetCacheStorage("ns", "b")).toBe(false);

      expect(await db.getCacheEntry("k", "weather")).toBeNull();
      expect(await db.setCacheEntry("k", "sunny", "weather")).toBe(true);
      expect(await db.setCacheEntry("k", "rain", "weather")).toBe(true);
      expect(await db.getCacheEntry("k", "weather")).toMatchObject({
        key: "k",
        data: "rain",
        dataSource: "primary",
      });
      expect((await db.getCacheEntry("k", "weather", { ttl: 60 }))?.data).toBe("rain");
      expect(await db.getCacheEntry("k", "weather", { ttl: 0 })).toBeNull();
      await Bun.sleep(30);
      expect(await db.getCacheEntry("k", "weather", { ttl: 0.01 })).toBeNull();
      expect(await db.getCacheEntry("k", "geocoding")).toBeNull();
      expect(await db.clearCache("weather")).toBe(true);
      expect(await db.getCacheEntry("k", "weather")).toBeNull();
    });
  });
}
