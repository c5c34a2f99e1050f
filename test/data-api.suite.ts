/**
 * The data API contract, as one suite that any primary can run: every public data method of
 * DatabaseWrapper writes through chatdb and reads back, routed by chat, by default and by
 * `dataSource`; every write is refused on a readonly source; aggregation picks the home copy;
 * bad input is rejected. `test/data-api.test.ts` runs it twice with the same expectations:
 * a SQLite primary, and a PostgreSQL primary (a fresh schema per test) next to the same
 * SQLite archive and external bot. Where the engines truly differ (U+0000 in text, key
 * length), a flag says which rule to expect.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { DatabaseWrapper, type WrapperEvents } from "../src/index.ts";
import { METHODS2 } from "./gromozeka-methods2.suite.ts";
import { CHATS, expectCode, seedDatabase, tempDir, waitFor, writeConfig } from "./helpers.ts";

/** Chats of the suite's setup and the source each routes to. */
export const SUITE_CHATS = {
  /** unmapped → the default source (primary) */
  primary: CHATS.primary,
  /** mapped → archive (readonly) */
  archived: CHATS.archived,
  /** mapped → external (readonly): its home is the last source in config order */
  external: -1001000000002,
  /** unmapped, but stored only in the readonly sources: it has no home copy */
  homeless: -1001000000003,
} as const;

/**
 * Builds the config for one test in `dir`. It must declare, in this order:
 * `primary` (writable, empty), `archive` (readonly, `${dir}/archive.db`) and `external`
 * (readonly, `${dir}/external.db`); map SUITE_CHATS.archived → archive and
 * SUITE_CHATS.external → external; and set `default_source` to `defaultSource`.
 * A primary that lives outside `dir` (a fresh PostgreSQL schema) returns its TOML with a
 * dispose that removes it after the test.
 */
export type MakeConfigToml = (
  dir: string,
  opts: { defaultSource: string },
) => string | Promise<string | ({ toml: string } & AsyncDisposable)>;

const { primary: PRIM, archived: ARCH, external: EXTC, homeless: LOOSE } = SUITE_CHATS;
const D0 = new Date("2025-01-02T03:04:05.000Z");
const at = (seconds: number) => new Date(D0.getTime() + seconds * 1000);

/** What the archive holds: ARCH's data, stale copies of other chats, default-source data. */
async function seedArchive(w: DatabaseWrapper): Promise<void> {
  await w.updateChatUser(ARCH, 1, "@arch", "Archived User");
  await w.saveChatMessage({
    date: D0,
    chatId: ARCH,
    userId: 1,
    messageId: 100,
    messageText: "archived hello",
    rootMessageId: 100,
  });
  await w.setChatSetting(ARCH, "from", "archive");
  await w.addUserData(1, ARCH, "from", "archive");
  await w.updateChatInfo(ARCH, { type: "supergroup", title: "Archive chat" });
  await w.updateChatTopicInfo(ARCH, 5, { name: "Archived topic" });
  await w.addChatSummarization({
    chatId: ARCH,
    topicId: null,
    firstMessageId: 1,
    lastMessageId: 100,
    prompt: "p",
    summary: "archived summary",
  });
  await w.addSpamMessage({
    chatId: ARCH,
    userId: 1,
    messageId: 100,
    text: "buy now",
    reason: "ml",
    score: 0.9,
  });
  for (const [chatId, title] of [
    [PRIM, "stale archive copy"],
    [EXTC, "stale archive copy"],
    [LOOSE, "archive copy"],
  ] as const) {
    await w.updateChatInfo(chatId, { type: "group", title });
    await w.updateChatUser(chatId, 1, "@u", "U");
    await w.addSpamMessage({
      chatId,
      userId: 1,
      messageId: 1,
      text: title,
      reason: "ml",
      score: 0.5,
    });
  }
  await w.setSetting("from", "archive");
  await w.setCacheStorage("ns", "shared", "archive");
  await w.setCacheStorage("ns", "arch-ext", "archive");
  await w.setCacheEntry("arch-ext", "archive", "weather");
}

/** What the external bot holds: PRIM's data (read with dataSource), EXTC's, stale copies. */
async function seedExternal(w: DatabaseWrapper): Promise<void> {
  await w.updateChatUser(PRIM, 1, "@ext", "External User");
  await w.saveChatMessage({
    date: D0,
    chatId: PRIM,
    userId: 1,
    messageId: 100,
    messageText: "external hello",
    rootMessageId: 100,
  });
  await w.setChatSetting(PRIM, "from", "external");
  await w.addUserData(1, PRIM, "from", "external");
  await w.updateChatTopicInfo(PRIM, 5, { name: "External topic" });
  await w.addChatSummarization({
    chatId: PRIM,
    topicId: null,
    firstMessageId: 1,
    lastMessageId: 100,
    prompt: "p",
    summary: "external summary",
  });
  await w.addSpamMessage({
    chatId: PRIM,
    userId: 1,
    messageId: 100,
    text: "buy now",
    reason: "ml",
    score: 0.8,
  });
  for (const [chatId, type, title] of [
    [PRIM, "group", "stale external copy"],
    [ARCH, "supergroup", "stale external copy"],
    [EXTC, "supergroup", "External chat"],
    [LOOSE, "group", "external copy"],
    [1, "private", "Private chat with user 1"],
  ] as const) {
    await w.updateChatInfo(chatId, { type, title });
    if (chatId !== PRIM) await w.updateChatUser(chatId, 1, "@u", "U");
  }
  for (const [chatId, text] of [
    [ARCH, "stale external copy"],
    [EXTC, "External chat"],
    [LOOSE, "external copy"],
  ] as const) {
    await w.addSpamMessage({
      chatId,
      userId: 1,
      messageId: chatId === ARCH ? 100 : 1,
      text,
      reason: "ml",
      score: 0.5,
    });
  }
  await w.setSetting("from", "external");
  await w.addMediaAttachment({ fileUniqueId: "file-1", fileId: "external" });
  await w.addDelayedTask("task-1", "external", "{}", 1000);
  await w.setCacheStorage("ns", "shared", "external");
  await w.setCacheStorage("ns", "arch-ext", "external");
  await w.setCacheStorage("ns", "ext-only", "external");
  await w.setCacheEntry("arch-ext", "external", "weather");
  await w.setCacheEntry("ext-only", "external", "weather");
}

/**
 * Where a read's result came from: the `dataSource` of its records, or the value stored
 * under "from" (each seeded source stores its own name there); "nothing" when empty.
 */
export function origin(x: unknown): string {
  if (x === null || x === undefined) return "nothing";
  if (typeof x === "string") return x;
  if (Array.isArray(x)) return x.length === 0 ? "nothing" : [...new Set(x.map(origin))].join(",");
  const record = x as Record<string, unknown>;
  if (typeof record.dataSource === "string") return record.dataSource;
  return typeof record.from === "string" ? record.from : "nothing";
}

