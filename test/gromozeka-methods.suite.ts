/**
 * gromozeka's later data methods (issue 17): media groups, message metadata, threads and
 * search, as one suite any primary can run — `test/gromozeka-methods.test.ts` runs it on a
 * SQLite and a PostgreSQL primary, next to the same SQLite readonly archive. Ports of
 * gromozeka's own cases (tests/database/repositories/test_chat_messages.py,
 * test_chat_search.py) are marked "gromozeka:".
 */

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync } from "node:fs";
import { DatabaseWrapper } from "../src/index.ts";
import {
  CHATS,
  expectCode,
  multiSourceToml,
  seedDatabase,
  tempDir,
  waitFor,
  writeConfig,
} from "./helpers.ts";

/** The primary of one test: its TOML keys, raw SQL on it (`?` placeholders), its disposal. */
export interface Primary extends AsyncDisposable {
  keys: string;
  exec(sql: string, params: unknown[]): Promise<void>;
}
export type MakePrimary = (dir: string) => Promise<Primary>;

const PRIM = CHATS.primary;
const ARCH = CHATS.archived;
const D0 = new Date("2025-01-02T03:04:05.000Z");
const at = (seconds: number) => new Date(D0.getTime() + seconds * 1000);

/** A vector as gromozeka stores it: `array("f", v).tobytes()` (float32, little-endian). */
export const f32 = (v: number[]) => new Uint8Array(new Float32Array(v).buffer);

const EMBED = `INSERT INTO message_embeddings (chat_id, message_id, embedding, dimensions, model,
  created_at, updated_at) VALUES (?, ?, ?, ?, ?, '2025-01-02T03:04:05+00:00', '2025-01-02T03:04:05+00:00')`;

/** The archive (readonly): ARCH's album, thread and embeddings; an album of its own. */
async function seedArchive(w: DatabaseWrapper): Promise<void> {
  await w.updateChatUser(ARCH, 1, "@arch", "Archived User");
  for (const [id, s, root] of [
    [10, 0, null],
    [11, 2, 10],
    [12, 1, 10],
  ] as const) {
    await w.saveChatMessage({
      date: at(s),
      chatId: ARCH,
      userId: 1,
      messageId: id,
      messageText: `archived ${id}`,
      rootMessageId: root,
      mediaGroupId: "album-a",
    });
  }
  await w.addMediaAttachment({ fileUniqueId: "arch-1", fileId: "f" });
  await w.ensureMediaInGroup("album-a", "arch-1");
}

