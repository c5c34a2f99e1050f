/**
 * gromozeka's later data methods (its last wrapper and today's repositories), ported with its
 * own test cases (tests/database/repositories/test_chat_users.py, test_chat_settings.py,
 * test_cache_repository.py, test_db_wrapper.py): getChatUsers' filters and no default limit,
 * cleanup of old done tasks and cache entries, getUserIdByUserName and listChatsBySetting over
 * every source, ham by text; and the unknown-option check of every data method. Run on a SQLite
 * and on a PostgreSQL primary by test/gromozeka-methods2.test.ts, next to a readonly SQLite
 * archive and external bot (the data-API suite's setup, see its MakeConfigToml).
 */
import { Database } from "bun:sqlite";
import { afterAll, afterEach, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { SQL } from "bun";
import { DatabaseWrapper, isNegativeDivinationLayout } from "../src/index.ts";
import { callValid, METHODS, validValue } from "./api-table.ts";
import type { MakeConfigToml } from "./data-api.suite.ts";
import { CHATS, expectCode, seedDatabase, tempDir, writeConfig } from "./helpers.ts";

/** The public methods this suite routes (data-api.suite's coverage test counts them). */
export const METHODS2 = [
  "cleanupOldCompletedDelayedTasks",
  "clearOldCacheEntries",
  "getUserIdByUserName",
  "listChatsBySetting",
  "getHamMessagesByText",
  "insertDivinationReading",
  "getDivinationReading",
  "getDivinationLayout",
  "saveDivinationLayout",
  "saveDivinationNegativeCache",
  "recordStatEvent",
  "aggregateStatEvents",
  "getStatAggregates",
];

const PRIM = CHATS.primary;
const ARCH = CHATS.archived;
/** mapped → external (as in the data-API suite's config) */
const EXTC = -1001000000002;
const DAY = 86_400_000;

/** Runs `fn` with the clock at `at` (chatdb stamps rows with the time of the call). */
async function at<T>(when: Date, fn: () => Promise<T>): Promise<T> {
  setSystemTime(when);
  try {
    return await fn();
  } finally {
    setSystemTime();
  }
}

async function seedArchive(w: DatabaseWrapper): Promise<void> {
  await w.updateChatInfo(555, { type: "private", username: "Ann" }); // stale copy: 555's home is primary
  await w.updateChatInfo(ARCH, { type: "supergroup", username: "ann" });
  await w.setChatSetting(ARCH, "regenerate-embeddings", "archive");
  await w.setChatSetting(PRIM, "regenerate-embeddings", "stale archive copy");
  await w.setChatSetting(999, "regenerate-embeddings", "archive only");
  await w.addHamMessage({
    chatId: ARCH,
    userId: 1,
    messageId: 1,
    text: "Fine",
    reason: "r",
    score: 0,
  });
  await w.addDelayedTask("t-arch", "f", "{}", 1);
  await w.updateDelayedTask("t-arch", true);
  await w.setCacheEntry("arch", "d", "weather");
}

async function seedExternal(w: DatabaseWrapper): Promise<void> {
  await w.updateChatInfo(555, { type: "private", username: "ANN" });
  await w.updateChatInfo(777, { type: "private", username: "aNn" });
  await w.updateChatInfo(778, { type: "private", username: "anna" });
  await w.setChatSetting(EXTC, "regenerate-embeddings", "external");
  await w.setChatSetting(999, "regenerate-embeddings", "external copy");
  await w.setChatSetting(EXTC, "other-key", "x");
  await w.addHamMessage({
    chatId: EXTC,
    userId: 1,
    messageId: 1,
    text: "fine",
    reason: "r",
    score: 0,
  });
}

/** Runs raw SQL on the wrapper's primary, SQLite or PostgreSQL (`$1…` placeholders). */
async function rawPrimary(db: DatabaseWrapper, text: string, values: unknown[] = []) {
  const src = db.config.sources.find((s) => s.name === "primary");
  if (src?.type === "postgres") {
    const sql = new SQL({ url: src.url, max: 1 });
    try {
      return (await sql.unsafe(text, values as never[])) as Record<string, unknown>[];
    } finally {
      await sql.close();
    }
  }
  const raw = new Database(src?.type === "sqlite" ? src.path : ":memory:");
  try {
    return raw.query(text.replace(/\$(\d+)/g, "?$1")).all(...(values as never[])) as Record<
      string,
      unknown
    >[];
  } finally {
    raw.close();
  }
}

export function gromozekaMethods2Suite(
  name: string,
  makeConfigToml: MakeConfigToml,
  opts: { skip?: boolean } = {},
): void {
  describe.skipIf(opts.skip ?? false)(`gromozeka's later methods (${name})`, () => {
    const templates = tempDir("chatdb-seed2-");
    beforeAll(async () => {
      await seedDatabase(templates.file("archive.db"), seedArchive);
      await seedDatabase(templates.file("external.db"), seedExternal);
    });
    afterAll(() => templates[Symbol.dispose]());
    afterEach(() => setSystemTime());

    async function setup() {
      const dir = tempDir();
      for (const f of ["archive.db", "external.db"]) copyFileSync(templates.file(f), dir.file(f));
      const made = await makeConfigToml(dir.path, { defaultSource: "primary" });
      const toml = typeof made === "string" ? made : made.toml;
      const db = new DatabaseWrapper({ configPath: writeConfig(dir.path, toml) });
      return {
        db,
        async [Symbol.asyncDispose]() {
          await db.close();
          if (typeof made !== "string") await made[Symbol.asyncDispose]();
          dir[Symbol.dispose]();
        },
      };
    }

    describe("getChatUsers (gromozeka's test_chat_users.py)", () => {
      const seedUser = (db: DatabaseWrapper, userId: number) =>
        db.updateChatUser(PRIM, userId, `user${userId}`, `User ${userId}`);

      test("with no filters and no limit, every chat user is returned", async () => {
        await using fx = await setup();
        for (const uid of [100, 200, 300]) await seedUser(fx.db, uid);
        for (let uid = 1; uid <= 12; uid++) await seedUser(fx.db, uid);
        const users = await fx.db.getChatUsers(PRIM);
        expect(users.map((u) => u.userId).sort((a, b) => a - b)).toEqual([
          ...Array.from({ length: 12 }, (_, i) => i + 1),
          100,
          200,
          300,
        ]);
      });

      test("limit caps the number of returned users", async () => {
        await using fx = await setup();
        for (let uid = 100; uid < 110; uid++) await seedUser(fx.db, uid);
        expect(await fx.db.getChatUsers(PRIM, { limit: 3 })).toHaveLength(3);
      });

      test("seenSince keeps the users updated after the cutoff", async () => {
        await using fx = await setup();
        const now = Date.now();
        await seedUser(fx.db, 100);
        await at(new Date(now - 30 * DAY), () => seedUser(fx.db, 200));
        const users = await fx.db.getChatUsers(PRIM, { seenSince: new Date(now - DAY) });
        expect(users.map((u) => u.userId)).toEqual([100]);
      });

      test("lastActiveDays keeps the users updated within the last N days", async () => {
        await using fx = await setup();
        await seedUser(fx.db, 100);
        await at(new Date(Date.now() - 30 * DAY), () => seedUser(fx.db, 200));
        const users = await fx.db.getChatUsers(PRIM, { lastActiveDays: 7 });
        expect(users.map((u) => u.userId)).toEqual([100]);
      });

      test("minMessages keeps the users with at least that many messages", async () => {
        await using fx = await setup();
        await seedUser(fx.db, 100);
        await seedUser(fx.db, 200);
        let id = 0;
        for (const [userId, count] of [
          [100, 12],
          [200, 5],
        ] as const) {
          for (let i = 0; i < count; i++) {
            await fx.db.saveChatMessage({
              date: new Date(),
              chatId: PRIM,
              userId,
              messageId: ++id,
            });
          }
        }
        expect((await fx.db.getChatUsers(PRIM, { minMessages: 10 })).map((u) => u.userId)).toEqual([
          100,
        ]);
        // the bound is inclusive, and 0 keeps everyone
        expect((await fx.db.getChatUsers(PRIM, { minMessages: 12 })).map((u) => u.userId)).toEqual([
          100,
        ]);
        expect(await fx.db.getChatUsers(PRIM, { minMessages: 0 })).toHaveLength(2);
        expect(await fx.db.getChatUsers(PRIM, { minMessages: 13 })).toEqual([]);
      });

      test("lastActiveDays wins over seenSince when both are given", async () => {
        await using fx = await setup();
        const now = Date.now();
        await at(new Date(now - 3 * DAY), () => seedUser(fx.db, 100));
        await at(new Date(now - 30 * DAY), () => seedUser(fx.db, 200));
        const users = await fx.db.getChatUsers(PRIM, {
          lastActiveDays: 7,
          seenSince: new Date(now - DAY),
        });
        expect(users.map((u) => u.userId)).toEqual([100]);
      });

      test("filters combine, and route like every chat read", async () => {
        await using fx = await setup();
        await seedUser(fx.db, 100);
        await fx.db.saveChatMessage({ date: new Date(), chatId: PRIM, userId: 100, messageId: 1 });
        await seedUser(fx.db, 200);
        await at(new Date(Date.now() - 30 * DAY), async () => {
          await seedUser(fx.db, 300);
          await fx.db.saveChatMessage({
            date: new Date(),
            chatId: PRIM,
            userId: 300,
            messageId: 2,
          });
        });
        const ids = async (o: Parameters<DatabaseWrapper["getChatUsers"]>[1]) =>
          (await fx.db.getChatUsers(PRIM, o)).map((u) => u.userId);
        expect(await ids({ minMessages: 1, lastActiveDays: 7 })).toEqual([100]);
        expect(await ids({ minMessages: 1 })).toEqual([100, 300]);
        expect(await ids({ minMessages: 1, limit: 1 })).toEqual([100]);
        expect(await fx.db.getChatUsers(PRIM, { dataSource: "external", minMessages: 0 })).toEqual(
          [],
        );
        await expectCode(fx.db.getChatUsers(PRIM, { minMessages: -1 }), "INVALID_ARGUMENT");
        await expectCode(
          fx.db.getChatUsers(PRIM, { lastActiveDays: Number.NaN }),
          "INVALID_ARGUMENT",
        );
      });
    });

    describe("cleanupOldCompletedDelayedTasks and clearOldCacheEntries", () => {
      test("only done tasks updated before now − ttl go; ttl null or 0 takes every done task; pending ones stay", async () => {
        await using fx = await setup();
        const { db } = fx;
        const now = Date.now();
        await at(new Date(now - 2 * DAY), async () => {
          for (const t of ["old-done", "old-pending"]) await db.addDelayedTask(t, "f", "{}", 1);
          await db.updateDelayedTask("old-done", true);
        });
        for (const t of ["new-done", "new-pending"]) await db.addDelayedTask(t, "f", "{}", 2);
        await db.updateDelayedTask("new-done", true);
        const done = async () => (await db.getPendingDelayedTasks()).map((t) => t.id).sort();
        expect(await db.cleanupOldCompletedDelayedTasks(DAY / 1000)).toBe(true);
        expect(await db.cleanupOldCompletedDelayedTasks(DAY / 1000)).toBe(false); // nothing left
        // the pending ones are there; the new done one is still stored (marking it pending again shows it)
        expect(await done()).toEqual(["new-pending", "old-pending"]);
        expect(await db.updateDelayedTask("old-done", false)).toBe(false);
        await at(new Date(Date.now() + 1000), () => db.cleanupOldCompletedDelayedTasks(null));
        expect(await db.updateDelayedTask("new-done", false)).toBe(false);
        expect(await done()).toEqual(["new-pending", "old-pending"]);
        // 0 is the same as null; the readonly sources are never touched
        expect(await db.cleanupOldCompletedDelayedTasks(0)).toBe(false);
        await expectCode(db.cleanupOldCompletedDelayedTasks(Number.NaN), "INVALID_ARGUMENT");
      });

      test("old cache entries of one type or of every type go, fresh ones stay (test_cache_repository.py)", async () => {
        await using fx = await setup();
        const { db } = fx;
        const now = Date.now();
        await at(new Date(now - 2 * DAY), async () => {
          await db.setCacheEntry("old-w", "d", "weather");
          await db.setCacheEntry("old-g", "d", "geocoding");
        });
        await db.setCacheEntry("new-w", "d", "weather");
        await db.setCacheEntry("new-g", "d", "geocoding");
        const keys = async (type: string) =>
          (
            await Promise.all(
              ["old-w", "old-g", "new-w", "new-g"].map((k) =>
                db.getCacheEntry(k, type, { dataSource: "primary" }),
              ),
            )
          )
            .filter((e) => e !== null)
            .map((e) => e?.key);
        expect(await db.clearOldCacheEntries(DAY / 1000, "weather")).toBe(true);
        expect(await keys("weather")).toEqual(["new-w"]);
        expect(await keys("geocoding")).toEqual(["old-g", "new-g"]);
        expect(await db.clearOldCacheEntries(DAY / 1000)).toBe(true);
        expect(await keys("geocoding")).toEqual(["new-g"]);
        expect(await db.clearOldCacheEntries(DAY / 1000)).toBe(false);
        await at(new Date(Date.now() + 1000), () => db.clearOldCacheEntries(null));
        expect([...(await keys("weather")), ...(await keys("geocoding"))]).toEqual([]);
        // the archive's entry is still there
        expect((await db.getCacheEntry("arch", "weather"))?.dataSource).toBe("archive");
        await expectCode(db.clearOldCacheEntries(60, "no_such_cache"), "INVALID_ARGUMENT");
      });
    });

    describe("lookups over every source", () => {
      test("getUserIdByUserName: case-insensitive over every source, one id each, the home copy winning", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.updateChatInfo(555, { type: "private", username: "ann" });
        await db.updateChatInfo(556, { type: "private", username: "bob" });
        expect(await db.getUserIdByUserName("ANN")).toEqual([
          { userId: ARCH, dataSource: "archive" },
          { userId: 555, dataSource: "primary" },
          { userId: 777, dataSource: "external" },
        ]);
        expect(await db.getUserIdByUserName("ann", { dataSource: "external" })).toEqual([
          { userId: 555, dataSource: "external" },
          { userId: 777, dataSource: "external" },
        ]);
        expect(await db.getUserIdByUserName("nobody")).toEqual([]);
        // whole name, not a prefix
        expect((await db.getUserIdByUserName("anna")).map((m) => m.userId)).toEqual([778]);
      });

      test("listChatsBySetting: every chat with the key, any value, over every source (test_chat_settings.py)", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.setChatSetting(PRIM, "regenerate-embeddings", "true");
        for (const [chat, value] of [
          [20, "True"],
          [21, "1"],
          [22, "false"],
        ] as const)
          await db.setChatSetting(chat, "regenerate-embeddings", value);
        await db.setChatSetting(23, "embeddings-enabled", "true");
        const all = await db.listChatsBySetting("regenerate-embeddings");
        expect(all).toEqual([
          { chatId: EXTC, value: "external", dataSource: "external" },
          { chatId: ARCH, value: "archive", dataSource: "archive" },
          { chatId: PRIM, value: "true", dataSource: "primary" },
          { chatId: 20, value: "True", dataSource: "primary" },
          { chatId: 21, value: "1", dataSource: "primary" },
          { chatId: 22, value: "false", dataSource: "primary" },
          // no home copy: the first source in config order
          { chatId: 999, value: "archive only", dataSource: "archive" },
        ]);
        expect(await db.listChatsBySetting("embeddings-enabled")).toEqual([
          { chatId: 23, value: "true", dataSource: "primary" },
        ]);
        expect(await db.listChatsBySetting("absent-key")).toEqual([]);
        expect(
          (await db.listChatsBySetting("regenerate-embeddings", { dataSource: "external" })).map(
            (m) => m.chatId,
          ),
        ).toEqual([EXTC, 999]);
      });

      test("getHamMessagesByText: whole text, case-insensitive, from the default source or dataSource", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.addHamMessage({
          chatId: PRIM,
          userId: 1,
          messageId: 1,
          text: "FINE",
          reason: "r",
          score: 0,
        });
        await db.addSpamMessage({
          chatId: PRIM,
          userId: 1,
          messageId: 2,
          text: "fine",
          reason: "r",
          score: 1,
        });
        const ham = await db.getHamMessagesByText("fine");
        expect(ham.map((h) => [h.messageId, h.text, h.confidence, h.dataSource])).toEqual([
          ["1", "FINE", 1, "primary"],
        ]);
        expect(await db.getHamMessagesByText("fin")).toEqual([]);
        expect((await db.getHamMessagesByText("FINE", { dataSource: "archive" }))[0]?.text).toBe(
          "Fine",
        );
      });
    });

    describe("divinations (gromozeka's test_divinations.py)", () => {
      const draws = [
        { symbolId: "major_00_fool", reversed: false, position: "Past", positionIndex: 0 },
        { symbolId: "major_01_magician", reversed: true, position: "Present", positionIndex: 1 },
      ];
      const reading = (messageId: number | string = 1001) => ({
        chatId: PRIM,
        messageId,
        userId: 42,
        systemId: "tarot",
        deckId: "rws",
        layoutId: "three_card",
        question: "Что меня ждёт?",
        drawsJson: JSON.stringify(draws),
        interpretation: "A measured, thoughtful interpretation, dood.",
        imagePrompt: "vintage occult illustration of a three-card spread",
        invokedVia: "command",
      });
      const threeCard = {
        systemId: "tarot",
        layoutId: "three_card_spread",
        nameEn: "Three Card Spread",
        nameRu: "Три карты",
        nSymbols: 3,
        positions: ["Past", "Present", "Future"],
        description: "Simple three card layout",
      };

      test("insertReading stores every field; a duplicate (chat, message) is false and keeps one row", async () => {
        await using fx = await setup();
        const { db } = fx;
        const before = Date.now();
        expect(await db.insertDivinationReading(reading())).toBe(true);
        const row = await db.getDivinationReading(PRIM, 1001);
        const { chatId, userId, systemId, deckId, layoutId, question, interpretation } = reading();
        expect(row).toMatchObject({
          chatId,
          messageId: "1001",
          userId,
          systemId,
          deckId,
          layoutId,
          question,
          drawsJson: JSON.stringify(draws),
          interpretation,
          imagePrompt: reading().imagePrompt,
          invokedVia: "command",
          dataSource: "primary",
        });
        const created = row?.createdAt?.getTime() ?? 0;
        expect(created >= before - 1000 && created <= Date.now() + 1000).toBe(true);
        expect(await db.insertDivinationReading({ ...reading(), question: "again" })).toBe(false);
        expect((await db.getDivinationReading(PRIM, "1001"))?.question).toBe("Что меня ждёт?");
      });

      test("a null image prompt is stored as null; draws given as a list are stored as JSON text", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.insertDivinationReading({ ...reading(1), imagePrompt: null })).toBe(true);
        expect((await db.getDivinationReading(PRIM, 1))?.imagePrompt).toBeNull();
        expect(await db.insertDivinationReading({ ...reading(2), drawsJson: draws })).toBe(true);
        const stored = (await db.getDivinationReading(PRIM, 2))?.drawsJson;
        expect(typeof stored).toBe("string");
        expect(JSON.parse(stored as string)).toEqual(draws);
      });

      test("readings route by chat: a mapped readonly chat is refused and nothing is written", async () => {
        await using fx = await setup();
        await expectCode(
          fx.db.insertDivinationReading({ ...reading(), chatId: ARCH }),
          "READONLY_SOURCE",
        );
        expect(await fx.db.getDivinationReading(ARCH, 1001)).toBeNull();
      });

      test("getLayout strips what is between parentheses and searches exact, then partial", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.saveDivinationLayout({
          systemId: "tarot",
          layoutId: "celtic_cross",
          nameEn: "Celtic Cross",
          nameRu: "Кельтский крест",
          nSymbols: 10,
          positions: ["pos1", "pos2", "pos3"],
          description: "A classic spread",
        });
        const found = await db.getDivinationLayout("tarot", "Celtic Cross (Extended)");
        expect(found).toMatchObject({
          layoutId: "celtic_cross",
          nameEn: "Celtic Cross",
          nSymbols: 10,
          positions: ["pos1", "pos2", "pos3"],
          dataSource: "primary",
        });
        await db.saveDivinationLayout(threeCard);
        expect((await db.getDivinationLayout("tarot", "Three Card"))?.layoutId).toBe(
          "three_card_spread",
        );
        expect((await db.getDivinationLayout("tarot", "three card SPREAD"))?.layoutId).toBe(
          "three_card_spread",
        );
        expect((await db.getDivinationLayout("tarot", "Три карты"))?.layoutId).toBe(
          "three_card_spread",
        );
        // several names: the first that matches wins; another system has none of them
        expect((await db.getDivinationLayout("tarot", ["no such", "celtic_cross"]))?.layoutId).toBe(
          "celtic_cross",
        );
        expect(await db.getDivinationLayout("runes", "Three Card")).toBeNull();
        expect(await db.getDivinationLayout("tarot", "pentagram")).toBeNull();
        // an exact match beats a partial one of a lower id
        await db.saveDivinationLayout({
          ...threeCard,
          layoutId: "a_three",
          nameEn: "Three Card Spread Plus",
        });
        expect((await db.getDivinationLayout("tarot", "three card spread"))?.layoutId).toBe(
          "three_card_spread",
        );
      });

      test("saveLayout upserts: createdAt kept, fields replaced; saveNegativeCache only touches updatedAt of a stored layout", async () => {
        await using fx = await setup();
        const { db } = fx;
        const t0 = Date.now() - 60_000;
        await at(new Date(t0), () => db.saveDivinationLayout(threeCard));
        expect(
          await db.saveDivinationLayout({ ...threeCard, nSymbols: 4, description: null }),
        ).toBe(true);
        const after = await db.getDivinationLayout("tarot", "three_card_spread");
        expect(after?.createdAt?.getTime()).toBe(t0);
        expect((after?.updatedAt?.getTime() ?? 0) > t0).toBe(true);
        expect(after).toMatchObject({
          nSymbols: 4,
          description: null,
          nameEn: "Three Card Spread",
        });
        // the negative entry of a stored layout: the layout stays real
        const t1 = Date.now() + 60_000;
        await at(new Date(t1), () => db.saveDivinationNegativeCache("tarot", "three_card_spread"));
        const still = await db.getDivinationLayout("tarot", "three_card_spread");
        expect(still).toMatchObject({ nSymbols: 4, nameEn: "Three Card Spread" });
        expect(still?.updatedAt?.getTime()).toBe(t1);
        expect(isNegativeDivinationLayout(still)).toBe(false);
      });

      test("saveNegativeCache twice: one empty entry, createdAt kept, updatedAt moved (test_saveNegativeCacheUsesExcludedValue)", async () => {
        await using fx = await setup();
        const { db } = fx;
        const t0 = Date.now() - 60_000;
        expect(await at(new Date(t0), () => db.saveDivinationNegativeCache("tarot", "nope"))).toBe(
          true,
        );
        const first = await db.getDivinationLayout("tarot", "nope");
        expect(first).toMatchObject({
          layoutId: "nope",
          nameEn: "",
          nameRu: "",
          nSymbols: 0,
          positions: [],
          description: "",
        });
        expect(first?.createdAt?.getTime()).toBe(t0);
        expect(await db.saveDivinationNegativeCache("tarot", "nope")).toBe(true);
        const second = await db.getDivinationLayout("tarot", "nope");
        expect(second?.createdAt?.getTime()).toBe(t0);
        expect((second?.updatedAt?.getTime() ?? 0) > t0).toBe(true);
        expect(isNegativeDivinationLayout(second)).toBe(true);
      });

      test("a negative entry is found by its id and recognised (test_layoutCacheConsistency)", async () => {
        await using fx = await setup();
        const { db } = fx;
        const canonical = "Celtic Cross (Extended)"
          .toLowerCase()
          .replaceAll(" ", "_")
          .replace(/[()]/g, "");
        await db.saveDivinationLayout({
          ...threeCard,
          layoutId: canonical,
          nameEn: "Celtic Cross",
        });
        expect((await db.getDivinationLayout("tarot", canonical))?.layoutId).toBe(canonical);
        expect(await db.saveDivinationNegativeCache("tarot", `${canonical}_nonexistent`)).toBe(
          true,
        );
        const negative = await db.getDivinationLayout("tarot", `${canonical}_nonexistent`);
        expect(negative).toMatchObject({ nameEn: "", nameRu: "", nSymbols: 0, positions: [] });
        expect(isNegativeDivinationLayout(negative)).toBe(true);
        expect(isNegativeDivinationLayout(null)).toBe(false);
      });

      test("layouts live in the default source: readonly default refuses saves, dataSource reads another", async () => {
        await using fx = await setup();
        await fx.db.saveDivinationLayout(threeCard);
        await using ro = new DatabaseWrapper({
          config: { ...fx.db.config, defaultSource: "archive" },
        });
        await expectCode(ro.saveDivinationLayout(threeCard), "READONLY_SOURCE");
        await expectCode(ro.saveDivinationNegativeCache("tarot", "x"), "READONLY_SOURCE");
        expect(await ro.getDivinationLayout("tarot", "three")).toBeNull();
        expect(
          (await ro.getDivinationLayout("tarot", "three", { dataSource: "primary" }))?.dataSource,
        ).toBe("primary");
      });
    });

    describe("stat events (gromozeka's tests/lib/stats/test_sql_storage.py)", () => {
      const TYPE = "llm_request";
      const global = (rows: { labels: Record<string, string> }[]) =>
        rows.filter((r) => r.labels.consumer === "__global__");

      test("record and aggregate one event: every period, per consumer and in the global rollup", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(
          await db.recordStatEvent(
            TYPE,
            { tokens: 150, requests: 1 },
            { consumerId: "chat_42", labels: { modelName: "gpt-4o", provider: "openai" } },
          ),
        ).toBe(true);
        expect(await db.aggregateStatEvents(TYPE)).toBe(1);
        const rows = await db.getStatAggregates(TYPE);
        // 4 periods × 2 metrics × (consumer + global)
        expect(rows).toHaveLength(16);
        expect(global(rows)).toHaveLength(8);
        const total = rows.filter((r) => r.periodType === "total" && r.metricKey === "tokens");
        expect(total.map((r) => [r.labels, r.metricValue, r.periodStart])).toEqual([
          [
            { consumer: "__global__", modelName: "gpt-4o", provider: "openai" },
            150,
            "1970-01-01T00:00:00+00:00",
          ],
          [
            { consumer: "chat_42", modelName: "gpt-4o", provider: "openai" },
            150,
            "1970-01-01T00:00:00+00:00",
          ],
        ]);
        // gromozeka's labels_hash: md5 of the canonical labels JSON
        const canonical = '{"consumer":"chat_42","modelName":"gpt-4o","provider":"openai"}';
        const hash = new Bun.CryptoHasher("md5").update(canonical).digest("hex");
        expect(total[1]?.labelsHash).toBe(hash);
        const stored = await rawPrimary(db, "SELECT labels, data FROM stat_events");
        expect(stored).toEqual([{ labels: canonical, data: '{"requests":1,"tokens":150}' }]);
        expect(await db.aggregateStatEvents(TYPE)).toBe(0); // processed once
      });

      test("aggregate with nothing to do returns 0", async () => {
        await using fx = await setup();
        expect(await fx.db.aggregateStatEvents(TYPE)).toBe(0);
        expect(await fx.db.getStatAggregates(TYPE)).toEqual([]);
      });

      test("aggregate respects limit", async () => {
        await using fx = await setup();
        for (let i = 0; i < 3; i++)
          await fx.db.recordStatEvent(
            TYPE,
            { count: 1 },
            { consumerId: "chat_1", labels: { i: String(i) } },
          );
        expect(await fx.db.aggregateStatEvents(TYPE, { limit: 2 })).toBe(2);
        expect(await fx.db.aggregateStatEvents(TYPE, { limit: 2 })).toBe(1);
        expect(await fx.db.aggregateStatEvents(TYPE, { limit: 2 })).toBe(0);
      });

      test("an orphaned claim is reclaimed; a fresh one is not", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.recordStatEvent(TYPE, { tokens: 10 }, { consumerId: "chat_42" });
        // a run that claimed the event and did not finish, just now
        await rawPrimary(
          db,
          "UPDATE stat_events SET processed_id = 'crashed', claimed_at = $1 WHERE processed = 0",
          [new Date().toISOString().replace("Z", "+00:00")],
        );
        expect(await db.aggregateStatEvents(TYPE, { orphanTimeoutSeconds: 3600 })).toBe(0);
        // the same claim in 2000: an orphan
        await rawPrimary(db, "UPDATE stat_events SET claimed_at = $1 WHERE processed = 0", [
          "2000-01-01T00:00:00+00:00",
        ]);
        expect(await db.aggregateStatEvents(TYPE, { orphanTimeoutSeconds: 1 })).toBe(1);
        const total = await db.getStatAggregates(TYPE, {
          periodType: "total",
          metricKey: "tokens",
        });
        expect(total.map((r) => r.metricValue)).toEqual([10, 10]);
      });

      test("the periods are the UTC hour, day, month and total of the event time", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.recordStatEvent(
          TYPE,
          { tokens: 100 },
          {
            consumerId: "chat_1",
            eventTime: new Date("2024-06-15T14:30:00Z"),
          },
        );
        expect(await db.aggregateStatEvents(TYPE)).toBe(1);
        const rows = await db.getStatAggregates(TYPE, { metricKey: "tokens" });
        const starts = Object.fromEntries(rows.map((r) => [r.periodType, r.periodStart]));
        expect(starts).toEqual({
          hourly: "2024-06-15T14:00:00+00:00",
          daily: "2024-06-15T00:00:00+00:00",
          monthly: "2024-06-01T00:00:00+00:00",
          total: "1970-01-01T00:00:00+00:00",
        });
      });

      test("several consumers: one sum each, the global one sums them; later runs add to the sums", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.recordStatEvent(
          TYPE,
          { tokens: 10 },
          { consumerId: "chat_A", labels: { model: "m1" } },
        );
        await db.recordStatEvent(
          TYPE,
          { tokens: 20 },
          { consumerId: "chat_B", labels: { model: "m1" } },
        );
        expect(await db.aggregateStatEvents(TYPE)).toBe(2);
        const totals = async () =>
          Object.fromEntries(
            (await db.getStatAggregates(TYPE, { periodType: "total", metricKey: "tokens" })).map(
              (r) => [r.labels.consumer, r.metricValue],
            ),
          );
        expect(await totals()).toEqual({ __global__: 30, chat_A: 10, chat_B: 20 });
        await db.recordStatEvent(
          TYPE,
          { tokens: 5 },
          { consumerId: "chat_A", labels: { model: "m1" } },
        );
        expect(await db.aggregateStatEvents(TYPE)).toBe(1);
        expect(await totals()).toEqual({ __global__: 35, chat_A: 15, chat_B: 20 });
        // without a consumer the event is the global one's own
        await db.recordStatEvent(TYPE, { tokens: 1 });
        expect(await db.aggregateStatEvents(TYPE)).toBe(1);
        const g = await db.getStatAggregates(TYPE, { periodType: "total", metricKey: "tokens" });
        expect(
          g.filter((r) => r.labels.consumer === "__global__").map((r) => r.metricValue),
        ).toEqual([
          35,
          // {consumer: __global__} alone: the event's own label set is the rollup's, so its
          // value is added twice, as gromozeka's aggregate does
          2,
        ]);
      });

      test("an event written by gromozeka (ISO time, its JSON with spaces) is aggregated", async () => {
        await using fx = await setup();
        const { db } = fx;
        expect(await db.getStatAggregates(TYPE)).toEqual([]); // (the primary is open and migrated)
        await rawPrimary(
          db,
          `INSERT INTO stat_events (event_id, event_type, event_time, data, labels, processed,
          processed_id, claimed_at, created_at) VALUES ('e1', $1, $2, $3, $4, 0, NULL, NULL, $2)`,
          [TYPE, "2024-06-15T14:30:00+00:00", '{"tokens": 1, "bad": NaN}', '{"consumer":"test"}'],
        );
        expect(await db.aggregateStatEvents(TYPE, { limit: 100 })).toBe(1);
        const rows = await db.getStatAggregates(TYPE, { periodType: "hourly" });
        expect(
          rows.map((r) => [r.labels.consumer, r.metricKey, r.periodStart, r.metricValue]),
        ).toEqual([
          ["__global__", "tokens", "2024-06-15T14:00:00+00:00", 1],
          ["test", "tokens", "2024-06-15T14:00:00+00:00", 1],
        ]);
      });

      test("non-finite values are recorded and skipped by the aggregation; other types are refused", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.recordStatEvent(
          TYPE,
          { normal: 10, infinite: Infinity, nan: Number.NaN },
          {
            consumerId: "chat_1",
          },
        );
        expect((await rawPrimary(db, "SELECT data FROM stat_events"))[0]?.data).toBe(
          '{"infinite":Infinity,"nan":NaN,"normal":10}',
        );
        expect(await db.aggregateStatEvents(TYPE)).toBe(1);
        const keys = new Set((await db.getStatAggregates(TYPE)).map((r) => r.metricKey));
        expect([...keys]).toEqual(["normal"]);
        await expectCode(
          db.recordStatEvent(TYPE, { x: "1" as unknown as number }),
          "INVALID_ARGUMENT",
        );
        await expectCode(
          db.recordStatEvent(TYPE, { x: 1 }, { labels: { a: 1 as unknown as string } }),
          "INVALID_ARGUMENT",
        );
        expect(await rawPrimary(db, "SELECT event_id FROM stat_events")).toHaveLength(1);
      });

      test("other event types are neither claimed nor summed", async () => {
        await using fx = await setup();
        const { db } = fx;
        await db.recordStatEvent("other", { tokens: 7 });
        expect(await db.aggregateStatEvents(TYPE)).toBe(0);
        expect(await db.aggregateStatEvents("other")).toBe(1);
        expect(await db.getStatAggregates(TYPE)).toEqual([]);
        // no consumer: counted twice, as gromozeka (see above)
        expect((await db.getStatAggregates("other", { periodType: "total" }))[0]?.metricValue).toBe(
          14,
        );
      });

      test("stats live in the default source: a readonly default refuses both writes", async () => {
        await using fx = await setup();
        await using ro = new DatabaseWrapper({
          config: { ...fx.db.config, defaultSource: "archive" },
        });
        await expectCode(ro.recordStatEvent(TYPE, { x: 1 }), "READONLY_SOURCE");
        await expectCode(ro.aggregateStatEvents(TYPE), "READONLY_SOURCE");
        expect(await ro.getStatAggregates(TYPE)).toEqual([]);
      });
    });

    describe("routing", () => {
      test("the default-source writes are refused on a readonly default and change nothing there", async () => {
        await using fx = await setup();
        const { db } = fx;
        // a second wrapper whose default is the readonly archive
        const config = { ...db.config, defaultSource: "archive" };
        await using ro = new DatabaseWrapper({ config });
        await expectCode(ro.cleanupOldCompletedDelayedTasks(null), "READONLY_SOURCE");
        await expectCode(ro.clearOldCacheEntries(null), "READONLY_SOURCE");
        await expectCode(ro.clearOldCacheEntries(null, "weather"), "READONLY_SOURCE");
        expect((await ro.getCacheEntry("arch", "weather"))?.dataSource).toBe("archive");
        expect(await ro.updateDelayedTask("t-arch", false).catch((e) => e.code)).toBe(
          "READONLY_SOURCE",
        );
      });

      test("an aggregated lookup skips a failing source unless strict", async () => {
        await using fx = await setup();
        await expectCode(
          fx.db.getUserIdByUserName("ann", { dataSource: "nope" }),
          "UNKNOWN_SOURCE",
        );
        await expectCode(
          fx.db.listChatsBySetting("k", { strict: "yes" as unknown as boolean }),
          "INVALID_ARGUMENT",
        );
      });
    });

    describe("unknown option names", () => {
      test("getChatUsers(chat, { lastActiveDay: 7 }) is INVALID_ARGUMENT naming the option", async () => {
        await using fx = await setup();
        const e = await expectCode(
          fx.db.getChatUsers(PRIM, { lastActiveDay: 7 } as never),
          "INVALID_ARGUMENT",
        );
        expect(e.message).toContain('"lastActiveDay"');
      });

      test("every data method taking an options object refuses a name it does not know", async () => {
        await using fx = await setup();
        const checked: string[] = [];
        for (const spec of METHODS) {
          const i = spec.args.findIndex((a) => a.kind === "object" && a.name === "opts");
          if (i === -1) continue;
          const args = spec.args.map((a) => validValue(a, PRIM));
          args[i] = { ...(args[i] as object), datasource: "primary" };
          const call = (fx.db[spec.name] as (...xs: unknown[]) => Promise<unknown>)(...args);
          const e = await expectCode(call, "INVALID_ARGUMENT");
          expect([spec.name, e.message]).toEqual([
            spec.name,
            expect.stringContaining('"datasource"'),
          ]);
          // and the valid options are taken
          await callValid(fx.db, spec, PRIM);
          checked.push(spec.name);
        }
        expect(checked.length).toBeGreaterThanOrEqual(25);
        expect(checked).toContain("getChatMessagesSince");
        expect(checked).toContain("getCacheEntry");
      });
    });
  });
}