export function dataApiSuite(
  name: string,
  makeConfigToml: MakeConfigToml,
  opts: {
    skip?: boolean;
    /** The engine stores U+0000 in text (SQLite); PostgreSQL refuses it with INVALID_ARGUMENT. */
    nulInText?: boolean;
    /**
     * Primary-key columns take any length (SQLite); PostgreSQL's B-tree refuses a key over
     * ~2.7 kB with INVALID_ARGUMENT (values that are not keys take any length on both).
     */
    hugeKeys?: boolean;
    /**
     * markUserIsSpammer turns metadata that starts like an object but is not JSON ("{broken")
     * into {} (SQLite: json_valid). KNOWN BUG on PostgreSQL: its statement casts such text to
     * jsonb and fails with QUERY_FAILED (PostgreSQL 15 has no non-raising JSON test); the
     * suite then asserts that refusal changes nothing.
     */
    malformedJsonMetadata?: boolean;
  } = {},
): void {
  const nulInText = opts.nulInText ?? true;
  const hugeKeys = opts.hugeKeys ?? true;
  const malformedJsonMetadata = opts.malformedJsonMetadata ?? true;
  describe.skipIf(opts.skip ?? false)(`data API (${name})`, () => {
    // The readonly files are seeded once, through chatdb, and copied into each test's folder.
    const templates = tempDir("chatdb-seed-");
    beforeAll(async () => {
      await seedDatabase(templates.file("archive.db"), seedArchive);
      await seedDatabase(templates.file("external.db"), seedExternal);
    });
    afterAll(() => templates[Symbol.dispose]());

    /** A fresh folder with the seeded readonly files, and a wrapper over it. */
    async function setup(
      opts: {
        defaultSource?: string;
        before?: (dir: ReturnType<typeof tempDir>) => void;
        /** false: only the calls look at the files (no watcher reporting a change first). */
        watchSources?: boolean;
      } = {},
    ) {
      const dir = tempDir();
      for (const f of ["archive.db", "external.db"]) copyFileSync(templates.file(f), dir.file(f));
      opts.before?.(dir);
      const made = await makeConfigToml(dir.path, {
        defaultSource: opts.defaultSource ?? "primary",
      });
      const toml = typeof made === "string" ? made : made.toml;
      const db = new DatabaseWrapper({
        configPath: writeConfig(dir.path, toml),
        watchSources: opts.watchSources ?? true,
      });
      const events: WrapperEvents["sourceError"][0][] = [];
      db.on("sourceError", (e) => events.push(e));
      return {
        db,
        dir,
        events,
        async [Symbol.asyncDispose]() {
          await db.close();
          if (typeof made !== "string") await made[Symbol.asyncDispose]();
          dir[Symbol.dispose]();
        },
      };
    }

    describe("global settings", () => {
      test("setSetting writes to the default source; getSetting and getSettings read it back", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.setSetting("from", "primary")).toBe(true);
        expect(await db.setSetting("other", "x")).toBe(true);
        expect(await db.getSetting("from")).toBe("primary");
        expect(await db.getSetting("missing")).toBeNull();
        expect(await db.getSetting("missing", { default: "fallback" })).toBe("fallback");
        const all = await db.getSettings();
        expect(all).toMatchObject({ from: "primary", other: "x", "db-migration-version": "18" });
        expect(await db.setSetting("from", "again")).toBe(true);
        expect(await db.getSetting("from")).toBe("again");
        expect(await db.getSetting("from", { dataSource: "external" })).toBe("external");
      });
    });

    describe("chat messages", () => {
      test("saveChatMessage stores every field; getChatMessageByMessageId reads them back", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.updateChatUser(PRIM, 7, "@ann", "Ann");
        const date = new Date("2025-03-04T05:06:07.089Z");
        expect(
          await db.saveChatMessage({
            date,
            chatId: PRIM,
            userId: 7,
            messageId: 501,
            messageText: "hello",
            replyId: 500,
            threadId: 3,
            messageType: "photo",
            messageCategory: "bot",
            rootMessageId: "500",
            quoteText: "quoted",
            mediaId: "media-1",
          }),
        ).toBe(true);
        const m = await db.getChatMessageByMessageId(PRIM, 501);
        expect(m).toEqual({
          chatId: PRIM,
          messageId: "501",
          date,
          userId: 7,
          replyId: "500",
          threadId: 3,
          rootMessageId: "500",
          messageText: "hello",
          messageType: "photo",
          messageCategory: "bot",
          quoteText: "quoted",
          mediaId: "media-1",
          mediaGroupId: null,
          markup: "",
          metadata: "",
          createdAt: expect.any(Date),
          username: "@ann",
          fullName: "Ann",
          dataSource: "primary",
        });
        // a string id finds the same row; defaults fill the optional fields
        expect((await db.getChatMessageByMessageId(PRIM, "501"))?.messageId).toBe("501");
        await db.saveChatMessage({ date, chatId: PRIM, userId: 8, messageId: "x-1" });
        expect(await db.getChatMessageByMessageId(PRIM, "x-1")).toMatchObject({
          messageText: "",
          threadId: 0,
          replyId: null,
          rootMessageId: null,
          messageType: "text",
          messageCategory: "user",
          username: null, // no chat_users row: still returned
        });
        expect(await db.getChatMessageByMessageId(PRIM, 999)).toBeNull();
        // the author's counter was bumped in the same transaction
        expect((await db.getChatUser(PRIM, 7))?.messagesCount).toBe(1);
      });

      test("a duplicate saveChatMessage resolves false and changes nothing", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.updateChatUser(PRIM, 7, "@ann", "Ann");
        const m = { date: D0, chatId: PRIM, userId: 7, messageId: 1, messageText: "first" };
        expect(await db.saveChatMessage(m)).toBe(true);
        expect(await db.saveChatMessage({ ...m, messageText: "second" })).toBe(false);
        expect(await db.saveChatMessage({ ...m, messageId: "1", messageText: "third" })).toBe(
          false,
        );
        expect((await db.getChatMessageByMessageId(PRIM, 1))?.messageText).toBe("first");
        expect((await db.getChatUser(PRIM, 7))?.messagesCount).toBe(1);
        // the same message id in another chat is another message
        expect(await db.saveChatMessage({ ...m, chatId: PRIM + 1 })).toBe(true);
      });

      test("getChatMessagesByUser returns the user's messages newest first, up to limit", async () => {
        await using fx = await setup();
        const { db } = fx;
        for (let i = 1; i <= 5; i++) {
          await db.saveChatMessage({ date: at(i), chatId: PRIM, userId: 7, messageId: i });
        }
        await db.saveChatMessage({ date: at(9), chatId: PRIM, userId: 8, messageId: 9 });
        const ids = (rows: { messageId: string }[]) => rows.map((r) => r.messageId);
        expect(ids(await db.getChatMessagesByUser(PRIM, 7))).toEqual(["5", "4", "3", "2", "1"]);
        expect(ids(await db.getChatMessagesByUser(PRIM, 7, { limit: 2 }))).toEqual(["5", "4"]);
        expect(await db.getChatMessagesByUser(PRIM, 7, { limit: 0 })).toEqual([]);
        expect(origin(await db.getChatMessagesByUser(PRIM, 7))).toBe("primary");
      });

      test("getChatMessagesSince filters by time (exclusive), thread and category", async () => {
        await using fx = await setup();
        const { db } = fx;
        for (let i = 1; i <= 6; i++) {
          await db.saveChatMessage({
            date: at(i),
            chatId: PRIM,
            userId: 7,
            messageId: i,
            threadId: i % 2,
            messageCategory: i <= 3 ? "user" : "bot",
          });
        }
        const ids = async (opts: Parameters<typeof db.getChatMessagesSince>[1]) =>
          (await db.getChatMessagesSince(PRIM, opts)).map((r) => Number(r.messageId));
        expect(await ids({})).toEqual([6, 5, 4, 3, 2, 1]);
        expect(await ids({ since: at(2), till: at(5) })).toEqual([4, 3]);
        expect(await ids({ threadId: 0 })).toEqual([6, 4, 2]);
        expect(await ids({ categories: ["bot"] })).toEqual([6, 5, 4]);
        expect(await ids({ categories: ["bot", "user"], limit: 2 })).toEqual([6, 5]);
        expect(await ids({ categories: [] })).toEqual([]);
        expect(await ids({ since: at(1), threadId: 1, categories: ["user"] })).toEqual([3]);
      });

      test("getChatMessagesByRootId returns a thread's replies oldest first", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.saveChatMessage({ date: at(1), chatId: PRIM, userId: 7, messageId: 10 });
        for (const [id, s, thread] of [
          [13, 4, 2],
          [11, 2, 1],
          [12, 3, 1],
        ] as const) {
          await db.saveChatMessage({
            date: at(s),
            chatId: PRIM,
            userId: 7,
            messageId: id,
            rootMessageId: 10,
            threadId: thread,
          });
        }
        const ids = (rows: { messageId: string }[]) => rows.map((r) => r.messageId);
        expect(ids(await db.getChatMessagesByRootId(PRIM, 10))).toEqual(["11", "12", "13"]);
        expect(ids(await db.getChatMessagesByRootId(PRIM, "10", { threadId: 1 }))).toEqual([
          "11",
          "12",
        ]);
        expect(await db.getChatMessagesByRootId(PRIM, 11)).toEqual([]);
      });

      test("updateChatMessageCategory changes one message; false when there is none", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.saveChatMessage({ date: D0, chatId: PRIM, userId: 7, messageId: 1 });
        expect(await db.updateChatMessageCategory(PRIM, 1, "deleted")).toBe(true);
        expect((await db.getChatMessageByMessageId(PRIM, 1))?.messageCategory).toBe("deleted");
        expect(await db.updateChatMessageCategory(PRIM, 2, "deleted")).toBe(false);
      });
    });

    describe("chat users", () => {
      test("updateChatUser creates, then renames keeping counters, metadata, spammer flag and createdAt", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.updateChatUser(PRIM, 7, "@ann", "Ann")).toBe(true);
        const created = await db.getChatUser(PRIM, 7);
        expect(created).toMatchObject({
          chatId: PRIM,
          userId: 7,
          username: "@ann",
          fullName: "Ann",
          timezone: null,
          messagesCount: 0,
          isSpammer: false,
          metadata: "",
          dataSource: "primary",
        });
        await db.saveChatMessage({ date: D0, chatId: PRIM, userId: 7, messageId: 1 });
        // updateUserMetadata replaces the whole text, so the flag is set after it (json_set
        // into the metadata, the other keys kept)
        await db.updateUserMetadata(PRIM, 7, '{"a":1}');
        await db.markUserIsSpammer(PRIM, 7, true);
        const t = Date.now();
        await waitFor("the clock to move", () => Date.now() > t + 2);
        expect(await db.updateChatUser(PRIM, 7, "@anna", "Anna")).toBe(true);
        const renamed = await db.getChatUser(PRIM, 7);
        expect(renamed).toMatchObject({
          username: "@anna",
          fullName: "Anna",
          messagesCount: 1,
          isSpammer: true,
          createdAt: created?.createdAt,
        });
        expect(JSON.parse(renamed?.metadata ?? "")).toEqual({ a: 1, isSpammer: true });
        expect(renamed?.updatedAt?.getTime()).toBeGreaterThan(created?.updatedAt?.getTime() ?? 0);
        expect(await db.getChatUser(PRIM, 8)).toBeNull();
      });

      test("getChatUserByUsername matches the whole name case-insensitively, in the chat only", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.updateChatUser(PRIM, 7, "@Ann", "Ann");
        await db.updateChatUser(PRIM + 1, 8, "@Ann", "Other chat");
        for (const name of ["@Ann", "@ann", "@ANN"]) {
          expect(await db.getChatUserByUsername(PRIM, name)).toMatchObject({
            userId: 7,
            username: "@Ann",
            dataSource: "primary",
          });
        }
        expect(await db.getChatUserByUsername(PRIM, "Ann")).toBeNull();
        expect(await db.getChatUserByUsername(PRIM, "@An")).toBeNull();
        expect(await db.getChatUserByUsername(PRIM + 2, "@ann")).toBeNull();
        // several names differing only in case: the lowest user id wins
        await db.updateChatUser(PRIM, 5, "@ANN", "Ann too");
        expect((await db.getChatUserByUsername(PRIM, "@ann"))?.userId).toBe(5);
      });

      test("getChatUsers lists the most recently seen first, all unless a limit, seen since a time", async () => {
        await using fx = await setup();
        const { db } = fx;
        for (let i = 1; i <= 12; i++) await db.updateChatUser(PRIM, i, `@u${i}`, `U${i}`);
        const t = Date.now();
        await waitFor("the clock to move", () => Date.now() > t + 2);
        const since = new Date();
        await waitFor("the clock to move", () => Date.now() > since.getTime() + 2);
        await db.updateChatUser(PRIM, 3, "@u3", "U3 again");
        const list = await db.getChatUsers(PRIM);
        expect(list).toHaveLength(12); // no default limit, as gromozeka
        expect(list[0]?.userId).toBe(3);
        expect(origin(list)).toBe("primary");
        expect((await db.getChatUsers(PRIM, { limit: 10 })).length).toBe(10);
        expect((await db.getChatUsers(PRIM, { seenSince: since })).map((u) => u.userId)).toEqual([
          3,
        ]);
      });

      test("markUserIsSpammer and updateUserMetadata change the user; false when there is none", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.updateChatUser(PRIM, 7, "@ann", "Ann");
        expect(await db.markUserIsSpammer(PRIM, 7, true)).toBe(true);
        expect((await db.getChatUser(PRIM, 7))?.isSpammer).toBe(true);
        expect(await db.markUserIsSpammer(PRIM, 7, false)).toBe(true);
        expect((await db.getChatUser(PRIM, 7))?.isSpammer).toBe(false);
        expect(await db.updateUserMetadata(PRIM, 7, '{"lang":"en"}')).toBe(true);
        expect((await db.getChatUser(PRIM, 7))?.metadata).toBe('{"lang":"en"}');
        expect(await db.markUserIsSpammer(PRIM, 8, true)).toBe(false);
        expect(await db.updateUserMetadata(PRIM, 8, "{}")).toBe(false);
      });

      test("markUserIsSpammer keeps the other metadata keys; metadata that is not a JSON object becomes {} first; updateUserMetadata replaces it all", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.updateChatUser(PRIM, 7, "@ann", "Ann");
        const metadata = async () => (await db.getChatUser(PRIM, 7))?.metadata ?? "";
        expect(await metadata()).toBe("");
        await db.updateUserMetadata(PRIM, 7, '{"lang":"en","n":[1,2]}');
        expect(await db.markUserIsSpammer(PRIM, 7, true)).toBe(true);
        expect(JSON.parse(await metadata())).toEqual({ lang: "en", n: [1, 2], isSpammer: true });
        // an object after white space is still an object
        await db.updateUserMetadata(PRIM, 7, ' \n {"k":1}');
        expect(await db.markUserIsSpammer(PRIM, 7, true)).toBe(true);
        expect(JSON.parse(await metadata())).toEqual({ k: 1, isSpammer: true });
        for (const bad of ["", "not json", "[1]", "42", '"s"', " {", "{broken"]) {
          if (bad.trimStart().startsWith("{") && !malformedJsonMetadata) {
            await db.updateUserMetadata(PRIM, 7, bad);
            await expectCode(db.markUserIsSpammer(PRIM, 7, true), "QUERY_FAILED");
            expect(await metadata()).toBe(bad);
            continue;
          }
          expect(await db.updateUserMetadata(PRIM, 7, bad)).toBe(true);
          expect(await metadata()).toBe(bad);
          expect((await db.getChatUser(PRIM, 7))?.isSpammer).toBe(false);
          expect(await db.markUserIsSpammer(PRIM, 7, true)).toBe(true);
          expect([bad, JSON.parse(await metadata())]).toEqual([bad, { isSpammer: true }]);
          expect((await db.getChatUser(PRIM, 7))?.isSpammer).toBe(true);
        }
        // the whole text is replaced: the flag goes with it
        expect(await db.updateUserMetadata(PRIM, 7, '{"lang":"de"}')).toBe(true);
        expect(await db.getChatUser(PRIM, 7)).toMatchObject({
          metadata: '{"lang":"de"}',
          isSpammer: false,
        });
      });
    });

    describe("user data", () => {
      test("addUserData upserts keys; getUserData, deleteUserData and clearUserData", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.addUserData(7, PRIM, "a", "1")).toBe(true);
        expect(await db.addUserData(7, PRIM, "b", "2")).toBe(true);
        expect(await db.addUserData(7, PRIM, "a", "1b")).toBe(true);
        expect(await db.addUserData(8, PRIM, "a", "other user")).toBe(true);
        expect(await db.getUserData(7, PRIM)).toEqual({ a: "1b", b: "2" });
        expect(await db.deleteUserData(7, PRIM, "a")).toBe(true);
        expect(await db.deleteUserData(7, PRIM, "a")).toBe(false);
        expect(await db.getUserData(7, PRIM)).toEqual({ b: "2" });
        expect(await db.clearUserData(7, PRIM)).toBe(true);
        expect(await db.clearUserData(7, PRIM)).toBe(false);
        expect(await db.getUserData(7, PRIM)).toEqual({});
        expect(await db.getUserData(8, PRIM)).toEqual({ a: "other user" });
      });
    });

    describe("chat settings", () => {
      test("setChatSetting upserts; getChatSetting, getChatSettings, unset and clear", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.setChatSetting(PRIM, "lang", "en")).toBe(true);
        expect(await db.setChatSetting(PRIM, "model", "gpt")).toBe(true);
        expect(await db.setChatSetting(PRIM, "lang", "de")).toBe(true);
        expect(await db.setChatSetting(PRIM + 1, "lang", "fr")).toBe(true);
        expect(await db.getChatSetting(PRIM, "lang")).toBe("de");
        expect(await db.getChatSetting(PRIM, "missing")).toBeNull();
        expect(await db.getChatSettings(PRIM)).toEqual({ lang: "de", model: "gpt" });
        expect(await db.unsetChatSetting(PRIM, "lang")).toBe(true);
        expect(await db.unsetChatSetting(PRIM, "lang")).toBe(false);
        expect(await db.getChatSettings(PRIM)).toEqual({ model: "gpt" });
        expect(await db.clearChatSettings(PRIM)).toBe(true);
        expect(await db.clearChatSettings(PRIM)).toBe(false);
        expect(await db.getChatSettings(PRIM)).toEqual({});
        expect(await db.getChatSetting(PRIM + 1, "lang")).toBe("fr");
      });
    });

    describe("chat info and topics", () => {
      test("updateChatInfo overwrites every field and keeps createdAt; getChatInfo reads it", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(
          await db.updateChatInfo(PRIM, {
            type: "supergroup",
            title: "Chat",
            username: "chat",
            isForum: true,
          }),
        ).toBe(true);
        const first = await db.getChatInfo(PRIM);
        expect(first).toMatchObject({
          chatId: PRIM,
          type: "supergroup",
          title: "Chat",
          username: "chat",
          isForum: true,
          dataSource: "primary",
        });
        expect(await db.updateChatInfo(PRIM, { type: "group" })).toBe(true);
        expect(await db.getChatInfo(PRIM)).toMatchObject({
          type: "group",
          title: null,
          username: null,
          isForum: false,
          createdAt: first?.createdAt,
        });
        expect(await db.getChatInfo(PRIM + 1)).toBeNull();
      });

      test("updateChatTopicInfo upserts topics; getChatTopics lists them by topic id", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(
          await db.updateChatTopicInfo(PRIM, 9, {
            iconColor: 0xff0000,
            customEmojiId: "e",
            name: "Nine",
          }),
        ).toBe(true);
        expect(await db.updateChatTopicInfo(PRIM, 2)).toBe(true);
        expect(await db.updateChatTopicInfo(PRIM, 9, { name: "Nine!" })).toBe(true);
        const topics = await db.getChatTopics(PRIM);
        expect(topics.map((t) => [t.topicId, t.name, t.iconColor, t.iconCustomEmojiId])).toEqual([
          [2, "Default", null, null],
          [9, "Nine!", null, null],
        ]);
        expect(origin(topics)).toBe("primary");
        expect(await db.getChatTopics(PRIM + 1)).toEqual([]);
      });
    });

    describe("summarization cache", () => {
      test("addChatSummarization upserts by key; getChatSummarization reads it back", async () => {
        await using fx = await setup();
        const { db } = fx;
        const key = {
          chatId: PRIM,
          topicId: 3,
          firstMessageId: 1,
          lastMessageId: "20",
          prompt: "tl;dr",
        };
        expect(await db.addChatSummarization({ ...key, summary: "v1" })).toBe(true);
        expect(await db.addChatSummarization({ ...key, summary: "v2" })).toBe(true);
        expect(await db.getChatSummarization(key)).toMatchObject({
          chatId: PRIM,
          topicId: 3,
          firstMessageId: "1",
          lastMessageId: "20",
          prompt: "tl;dr",
          summary: "v2",
          dataSource: "primary",
        });
        // the key is gromozeka's SHA-512 CSID: 128 hex digits
        expect((await db.getChatSummarization(key))?.csid).toMatch(/^[0-9a-f]{128}$/);
        expect(await db.getChatSummarization({ ...key, topicId: null })).toBeNull();
        expect(await db.getChatSummarization({ ...key, prompt: "other" })).toBeNull();
      });
    });

    describe("media attachments", () => {
      test("addMediaAttachment is insert-only; updateMediaAttachment sets given fields", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(
          await db.addMediaAttachment({
            fileUniqueId: "u1",
            fileId: "f1",
            fileSize: 1234,
            mimeType: "image/png",
          }),
        ).toBe(true);
        expect(await db.addMediaAttachment({ fileUniqueId: "u1", fileId: "other" })).toBe(false);
        expect(await db.getMediaAttachment("u1")).toMatchObject({
          fileUniqueId: "u1",
          fileId: "f1",
          fileSize: 1234,
          mediaType: "image",
          metadata: "{}",
          status: "new",
          mimeType: "image/png",
          localUrl: null,
          prompt: null,
          description: null,
          dataSource: "primary",
        });
        expect(await db.updateMediaAttachment("u1", { status: "done", description: "a cat" })).toBe(
          true,
        );
        expect(await db.getMediaAttachment("u1")).toMatchObject({
          status: "done",
          description: "a cat",
          fileSize: 1234,
          mimeType: "image/png",
        });
        expect(await db.updateMediaAttachment("nope", { status: "done" })).toBe(false);
        expect(await db.getMediaAttachment("nope")).toBeNull();
      });
    });

    describe("delayed tasks", () => {
      test("addDelayedTask is insert-only; updateDelayedTask marks done; pending ones by due time", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.addDelayedTask("b", "send", '{"x":1}', 2000)).toBe(true);
        expect(await db.addDelayedTask("a", "send", "{}", 3000)).toBe(true);
        expect(await db.addDelayedTask("c", "send", "{}", 1000)).toBe(true);
        expect(await db.addDelayedTask("a", "other", "{}", 1)).toBe(false);
        const pending = await db.getPendingDelayedTasks();
        expect(pending.map((t) => [t.id, t.delayedTs, t.function])).toEqual([
          ["c", 1000, "send"],
          ["b", 2000, "send"],
          ["a", 3000, "send"],
        ]);
        expect(pending[1]).toMatchObject({
          kwargs: '{"x":1}',
          isDone: false,
          dataSource: "primary",
        });
        expect(await db.updateDelayedTask("c", true)).toBe(true);
        expect((await db.getPendingDelayedTasks()).map((t) => t.id)).toEqual(["b", "a"]);
        expect(await db.updateDelayedTask("zzz", true)).toBe(false);
      });
    });

    describe("spam and ham", () => {
      test("addSpamMessage is insert-only (confidence 1 unless given); read by user and by whole text case-insensitively; deleteSpamMessagesByUserId", async () => {
        await using fx = await setup();
        const { db } = fx;
        const s = {
          chatId: PRIM,
          userId: 7,
          messageId: 1,
          text: "cheap pills",
          reason: "bayes",
          score: 0.97,
        };
        expect(await db.addSpamMessage(s)).toBe(true);
        expect(await db.addSpamMessage({ ...s, messageId: "2" })).toBe(true);
        expect(await db.addSpamMessage({ ...s, score: 0.1 })).toBe(false);
        expect(await db.addSpamMessage({ ...s, userId: 8 })).toBe(true);
        const byUser = await db.getSpamMessagesByUserId(PRIM, 7);
        expect(byUser.map((r) => r.messageId)).toEqual(["1", "2"]);
        expect(byUser[0]).toMatchObject({
          ...s,
          messageId: "1",
          confidence: 1,
          dataSource: "primary",
        });
        expect(
          await db.addSpamMessage({ ...s, messageId: 3, text: "Cheap PILLS", confidence: 0.25 }),
        ).toBe(true);
        expect((await db.getSpamMessagesByUserId(PRIM, 7)).map((r) => r.confidence)).toEqual([
          1, 1, 0.25,
        ]);
        for (const t of ["cheap pills", "CHEAP PILLS", "Cheap Pills"]) {
          expect((await db.getSpamMessagesByText(t)).map((r) => r.messageId).sort()).toEqual([
            "1",
            "1",
            "2",
            "3",
          ]);
        }
        expect(await db.getSpamMessagesByText("cheap")).toEqual([]);
        expect(await db.deleteSpamMessagesByUserId(PRIM, 7)).toBe(true);
        expect(await db.deleteSpamMessagesByUserId(PRIM, 7)).toBe(false);
        expect(await db.getSpamMessagesByUserId(PRIM, 7)).toEqual([]);
        expect((await db.getSpamMessages({ dataSource: "primary" })).map((r) => r.userId)).toEqual([
          8,
        ]);
      });

      test("addHamMessage is insert-only and independent of spam", async () => {
        await using fx = await setup();
        const { db } = fx;
        const h = {
          chatId: PRIM,
          userId: 7,
          messageId: 1,
          text: "hello",
          reason: "admin",
          score: 0,
        };
        expect(await db.addHamMessage(h)).toBe(true);
        expect(await db.addHamMessage(h)).toBe(false);
        expect(await db.getSpamMessagesByUserId(PRIM, 7)).toEqual([]);
        expect(await db.addSpamMessage(h)).toBe(true);
      });
    });

    describe("cache storage and typed caches", () => {
      test("setCacheStorage upserts; getCacheStorage lists; unsetCacheStorage deletes", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.setCacheStorage("ns", "k1", "v1")).toBe(true);
        expect(await db.setCacheStorage("ns", "k1", "v2")).toBe(true);
        expect(await db.setCacheStorage("other", "k1", "v3")).toBe(true);
        const mine = await db.getCacheStorage({ dataSource: "primary" });
        expect(mine.map((e) => [e.namespace, e.key, e.value, e.dataSource]).sort()).toEqual([
          ["ns", "k1", "v2", "primary"],
          ["other", "k1", "v3", "primary"],
        ]);
        expect(await db.unsetCacheStorage("ns", "k1")).toBe(true);
        expect(await db.unsetCacheStorage("ns", "k1")).toBe(false);
        expect(
          (await db.getCacheStorage({ dataSource: "primary" })).map((e) => e.namespace),
        ).toEqual(["other"]);
      });

      test("setCacheEntry upserts; getCacheEntry honours ttl; clearCache empties one type", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.setCacheEntry("k", "d1", "weather")).toBe(true);
        expect(await db.setCacheEntry("k", "d2", "weather")).toBe(true);
        expect(await db.setCacheEntry("k", "geo", "geocoding")).toBe(true);
        expect(await db.getCacheEntry("k", "weather")).toMatchObject({
          key: "k",
          data: "d2",
          dataSource: "primary",
        });
        expect((await db.getCacheEntry("k", "geocoding"))?.data).toBe("geo");
        expect((await db.getCacheEntry("k", "weather", { ttl: 3600 }))?.data).toBe("d2");
        expect(await db.getCacheEntry("k", "weather", { ttl: 0 })).toBeNull();
        const written = Date.now();
        await waitFor("the entry to age", () => Date.now() > written + 60);
        expect(
          await db.getCacheEntry("k", "weather", { ttl: 0.05, dataSource: "primary" }),
        ).toBeNull();
        expect(await db.clearCache("weather")).toBe(true);
        expect(await db.clearCache("weather")).toBe(false);
        expect(await db.getCacheEntry("k", "weather", { dataSource: "primary" })).toBeNull();
        expect((await db.getCacheEntry("k", "geocoding"))?.data).toBe("geo");
        await expectCode(db.setCacheEntry("k", "d", "no_such_cache"), "INVALID_ARGUMENT");
        await expectCode(db.getCacheEntry("k", "no_such_cache"), "INVALID_ARGUMENT");
        await expectCode(db.clearCache("weather; DROP TABLE settings"), "INVALID_ARGUMENT");
      });
    });

    // ── Routing of every method ──────────────────────────────────────────────

    type Db = DatabaseWrapper;
    type Opts = { dataSource?: string };
    /** Every chat-routed read, for `chatId`. */
    const chatReads: Record<string, (db: Db, chatId: number, o?: Opts) => Promise<unknown>> = {
      getChatMessageByMessageId: (db, c, o) => db.getChatMessageByMessageId(c, 100, o),
      getChatMessagesByUser: (db, c, o) => db.getChatMessagesByUser(c, 1, o),
      getChatMessagesSince: (db, c, o) => db.getChatMessagesSince(c, o),
      getChatMessagesByRootId: (db, c, o) => db.getChatMessagesByRootId(c, 100, o),
      getChatUser: (db, c, o) => db.getChatUser(c, 1, o),
      getChatUserByUsername: (db, c, o) =>
        db.getChatUserByUsername(c, c === ARCH ? "@arch" : "@ext", o),
      getChatUsers: (db, c, o) => db.getChatUsers(c, o),
      getUserData: (db, c, o) => db.getUserData(1, c, o),
      getChatSetting: (db, c, o) => db.getChatSetting(c, "from", o),
      getChatSettings: (db, c, o) => db.getChatSettings(c, o),
      getChatInfo: (db, c, o) => db.getChatInfo(c, o),
      getChatTopics: (db, c, o) => db.getChatTopics(c, o),
      getChatSummarization: (db, c, o) =>
        db.getChatSummarization(
          { chatId: c, topicId: null, firstMessageId: 1, lastMessageId: 100, prompt: "p" },
          o,
        ),
      getSpamMessagesByUserId: (db, c, o) => db.getSpamMessagesByUserId(c, 1, o),
    };
    /** Every read that is not per chat: default source, or all sources. */
    const otherReads: Record<string, (db: Db, o?: Opts) => Promise<unknown>> = {
      getSetting: (db, o) => db.getSetting("from", o),
      getSettings: (db, o) => db.getSettings(o),
      getMediaAttachment: (db, o) => db.getMediaAttachment("file-1", o),
      getCacheStorageEntry: (db, o) => db.getCacheStorageEntry("ns", "shared", o),
      // keys carry no dataSource: each key is looked up again in the same source
      getCacheStorageKeys: async (db, o) => {
        const keys = await db.getCacheStorageKeys("ns", o);
        return Promise.all(keys.map((k) => db.getCacheStorageEntry("ns", k, o)));
      },
      getPendingDelayedTasks: (db, o) => db.getPendingDelayedTasks(o),
      getSpamMessagesByText: (db, o) => db.getSpamMessagesByText("buy now", o),
      getUserChats: (db, o) => db.getUserChats(1, o),
      getAllGroupChats: (db, o) => db.getAllGroupChats(o),
      getSpamMessages: (db, o) => db.getSpamMessages(o),
      getCacheStorage: (db, o) => db.getCacheStorage(o),
      getCacheEntry: (db, o) => db.getCacheEntry("ext-only", "weather", o),
    };
    /** Every write routed by chat, for `chatId`. */
    const chatWrites: Record<string, (db: Db, chatId: number) => Promise<boolean>> = {
      saveChatMessage: (db, c) =>
        db.saveChatMessage({ date: D0, chatId: c, userId: 1, messageId: 777 }),
      updateChatMessageCategory: (db, c) => db.updateChatMessageCategory(c, 100, "bot"),
      updateChatUser: (db, c) => db.updateChatUser(c, 1, "@x", "X"),
      markUserIsSpammer: (db, c) => db.markUserIsSpammer(c, 1, true),
      updateUserMetadata: (db, c) => db.updateUserMetadata(c, 1, "{}"),
      addUserData: (db, c) => db.addUserData(1, c, "k", "v"),
      deleteUserData: (db, c) => db.deleteUserData(1, c, "from"),
      clearUserData: (db, c) => db.clearUserData(1, c),
      setChatSetting: (db, c) => db.setChatSetting(c, "k", "v"),
      unsetChatSetting: (db, c) => db.unsetChatSetting(c, "from"),
      clearChatSettings: (db, c) => db.clearChatSettings(c),
      updateChatInfo: (db, c) => db.updateChatInfo(c, { type: "group" }),
      updateChatTopicInfo: (db, c) => db.updateChatTopicInfo(c, 5),
      addChatSummarization: (db, c) =>
        db.addChatSummarization({
          chatId: c,
          topicId: null,
          firstMessageId: 1,
          lastMessageId: 2,
          prompt: "p",
          summary: "s",
        }),
      addSpamMessage: (db, c) =>
        db.addSpamMessage({
          chatId: c,
          userId: 1,
          messageId: 777,
          text: "t",
          reason: "r",
          score: 1,
        }),
      addHamMessage: (db, c) =>
        db.addHamMessage({
          chatId: c,
          userId: 1,
          messageId: 777,
          text: "t",
          reason: "r",
          score: 1,
        }),
      deleteSpamMessagesByUserId: (db, c) => db.deleteSpamMessagesByUserId(c, 1),
    };
    /** Every write that goes to the default source. */
    const defaultWrites: Record<string, (db: Db) => Promise<boolean>> = {
      setSetting: (db) => db.setSetting("k", "v"),
      addMediaAttachment: (db) => db.addMediaAttachment({ fileUniqueId: "new", fileId: "f" }),
      updateMediaAttachment: (db) => db.updateMediaAttachment("file-1", { status: "done" }),
      addDelayedTask: (db) => db.addDelayedTask("new", "f", "{}", 1),
      updateDelayedTask: (db) => db.updateDelayedTask("task-1", true),
      setCacheStorage: (db) => db.setCacheStorage("ns", "k", "v"),
      unsetCacheStorage: (db) => db.unsetCacheStorage("ns", "shared"),
      setCacheEntry: (db) => db.setCacheEntry("k", "d", "weather"),
      clearCache: (db) => db.clearCache("weather"),
    };

    describe("routing of every method", () => {
      test("the tables below name every public data method of DatabaseWrapper", () => {
        const methods = Object.getOwnPropertyNames(DatabaseWrapper.prototype).filter(
          (m) => m !== "constructor",
        );
        const covered = [chatReads, otherReads, chatWrites, defaultWrites].flatMap(Object.keys);
        // gromozeka's later methods have their routing tests in gromozeka-methods(2).suite.ts
        const later = [
          "ensureMediaInGroup",
          "getFirstChatMessageByMediaGroupId",
          "getMediaAttachmentsByGroupId",
          "getMediaGroupLastUpdatedAt",
          "getMessageThread",
          "searchChatMessages",
          "updateChatMessageMetadata",
          ...METHODS2,
        ];
        expect([...covered, ...later].sort()).toEqual(methods.sort());
        expect(methods.length).toBeGreaterThanOrEqual(50);
      });

      test("every chat-routed read serves a mapped chat from its source", async () => {
        await using fx = await setup();
        for (const [method, read] of Object.entries(chatReads)) {
          expect([method, origin(await read(fx.db, ARCH))]).toEqual([method, "archive"]);
        }
      });

      test("every read's dataSource option overrides the chat map and the default", async () => {
        await using fx = await setup();
        for (const [method, read] of Object.entries(chatReads)) {
          expect([method, origin(await read(fx.db, PRIM, { dataSource: "external" }))]).toEqual([
            method,
            "external",
          ]);
          // an explicit source beats the chat map too
          expect([method, origin(await read(fx.db, ARCH, { dataSource: "primary" }))]).toEqual([
            method,
            "nothing",
          ]);
          await expectCode(read(fx.db, PRIM, { dataSource: "nope" }), "UNKNOWN_SOURCE");
        }
        for (const [method, read] of Object.entries(otherReads)) {
          expect([method, origin(await read(fx.db, { dataSource: "external" }))]).toEqual([
            method,
            "external",
          ]);
          await expectCode(read(fx.db, { dataSource: "nope" }), "UNKNOWN_SOURCE");
        }
      });

      test("every default-routed read serves the default source", async () => {
        await using fx = await setup({ defaultSource: "external" });
        for (const method of [
          "getSetting",
          "getSettings",
          "getMediaAttachment",
          "getPendingDelayedTasks",
          "getSpamMessagesByText",
        ]) {
          const read = otherReads[method] as (db: Db) => Promise<unknown>;
          expect([method, origin(await read(fx.db))]).toEqual([method, "external"]);
        }
        // an unmapped chat goes to the default source too
        expect(origin(await fx.db.getChatUser(PRIM, 1))).toBe("external");
      });

      test("every chat-routed write lands in the chat's source and is read back there", async () => {
        await using fx = await setup();
        for (const [method, write] of Object.entries(chatWrites)) {
          await expect(write(fx.db, PRIM)).resolves.toBeBoolean();
          expect([method, fx.db.explain({ chatId: PRIM, write: true }).source]).toEqual([
            method,
            "primary",
          ]);
        }
        expect(origin(await fx.db.getChatInfo(PRIM))).toBe("primary");
        expect((await fx.db.getChatUser(PRIM, 1))?.username).toBe("@x");
      });

      test("every chat-routed write to a readonly chat's source is refused, its bytes unchanged", async () => {
        await using fx = await setup();
        const before = readFileSync(fx.dir.file("archive.db"));
        for (const [method, write] of Object.entries(chatWrites)) {
          const e = await expectCode(write(fx.db, ARCH), "READONLY_SOURCE");
          expect([method, e.source, e.chatId]).toEqual([method, "archive", ARCH]);
          const ext = await expectCode(write(fx.db, EXTC), "READONLY_SOURCE");
          expect([method, ext.source]).toEqual([method, "external"]);
        }
        expect(readFileSync(fx.dir.file("archive.db")).equals(before)).toBe(true);
        expect(origin(await fx.db.getChatInfo(ARCH))).toBe("archive");
        expect((await fx.db.getChatInfo(ARCH))?.title).toBe("Archive chat");
      });

      test("every default-routed write is refused when the default source is readonly", async () => {
        await using fx = await setup({ defaultSource: "external" });
        const before = readFileSync(fx.dir.file("external.db"));
        for (const [method, write] of Object.entries(defaultWrites)) {
          const e = await expectCode(write(fx.db), "READONLY_SOURCE");
          expect([method, e.source]).toEqual([method, "external"]);
        }
        // and so is a chat write for a chat that falls through to that default
        await expectCode(fx.db.setChatSetting(PRIM, "k", "v"), "READONLY_SOURCE");
        expect(readFileSync(fx.dir.file("external.db")).equals(before)).toBe(true);
      });

      test("every default-routed write lands in the default source", async () => {
        await using fx = await setup();
        for (const [method, write] of Object.entries(defaultWrites)) {
          expect([method, await write(fx.db)]).toEqual([method, expect.any(Boolean)]);
        }
        expect(await fx.db.getSetting("k")).toBe("v");
        expect(origin(await fx.db.getMediaAttachment("new"))).toBe("primary");
        expect(origin(await fx.db.getPendingDelayedTasks())).toBe("primary");
        expect(origin(await fx.db.getCacheStorage({ dataSource: "primary" }))).toBe("primary");
      });
    });

    // ── Aggregation ──────────────────────────────────────────────────────────

    describe("aggregation", () => {
      /** [chatId, title, dataSource] of chat records. */
      const chats = (rows: { chatId: number; title: string | null; dataSource: string }[]) =>
        rows.map((r) => [r.chatId, r.title, r.dataSource]);

      async function writePrimaryCopies(db: DatabaseWrapper) {
        await db.updateChatInfo(PRIM, { type: "group", title: "Primary chat" });
        await db.updateChatUser(PRIM, 1, "@u", "U");
        await db.addSpamMessage({
          chatId: PRIM,
          userId: 1,
          messageId: 100,
          text: "primary",
          reason: "ml",
          score: 1,
        });
        await db.setCacheStorage("ns", "shared", "primary");
      }

      test("getAllGroupChats: the home source's copy wins, else the first in config order", async () => {
        await using fx = await setup();
        await writePrimaryCopies(fx.db);
        // sorted by chat id, like each source's own result
        expect(chats(await fx.db.getAllGroupChats())).toEqual([
          [LOOSE, "archive copy", "archive"], // no copy at home (primary): first in config order
          [EXTC, "External chat", "external"], // home is external, though archive comes first
          [ARCH, "Archive chat", "archive"],
          [PRIM, "Primary chat", "primary"],
        ]);
        expect(fx.events).toEqual([]);
      });

      test("getUserChats: the same rule, private chats included", async () => {
        await using fx = await setup();
        await writePrimaryCopies(fx.db);
        expect(chats(await fx.db.getUserChats(1))).toEqual([
          [LOOSE, "archive copy", "archive"],
          [EXTC, "External chat", "external"],
          [ARCH, "Archive chat", "archive"],
          [PRIM, "Primary chat", "primary"],
          [1, "Private chat with user 1", "external"],
        ]);
        expect(await fx.db.getUserChats(424242)).toEqual([]);
      });

      test("getSpamMessages: deduplicated by (chat, user, message), home copy wins, limit overall", async () => {
        await using fx = await setup();
        await writePrimaryCopies(fx.db);
        const rows = await fx.db.getSpamMessages();
        const byKey = Object.fromEntries(
          rows.map((r) => [`${r.chatId}/${r.userId}/${r.messageId}`, [r.text, r.dataSource]]),
        );
        expect(byKey).toEqual({
          [`${ARCH}/1/100`]: ["buy now", "archive"],
          [`${PRIM}/1/1`]: ["stale archive copy", "archive"],
          [`${PRIM}/1/100`]: ["primary", "primary"],
          [`${EXTC}/1/1`]: ["External chat", "external"],
          [`${LOOSE}/1/1`]: ["archive copy", "archive"],
        });
        expect(rows).toHaveLength(5);
        // newest first over all sources; the limit applies to the merged result
        const times = rows.map((r) => r.createdAt?.getTime() ?? 0);
        expect(times).toEqual([...times].sort((a, b) => b - a));
        expect(rows[0]?.text).toBe("primary");
        expect(await fx.db.getSpamMessages({ limit: 2 })).toEqual(rows.slice(0, 2));
      });

      test("getCacheStorage: the default source's copy wins, else the first in config order", async () => {
        await using fx = await setup();
        await writePrimaryCopies(fx.db);
        const rows = await fx.db.getCacheStorage();
        expect(rows.map((e) => [e.namespace, e.key, e.value, e.dataSource]).sort()).toEqual([
          ["ns", "arch-ext", "archive", "archive"],
          ["ns", "ext-only", "external", "external"],
          ["ns", "shared", "primary", "primary"],
        ]);
      });

      test("getCacheEntry: the first match, default source first, then config order", async () => {
        await using fx = await setup();
        expect(await fx.db.getCacheEntry("arch-ext", "weather")).toMatchObject({
          data: "archive",
          dataSource: "archive",
        });
        expect(await fx.db.getCacheEntry("ext-only", "weather")).toMatchObject({
          data: "external",
          dataSource: "external",
        });
        expect(await fx.db.getCacheEntry("none", "weather")).toBeNull();
        await fx.db.setCacheEntry("arch-ext", "primary", "weather");
        expect(await fx.db.getCacheEntry("arch-ext", "weather")).toMatchObject({
          data: "primary",
          dataSource: "primary",
        });
      });

      test("getCacheEntry looks at a readonly default source first", async () => {
        await using fx = await setup({ defaultSource: "external" });
        expect(await fx.db.getCacheEntry("arch-ext", "weather")).toMatchObject({
          dataSource: "external",
        });
      });

      const aggregates: Record<string, (db: Db, strict?: boolean) => Promise<unknown>> = {
        getUserChats: (db, strict) => db.getUserChats(1, { strict }),
        getAllGroupChats: (db, strict) => db.getAllGroupChats({ strict }),
        getSpamMessages: (db, strict) => db.getSpamMessages({ strict }),
        getCacheStorage: (db, strict) => db.getCacheStorage({ strict }),
        getCacheEntry: (db, strict) => db.getCacheEntry("ext-only", "weather", { strict }),
      };

      for (const [broken, how] of [
        ["missing", (file: string) => rmSync(file)],
        ["corrupt", (file: string) => writeFileSync(file, Buffer.alloc(64 * 1024, 0x5a))],
      ] as const) {
        test(`a ${broken} source is skipped and reported; strict makes it fatal`, async () => {
          await using fx = await setup({ before: (dir) => how(dir.file("external.db")) });
          await writePrimaryCopies(fx.db);
          expect(fx.db.health().sources.find((s) => s.name === "external")?.state).toBe(
            "unavailable",
          );
          for (const [method, call] of Object.entries(aggregates)) {
            fx.events.length = 0;
            const partial = await call(fx.db);
            expect([method, origin(partial).includes("external")]).toEqual([method, false]);
            expect([method, fx.events.map((e) => [e.source, e.error.code])]).toEqual([
              method,
              [["external", "SOURCE_UNAVAILABLE"]],
            ]);
            const e = await expectCode(call(fx.db, true), "SOURCE_UNAVAILABLE");
            expect(e.source).toBe("external");
          }
          // the rest is still there
          expect(chats(await fx.db.getAllGroupChats())).toEqual([
            [LOOSE, "archive copy", "archive"],
            [EXTC, "stale archive copy", "archive"],
            [ARCH, "Archive chat", "archive"],
            [PRIM, "Primary chat", "primary"],
          ]);
        });
      }

      test("a source corrupted while open is skipped, reported, and shown in health", async () => {
        // no watcher: it could see the overwrite first and report it too (one event more)
        await using fx = await setup({ watchSources: false });
        expect(origin(await fx.db.getAllGroupChats())).toContain("external");
        writeFileSync(fx.dir.file("external.db"), Buffer.alloc(64 * 1024, 0x5a));
        rmSync(`${fx.dir.file("external.db")}-wal`, { force: true });
        rmSync(`${fx.dir.file("external.db")}-shm`, { force: true });
        const partial = await fx.db.getAllGroupChats();
        expect(origin(partial)).not.toContain("external");
        expect(fx.events.map((e) => [e.source, e.error.code])).toEqual([
          ["external", "SOURCE_UNAVAILABLE"],
        ]);
        expect(fx.db.health().sources.find((s) => s.name === "external")?.state).toBe(
          "unavailable",
        );
        await expectCode(fx.db.getAllGroupChats({ strict: true }), "SOURCE_UNAVAILABLE");
        // once the file is good again, the source is read again
        copyFileSync(templates.file("external.db"), fx.dir.file("external.db"));
        expect(origin(await fx.db.getAllGroupChats())).toContain("external");
        expect(fx.db.health().sources.find((s) => s.name === "external")?.state).toBe("ok");
        // a statement first prepared on the corrupt file is caught the same way
        fx.events.length = 0;
        writeFileSync(fx.dir.file("external.db"), Buffer.alloc(64 * 1024, 0x5a));
        expect(origin(await fx.db.getCacheStorage())).not.toContain("external");
        expect(fx.events.map((e) => [e.source, e.error.code])).toEqual([
          ["external", "SOURCE_UNAVAILABLE"],
        ]);
        expect(fx.db.health().sources.find((s) => s.name === "external")?.state).toBe(
          "unavailable",
        );
      });
    });

    // ── Bad and unusual input ────────────────────────────────────────────────

    describe("input", () => {
      test("Telegram-sized ids round-trip", async () => {
        await using fx = await setup();
        const { db } = fx;
        const chatId = -1001234567890;
        const userId = 9007199254740991; // the largest safe integer
        await db.updateChatUser(chatId, userId, "@big", "Big");
        await db.updateChatInfo(chatId, { type: "supergroup" });
        await db.saveChatMessage({ date: D0, chatId, userId, messageId: 2147483648123 });
        expect(await db.getChatUser(chatId, userId)).toMatchObject({
          chatId,
          userId,
          messagesCount: 1,
        });
        expect(await db.getChatMessageByMessageId(chatId, 2147483648123)).toMatchObject({
          chatId,
          userId,
          messageId: "2147483648123",
        });
        expect((await db.getUserChats(userId)).map((c) => c.chatId)).toEqual([chatId]);
        expect(await db.getChatInfo(chatId)).toMatchObject({ chatId });
      });

      test("unsafe ids, NaN, Infinity and values of the wrong type are INVALID_ARGUMENT", async () => {
        await using fx = await setup();
        const { db } = fx;
        const bad: unknown[] = [
          2 ** 53,
          -(2 ** 53),
          Number.NaN,
          Infinity,
          -Infinity,
          1.5,
          "5",
          null,
          undefined,
          5n,
        ];
        for (const v of bad) {
          const x = v as number;
          await expectCode(db.getChatUser(x, 1), "INVALID_ARGUMENT");
          await expectCode(db.getChatUser(PRIM, x), "INVALID_ARGUMENT");
          await expectCode(db.updateChatUser(x, 1, "@u", "U"), "INVALID_ARGUMENT");
          await expectCode(db.setChatSetting(x, "k", "v"), "INVALID_ARGUMENT");
          await expectCode(db.addUserData(1, x, "k", "v"), "INVALID_ARGUMENT");
          await expectCode(
            db.saveChatMessage({ date: D0, chatId: x, userId: 1, messageId: 1 }),
            "INVALID_ARGUMENT",
          );
          await expectCode(
            db.saveChatMessage({ date: D0, chatId: PRIM, userId: x, messageId: 1 }),
            "INVALID_ARGUMENT",
          );
          await expectCode(db.getUserChats(x), "INVALID_ARGUMENT");
          await expectCode(db.updateChatTopicInfo(PRIM, x), "INVALID_ARGUMENT");
          if (typeof v !== "string") {
            await expectCode(db.getChatMessageByMessageId(PRIM, x), "INVALID_ARGUMENT");
            await expectCode(
              db.saveChatMessage({ date: D0, chatId: PRIM, userId: 1, messageId: x }),
              "INVALID_ARGUMENT",
            );
          }
        }
        for (const v of [Number.NaN, Infinity, "0.5"]) {
          await expectCode(
            db.addSpamMessage({
              chatId: PRIM,
              userId: 1,
              messageId: 1,
              text: "t",
              reason: "r",
              score: v as number,
            }),
            "INVALID_ARGUMENT",
          );
          await expectCode(db.addDelayedTask("t", "f", "{}", v as number), "INVALID_ARGUMENT");
        }
        await expectCode(
          db.saveChatMessage({ date: D0, chatId: PRIM, userId: 1, messageId: "" }),
          "INVALID_ARGUMENT",
        );
        await expectCode(
          db.saveChatMessage({ date: new Date("nope"), chatId: PRIM, userId: 1, messageId: 1 }),
          "INVALID_ARGUMENT",
        );
        await expectCode(
          db.saveChatMessage({
            date: "2025-01-01" as never,
            chatId: PRIM,
            userId: 1,
            messageId: 1,
          }),
          "INVALID_ARGUMENT",
        );
        await expectCode(db.setChatSetting(PRIM, "k", 5 as never), "INVALID_ARGUMENT");
        await expectCode(db.setChatSetting(PRIM, null as never, "v"), "INVALID_ARGUMENT");
        await expectCode(db.markUserIsSpammer(PRIM, 1, "yes" as never), "INVALID_ARGUMENT");
        await expectCode(db.updateChatInfo(PRIM, { type: 5 as never }), "INVALID_ARGUMENT");
        await expectCode(db.updateChatInfo(PRIM, undefined as never), "INVALID_ARGUMENT");
        for (const limit of [-1, 1.5, Number.NaN, "10"]) {
          await expectCode(
            db.getChatMessagesByUser(PRIM, 1, { limit: limit as number }),
            "INVALID_ARGUMENT",
          );
          await expectCode(db.getSpamMessages({ limit: limit as number }), "INVALID_ARGUMENT");
        }
        await expectCode(db.getCacheEntry("k", "weather", { ttl: Number.NaN }), "INVALID_ARGUMENT");
        await expectCode(
          db.getChatMessagesSince(PRIM, { since: new Date(Number.NaN) }),
          "INVALID_ARGUMENT",
        );
        // nothing was written by any of them
        expect(await db.getChatUser(PRIM, 1)).toBeNull();
        expect(await db.getChatSettings(PRIM)).toEqual({});
        expect(await db.getChatMessagesSince(PRIM)).toEqual([]);
      });

      test("SQL metacharacters, NUL bytes, emoji and 1 MB of text are stored verbatim", async () => {
        await using fx = await setup();
        const { db } = fx;
        const nul = "nul\u0000inside\u0000";
        const huge = "x".repeat(1024 * 1024);
        const nasty = [
          "'; DROP TABLE chat_messages; --",
          'quote " and \\ backslash % _ ? ?1 :name $x',
          ...(nulInText ? [nul] : []),
          "emoji 😀👍🏽 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, RTL \u202Eabc",
          huge,
        ];
        if (!nulInText) {
          // refused by every write that carries it, and nothing is stored
          await expectCode(
            db.saveChatMessage({
              date: D0,
              chatId: PRIM,
              userId: 1,
              messageId: 1,
              messageText: nul,
            }),
            "INVALID_ARGUMENT",
          );
          await expectCode(db.setChatSetting(PRIM, "k", nul), "INVALID_ARGUMENT");
          await expectCode(db.updateChatUser(PRIM, 1, nul, "U"), "INVALID_ARGUMENT");
          await expectCode(db.setCacheStorage("ns", nul, "v"), "INVALID_ARGUMENT");
          expect(await db.getChatMessagesSince(PRIM)).toEqual([]);
          expect(await db.getChatUser(PRIM, 1)).toBeNull();
        }
        // a key column (primary key) of an engine with a key size limit gets a shorter text
        const key = (s: string) => (hugeKeys ? s : s.slice(0, 1000));
        if (!hugeKeys) {
          await expectCode(db.setChatSetting(PRIM, huge, "v"), "INVALID_ARGUMENT");
          await expectCode(db.setCacheStorage("ns", huge, "v"), "INVALID_ARGUMENT");
          expect(await db.getChatSettings(PRIM)).toEqual({});
        }
        for (const [i, s] of nasty.entries()) {
          expect(
            await db.saveChatMessage({
              date: at(i),
              chatId: PRIM,
              userId: 1,
              messageId: s.slice(0, 40) + i,
              messageText: s,
            }),
          ).toBe(true);
          expect(await db.setChatSetting(PRIM, key(s), s)).toBe(true);
          expect(await db.updateChatUser(PRIM, i, s, s)).toBe(true);
          expect(await db.setCacheStorage(key(s), key(s), s)).toBe(true);
          expect((await db.getChatMessageByMessageId(PRIM, s.slice(0, 40) + i))?.messageText).toBe(
            s,
          );
          expect(await db.getChatSetting(PRIM, key(s))).toBe(s);
          expect((await db.getChatUserByUsername(PRIM, s))?.fullName).toBe(s);
          expect(
            (await db.getCacheStorage({ dataSource: "primary" })).find((e) => e.key === key(s))
              ?.value,
          ).toBe(s);
        }
        expect(Object.keys(await db.getChatSettings(PRIM)).sort()).toEqual(nasty.map(key).sort());
        expect(await db.getChatMessagesSince(PRIM)).toHaveLength(nasty.length);
      });

      test("upserts keep createdAt while updatedAt moves", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.updateChatUser(PRIM, 1, "@a", "A");
        await db.updateChatInfo(PRIM, { type: "group" });
        await db.updateChatTopicInfo(PRIM, 1);
        await db.setCacheEntry("k", "v1", "weather");
        const key = {
          chatId: PRIM,
          topicId: null,
          firstMessageId: 1,
          lastMessageId: 2,
          prompt: "p",
        };
        await db.addChatSummarization({ ...key, summary: "s1" });
        const read = async () =>
          [
            await db.getChatUser(PRIM, 1),
            await db.getChatInfo(PRIM),
            (await db.getChatTopics(PRIM))[0],
            await db.getCacheEntry("k", "weather"),
            await db.getChatSummarization(key),
          ] as ({ createdAt: Date | null; updatedAt: Date | null } | null | undefined)[];
        const before = await read();
        const t = Date.now();
        await waitFor("the clock to move", () => Date.now() > t + 2);
        await db.updateChatUser(PRIM, 1, "@b", "B");
        await db.updateChatInfo(PRIM, { type: "supergroup" });
        await db.updateChatTopicInfo(PRIM, 1, { name: "x" });
        await db.setCacheEntry("k", "v2", "weather");
        await db.addChatSummarization({ ...key, summary: "s2" });
        const after = await read();
        for (const [i, row] of after.entries()) {
          expect([i, row?.createdAt]).toEqual([i, before[i]?.createdAt ?? null]);
          expect([
            i,
            (row?.updatedAt?.getTime() ?? 0) > (before[i]?.updatedAt?.getTime() ?? 0),
          ]).toEqual([i, true]);
        }
      });

      test("timestamps are UTC instants, whatever the process time zone", async () => {
        await using fx = await setup();
        const { db } = fx;
        const tz = process.env.TZ;
        process.env.TZ = "America/St_Johns"; // UTC−03:30 / −02:30: any local-time slip shows
        try {
          const date = new Date("2025-06-30T23:59:59.123Z");
          const t0 = Date.now();
          await db.updateChatUser(PRIM, 1, "@a", "A");
          await db.saveChatMessage({ date, chatId: PRIM, userId: 1, messageId: 1 });
          const m = await db.getChatMessageByMessageId(PRIM, 1);
          expect(m?.date.toISOString()).toBe("2025-06-30T23:59:59.123Z");
          for (const d of [m?.createdAt, (await db.getChatUser(PRIM, 1))?.updatedAt]) {
            expect(Math.abs((d?.getTime() ?? 0) - t0)).toBeLessThan(5000);
          }
          // "since" compares instants too
          expect(
            await db.getChatMessagesSince(PRIM, { since: new Date(date.getTime() - 1) }),
          ).toHaveLength(1);
          expect(await db.getChatMessagesSince(PRIM, { since: date })).toHaveLength(0);
        } finally {
          if (tz === undefined) delete process.env.TZ;
          else process.env.TZ = tz;
        }
      });

      test("ordering ties break deterministically, numeric message ids in numeric order", async () => {
        await using fx = await setup();
        const { db } = fx;
        // Telegram dates are whole seconds: several messages share one
        for (const id of [10, 9, 11, 100, 2]) {
          await db.saveChatMessage({
            date: D0,
            chatId: PRIM,
            userId: 1,
            messageId: id,
            rootMessageId: 1,
          });
        }
        const ids = (rows: { messageId: string }[]) => rows.map((r) => r.messageId);
        expect(ids(await db.getChatMessagesByUser(PRIM, 1))).toEqual(["100", "11", "10", "9", "2"]);
        expect(ids(await db.getChatMessagesSince(PRIM))).toEqual(["100", "11", "10", "9", "2"]);
        expect(ids(await db.getChatMessagesByRootId(PRIM, 1))).toEqual([
          "2",
          "9",
          "10",
          "11",
          "100",
        ]);
        expect(ids(await db.getChatMessagesSince(PRIM, { limit: 2 }))).toEqual(["100", "11"]);
        // users seen at the same instant: by user id
        for (const u of [3, 1, 2]) await db.updateChatUser(PRIM + 1, u, "@same", "Same");
        const byName = await db.getChatUserByUsername(PRIM + 1, "@same");
        expect(byName?.userId).toBe(1);
      });
    });
  });
}