export function gromozekaMethodsSuite(
  name: string,
  makePrimary: MakePrimary,
  opts: { skip?: boolean } = {},
): void {
  describe.skipIf(opts.skip ?? false)(`gromozeka's later methods (${name})`, () => {
    const templates = tempDir("chatdb-seed-");
    beforeAll(async () => {
      await seedDatabase(templates.file("archive.db"), seedArchive);
      const raw = new Database(templates.file("archive.db"));
      raw.run(EMBED, [ARCH, "11", f32([1, 0]), 2, "m"]);
      raw.run(EMBED, [ARCH, "12", f32([0, 1]), 2, "m"]);
      raw.close();
      await seedDatabase(templates.file("external.db"));
    });
    afterAll(() => templates[Symbol.dispose]());

    async function setup(defaultSource = "primary") {
      const dir = tempDir();
      for (const f of ["archive.db", "external.db"]) copyFileSync(templates.file(f), dir.file(f));
      const primary = await makePrimary(dir.path);
      const toml = multiSourceToml()
        .replace('default_source = "primary"', `default_source = "${defaultSource}"`)
        .replace('path = "primary.db"', primary.keys);
      const db = new DatabaseWrapper({ configPath: writeConfig(dir.path, toml) });
      return {
        db,
        dir,
        primary,
        async [Symbol.asyncDispose]() {
          await db.close();
          await primary[Symbol.asyncDispose]();
          dir[Symbol.dispose]();
        },
      };
    }

    /** Saves a message in `chatId` (author user `userId`, with a chat_users row). */
    async function say(
      db: DatabaseWrapper,
      chatId: number,
      userId: number,
      messageId: number,
      fields: Partial<Parameters<DatabaseWrapper["saveChatMessage"]>[0]> = {},
    ) {
      await db.updateChatUser(chatId, userId, `user${userId}`, `User ${userId}`);
      expect(
        await db.saveChatMessage({
          date: at(messageId),
          chatId,
          userId,
          messageId,
          messageText: `m${messageId}`,
          ...fields,
        }),
      ).toBe(true);
    }
    const ids = (rows: { messageId: string }[]) => rows.map((r) => Number(r.messageId));

    describe("media groups", () => {
      test("ensureMediaInGroup puts attachments in an album (twice is once, created_at kept); getMediaAttachmentsByGroupId reads the stored ones in the order they joined", async () => {
        await using fx = await setup();
        const { db } = fx;
        for (const f of ["p1", "p2", "p3"]) {
          expect(await db.addMediaAttachment({ fileUniqueId: f, fileId: `id-${f}` })).toBe(true);
        }
        expect(await db.ensureMediaInGroup("g1", "p2")).toBe(true);
        // the order of joining is by created_at: let the clock move between the two
        const joined = Date.now();
        await waitFor("the clock to move", () => Date.now() > joined + 2);
        expect(await db.ensureMediaInGroup("g1", "p1")).toBe(true);
        expect(await db.ensureMediaInGroup("g2", "p3")).toBe(true);
        // an attachment not stored (yet) is in the album but not returned (gromozeka's JOIN)
        expect(await db.ensureMediaInGroup("g1", "not-stored")).toBe(true);
        const last = await db.getMediaGroupLastUpdatedAt("g1");
        expect(last).toBeInstanceOf(Date);
        const t = Date.now();
        await waitFor("the clock to move", () => Date.now() > t + 2);
        expect(await db.ensureMediaInGroup("g1", "p2")).toBe(true); // already there: kept
        expect(await db.getMediaGroupLastUpdatedAt("g1")).toEqual(last);

        const album = await db.getMediaAttachmentsByGroupId("g1");
        expect(album.map((m) => [m.fileUniqueId, m.fileId, m.dataSource])).toEqual([
          ["p2", "id-p2", "primary"],
          ["p1", "id-p1", "primary"],
        ]);
        expect(album[0]).toMatchObject({ mediaType: "image", status: "new", metadata: "{}" });
        expect((await db.getMediaAttachmentsByGroupId("g2")).map((m) => m.fileUniqueId)).toEqual([
          "p3",
        ]);
        expect(await db.getMediaAttachmentsByGroupId("none")).toEqual([]);
        expect(await db.getMediaGroupLastUpdatedAt("none")).toBeNull();
      });

      test("getMediaGroupLastUpdatedAt is when the album last gained an attachment", async () => {
        await using fx = await setup();
        const { db } = fx;
        const before = Date.now();
        await db.ensureMediaInGroup("g", "a");
        const first = (await db.getMediaGroupLastUpdatedAt("g")) as Date;
        expect(first.getTime()).toBeGreaterThanOrEqual(before);
        expect(first.getTime()).toBeLessThanOrEqual(Date.now());
        await waitFor("the clock to move", () => Date.now() > first.getTime() + 2);
        await db.ensureMediaInGroup("g", "b");
        const second = (await db.getMediaGroupLastUpdatedAt("g")) as Date;
        expect(second.getTime()).toBeGreaterThan(first.getTime());
      });

      test("media-group reads go to the default source or dataSource; ensureMediaInGroup is refused on a readonly default, the file unchanged", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.getMediaAttachmentsByGroupId("album-a")).toEqual([]);
        const arch = await db.getMediaAttachmentsByGroupId("album-a", { dataSource: "archive" });
        expect(arch.map((m) => [m.fileUniqueId, m.dataSource])).toEqual([["arch-1", "archive"]]);
        expect(await db.getMediaGroupLastUpdatedAt("album-a")).toBeNull();
        expect(
          await db.getMediaGroupLastUpdatedAt("album-a", { dataSource: "archive" }),
        ).toBeInstanceOf(Date);
        await expectCode(
          db.getMediaAttachmentsByGroupId("g", { dataSource: "nope" }),
          "UNKNOWN_SOURCE",
        );
        await expectCode(db.getMediaAttachmentsByGroupId(5 as never), "INVALID_ARGUMENT");
        await expectCode(db.ensureMediaInGroup("g", null as never), "INVALID_ARGUMENT");
      });

      test("ensureMediaInGroup with a readonly default source is READONLY_SOURCE and changes nothing", async () => {
        await using fx = await setup("archive");
        const before = readFileSync(fx.dir.file("archive.db"));
        await expectCode(fx.db.ensureMediaInGroup("album-a", "new"), "READONLY_SOURCE");
        expect(readFileSync(fx.dir.file("archive.db")).equals(before)).toBe(true);
      });

      test("getFirstChatMessageByMediaGroupId: the album's earliest message by date (not by insertion), optionally in one thread; routed by chat, dataSource wins", async () => {
        await using fx = await setup();
        const { db } = fx;
        await say(db, PRIM, 7, 30, { mediaGroupId: "g", threadId: 2, date: at(30) });
        await say(db, PRIM, 7, 20, { mediaGroupId: "g", threadId: 1, date: at(31) });
        await say(db, PRIM, 7, 40, { mediaGroupId: "g", threadId: 2, date: at(29) });
        await say(db, PRIM, 7, 41, { mediaGroupId: "other", date: at(1) });
        await say(db, PRIM, 7, 42, { date: at(0) });
        const first = await db.getFirstChatMessageByMediaGroupId(PRIM, "g");
        expect(first).toMatchObject({
          messageId: "40",
          mediaGroupId: "g",
          username: "user7",
          dataSource: "primary",
        });
        expect(
          (await db.getFirstChatMessageByMediaGroupId(PRIM, "g", { threadId: 1 }))?.messageId,
        ).toBe("20");
        expect(await db.getFirstChatMessageByMediaGroupId(PRIM, "g", { threadId: 9 })).toBeNull();
        expect(await db.getFirstChatMessageByMediaGroupId(PRIM, "none")).toBeNull();
        expect(await db.getFirstChatMessageByMediaGroupId(ARCH + 5, "g")).toBeNull();
        // the archived chat's album is read from the archive, where its earliest is 10
        expect(await db.getFirstChatMessageByMediaGroupId(ARCH, "album-a")).toMatchObject({
          messageId: "10",
          dataSource: "archive",
        });
        expect(
          await db.getFirstChatMessageByMediaGroupId(ARCH, "album-a", { dataSource: "primary" }),
        ).toBeNull();
      });
    });

    describe("message metadata", () => {
      test("updateChatMessageMetadata replaces the metadata text only; false for no such message; READONLY_SOURCE for an archived chat, file unchanged", async () => {
        await using fx = await setup();
        const { db } = fx;
        await say(db, PRIM, 7, 1, { metadata: '{"a":1}', markup: "[]" });
        expect(await db.updateChatMessageMetadata(PRIM, 1, '{"b":2}')).toBe(true);
        expect(await db.getChatMessageByMessageId(PRIM, 1)).toMatchObject({
          metadata: '{"b":2}',
          markup: "[]",
          messageText: "m1",
        });
        expect(await db.updateChatMessageMetadata(PRIM, "1", "")).toBe(true);
        expect((await db.getChatMessageByMessageId(PRIM, 1))?.metadata).toBe("");
        expect(await db.updateChatMessageMetadata(PRIM, 2, "{}")).toBe(false);
        expect(await db.updateChatMessageMetadata(PRIM + 1, 1, "{}")).toBe(false);
        const before = readFileSync(fx.dir.file("archive.db"));
        await expectCode(db.updateChatMessageMetadata(ARCH, 10, "{}"), "READONLY_SOURCE");
        expect(readFileSync(fx.dir.file("archive.db")).equals(before)).toBe(true);
        await expectCode(
          db.updateChatMessageMetadata(PRIM, 1, { a: 1 } as never),
          "INVALID_ARGUMENT",
        );
      });
    });

    describe("getMessageThread", () => {
      test("gromozeka: the root, the target and every reply (the target among them, not the root)", async () => {
        await using fx = await setup();
        const { db } = fx;
        await say(db, PRIM, 100, 1);
        await say(db, PRIM, 200, 2, { replyId: 1, rootMessageId: 1 });
        const result = await db.getMessageThread(PRIM, 2);
        expect(result?.targetMessage.messageId).toBe("2");
        expect(result?.rootMessage?.messageId).toBe("1");
        expect(ids(result?.threadMessages ?? [])).toEqual([2]);
      });

      test("gromozeka: a message that does not exist is null", async () => {
        await using fx = await setup();
        await fx.db.updateChatUser(PRIM, 100, "u", "U");
        expect(await fx.db.getMessageThread(PRIM, 999)).toBeNull();
      });

      test("gromozeka: a root is its whole thread, with no root message", async () => {
        await using fx = await setup();
        await say(fx.db, PRIM, 100, 1);
        const result = await fx.db.getMessageThread(PRIM, 1);
        expect(result?.targetMessage.messageId).toBe("1");
        expect(result?.rootMessage).toBeNull();
        expect(ids(result?.threadMessages ?? [])).toEqual([1]);
      });

      test("gromozeka: several replies under one root, oldest first", async () => {
        await using fx = await setup();
        const { db } = fx;
        await say(db, PRIM, 100, 1);
        await say(db, PRIM, 200, 2, { replyId: 1, rootMessageId: 1 });
        await say(db, PRIM, 200, 3, { replyId: 1, rootMessageId: 1 });
        const result = await db.getMessageThread(PRIM, 3);
        expect(result?.targetMessage).toMatchObject({ messageId: "3", messageText: "m3" });
        expect(result?.rootMessage?.messageId).toBe("1");
        expect(ids(result?.threadMessages ?? [])).toEqual([2, 3]);
      });

      test("gromozeka: dataSource is passed to every read; routed by chat otherwise", async () => {
        await using fx = await setup();
        const { db } = fx;
        await say(db, PRIM, 100, 1);
        await say(db, PRIM, 200, 2, { replyId: 1, rootMessageId: 1 });
        const result = await db.getMessageThread(PRIM, 2, { dataSource: "primary" });
        expect(result?.rootMessage?.messageId).toBe("1");
        expect(await db.getMessageThread(PRIM, 2, { dataSource: "archive" })).toBeNull();
        // the archived chat's thread, from the archive: replies by date (12 before 11)
        const arch = await db.getMessageThread(ARCH, 11);
        expect(arch?.rootMessage).toMatchObject({ messageId: "10", dataSource: "archive" });
        expect(arch?.threadMessages.map((m) => [m.messageId, m.dataSource])).toEqual([
          ["12", "archive"],
          ["11", "archive"],
        ]);
      });

      test("a reply whose root is not stored has a null root and the replies found", async () => {
        await using fx = await setup();
        await say(fx.db, PRIM, 100, 5, { rootMessageId: 4 });
        const result = await fx.db.getMessageThread(PRIM, 5);
        expect(result?.rootMessage).toBeNull();
        expect(ids(result?.threadMessages ?? [])).toEqual([5]);
      });
    });

    describe("searchChatMessages", () => {
      test("gromozeka: without an embedding, the user filter; newest first, score 0", async () => {
        await using fx = await setup();
        const { db } = fx;
        await say(db, PRIM, 100, 1);
        await say(db, PRIM, 100, 2);
        await say(db, PRIM, 200, 3);
        await say(db, PRIM, 100, 4);
        const results = await db.searchChatMessages(PRIM, null, { userFilter: 100, limit: 10 });
        expect(ids(results)).toEqual([4, 2, 1]);
        expect(new Set(results.map((r) => r.userId))).toEqual(new Set([100]));
        expect(results.every((r) => r.score === 0 && r.dataSource === "primary")).toBe(true);
      });

      test("gromozeka: without an embedding, the category filter", async () => {
        await using fx = await setup();
        const { db } = fx;
        await say(db, PRIM, 100, 1, { messageCategory: "bot" });
        await say(db, PRIM, 100, 2, { messageCategory: "user" });
        await say(db, PRIM, 100, 3, { messageCategory: "bot" });
        const results = await db.searchChatMessages(PRIM, null, { categoryFilter: ["bot"] });
        expect(ids(results)).toEqual([3, 1]);
        expect(
          ids(await db.searchChatMessages(PRIM, null, { categoryFilter: ["bot", "user"] })),
        ).toEqual([3, 2, 1]);
        expect(await db.searchChatMessages(PRIM, null, { categoryFilter: [] })).toEqual([]);
      });

      test("without an embedding: limit (10; null: none), rootMessageId, maxAgeDays, other chats not", async () => {
        await using fx = await setup();
        const { db } = fx;
        for (let i = 1; i <= 12; i++)
          await say(db, PRIM, 100, i, { rootMessageId: i % 2 ? 1 : null });
        await say(db, PRIM + 1, 100, 13);
        expect(ids(await db.searchChatMessages(PRIM, null))).toEqual([
          12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
        ]);
        expect((await db.searchChatMessages(PRIM, null, { limit: null })).length).toBe(12);
        expect(ids(await db.searchChatMessages(PRIM, null, { limit: 2 }))).toEqual([12, 11]);
        expect(ids(await db.searchChatMessages(PRIM, null, { rootMessageId: 1 }))).toEqual([
          11, 9, 7, 5, 3, 1,
        ]);
        // D0 is in 2025: a day's bound leaves nothing, a bound of ~100 years everything
        expect(await db.searchChatMessages(PRIM, null, { maxAgeDays: 1 })).toEqual([]);
        await say(db, PRIM, 100, 20, { date: new Date(Date.now() - 3_600_000) });
        expect(ids(await db.searchChatMessages(PRIM, null, { maxAgeDays: 1 }))).toEqual([20]);
        expect(
          (await db.searchChatMessages(PRIM, null, { maxAgeDays: 36500, limit: null })).length,
        ).toBe(13);
        await expectCode(db.searchChatMessages(PRIM, null, { limit: -1 }), "INVALID_ARGUMENT");
        await expectCode(db.searchChatMessages(PRIM, [1, "x"] as never), "INVALID_ARGUMENT");
      });

      test("gromozeka: with an embedding, ranked by cosine similarity", async () => {
        await using fx = await setup();
        const { db, primary } = fx;
        await say(db, PRIM, 100, 1, { messageText: "apple" });
        await say(db, PRIM, 200, 2, { messageText: "banana" });
        await primary.exec(EMBED, [PRIM, "1", f32([1, 0]), 2, "test-model"]);
        await primary.exec(EMBED, [PRIM, "2", f32([0, 1]), 2, "test-model"]);
        const results = await db.searchChatMessages(PRIM, [1, 0], {
          modelName: "test-model",
          limit: 10,
        });
        expect(ids(results)).toEqual([1, 2]);
        expect(results[0]?.score).toBeCloseTo(1, 6);
        expect(results[1]?.score).toBeCloseTo(0, 6);
        expect(results[0]).toMatchObject({
          messageText: "apple",
          username: "user100",
          dataSource: "primary",
        });
      });

      test("with an embedding: topK, limit, maxMessages (newest embedded), filters, the model; malformed vectors skipped; no model, no result", async () => {
        await using fx = await setup();
        const { db, primary } = fx;
        const vectors: Record<number, number[]> = {
          1: [1, 0],
          2: [0.8, 0.6],
          3: [0.6, 0.8],
          4: [0, 1],
        };
        for (const [id, v] of Object.entries(vectors)) {
          await say(db, PRIM, Number(id) % 2 ? 100 : 200, Number(id));
          await primary.exec(EMBED, [PRIM, id, f32(v), 2, "m"]);
        }
        await say(db, PRIM, 100, 5);
        await primary.exec(EMBED, [PRIM, "5", f32([1, 0, 0]), 2, "m"]); // 3 floats stored as 2
        await say(db, PRIM, 100, 6);
        await primary.exec(EMBED, [PRIM, "6", f32([1, 0]), 2, "other-model"]);
        const search = async (o: Parameters<DatabaseWrapper["searchChatMessages"]>[2]) =>
          ids(await db.searchChatMessages(PRIM, [2, 0], { modelName: "m", ...o }));
        expect(await search({})).toEqual([1, 2, 3, 4]);
        expect(await search({ topK: 2 })).toEqual([1, 2]);
        expect(await search({ limit: 3 })).toEqual([1, 2, 3]);
        expect(await search({ limit: null, topK: 3 })).toEqual([1, 2, 3]);
        // the newest 3 embedded of the model: 5 (malformed), 4, 3
        expect(await search({ maxMessages: 3 })).toEqual([3, 4]);
        expect(await search({ userFilter: 200 })).toEqual([2, 4]);
        expect(await search({ categoryFilter: ["bot"] })).toEqual([]);
        expect(await search({ modelName: "other-model" })).toEqual([6]);
        expect(await db.searchChatMessages(PRIM, [1, 0])).toEqual([]);
        // a query of another length than the stored vectors matches none of them
        expect(await db.searchChatMessages(PRIM, [1, 0, 0], { modelName: "m" })).toEqual([]);
        expect(await db.searchChatMessages(PRIM, [1, 0], { modelName: "none" })).toEqual([]);
        // the archived chat's embeddings are the archive's
        const arch = await db.searchChatMessages(ARCH, [0, 1], { modelName: "m" });
        expect(arch.map((m) => [m.messageId, m.dataSource])).toEqual([
          ["12", "archive"],
          ["11", "archive"],
        ]);
      });
    });
  });
}
