/**
 * The other direction: a gromozeka bot's own file (the v18 fixture, made by its code) becomes a
 * chatdb bot's writable primary; chatdb writes into it, and gromozeka's own read methods then
 * answer what chatdb wrote (and what chatdb reads back). Also the time bounds on a file holding
 * both timestamp encodings, and `chatdb migrate` taking a chatdb v6 file to 18 losing nothing.
 * The parts that run gromozeka's Python skip, saying why, where it or its source is missing.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseWrapper } from "../../src/index.ts";
import { migrateSqlite } from "../../src/schema/migrate.ts";
import { MIGRATIONS } from "../../src/schema/migrations.ts";
import { call, compare, findGromozeka, GROMOZEKA_FIXTURES, gromozekaReads } from "../gromozeka.ts";
import { tempDir } from "../helpers.ts";
import { chatdb } from "./cli-helpers.ts";

const FORUM = -1001234567890;
const NOW = "2025-11-28T12:30:00+00:00";
const gromozeka = findGromozeka();
if (typeof gromozeka === "string")
  console.warn(`chatdb: SKIPPING gromozeka's own reads of chatdb-written files: ${gromozeka}`);

/** What chatdb writes into gromozeka's file; then both programs read it. */
async function writeAsChatdb(db: DatabaseWrapper): Promise<void> {
  await db.updateChatUser(FORUM, 42, "@New_User", "Новый");
  await db.markUserIsSpammer(FORUM, 42, true);
  await db.saveChatMessage({
    chatId: FORUM,
    messageId: 900,
    date: new Date("2025-11-28T12:10:00Z"),
    userId: 42,
    messageText: "written by chatdb 🚀",
    threadId: 5,
    mediaGroupId: "album-900",
    markup: "[]",
    metadata: '{"from":"chatdb"}',
  });
  await db.setChatSetting(FORUM, "temperature", "0.7", 42);
  await db.addSpamMessage({
    chatId: FORUM,
    userId: 42,
    messageId: 900,
    text: "Written By Chatdb",
    reason: "test",
    score: 0.9,
    confidence: 0.5,
  });
  await db.setCacheEntry("url:900", '{"page":"text"}', "url_content");
  await db.setCacheStorage("chatdb", "k", "v");
}

const PLAN = [
  { method: "chatMessages.getChatMessageByMessageId", args: { chatId: FORUM, messageId: 900 } },
  {
    method: "chatMessages.getChatMessagesSince",
    args: { chatId: FORUM, sinceDateTime: "2025-11-28T12:05:00+00:00" },
  },
  { method: "chatUsers.getChatUser", args: { chatId: FORUM, userId: 42 } },
  { method: "chatUsers.getChatUserByUsername", args: { chatId: FORUM, username: "@new_user" } },
  {
    method: "chatUsers.getChatUsers",
    args: { chatId: FORUM, seenSince: "2025-11-28T12:00:00+00:00" },
  },
  { method: "chatSettings.getChatSettings", args: { chatId: FORUM } },
  { method: "spam.getSpamMessagesByText", args: { text: "written by CHATDB" } },
  { method: "cache.getCacheEntry", args: { key: "url:900", cacheType: "url_content" } },
  { method: "cache.getCacheStorage", args: {} },
];

describe.skipIf(typeof gromozeka === "string")("gromozeka reads what chatdb wrote", () => {
  test("a v18 gromozeka file as chatdb's writable primary: gromozeka's own reads see every write, as chatdb does", async () => {
    await using dir = tempDir();
    const file = dir.file("bot.sqlite3");
    copyFileSync(join(GROMOZEKA_FIXTURES, "v18.sqlite3"), file);
    {
      await using db = new DatabaseWrapper({ dbPath: file, watchSources: false });
      expect(db.health().sources[0]?.schemaVersion).toBe(18);
      await writeAsChatdb(db);
    }
    const answers = gromozekaReads(
      gromozeka as { python: string; src: string },
      file,
      PLAN,
      NOW,
      dir.path,
    );
    expect(answers.map((a) => [a.method, a.errors])).toEqual(PLAN.map((p) => [p.method, []]));
    // what gromozeka read is what chatdb wrote…
    const byMethod = (m: string): unknown => answers.find((a) => a.method === m)?.answer;
    expect(byMethod("chatMessages.getChatMessageByMessageId")).toMatchObject({
      message_id: "900",
      message_text: "written by chatdb 🚀",
      media_group_id: "album-900",
      metadata: '{"from":"chatdb"}',
      date: "2025-11-28T12:10:00+00:00",
    });
    expect(
      JSON.parse((byMethod("chatUsers.getChatUser") as { metadata: string }).metadata),
    ).toEqual({ isSpammer: true });
    expect(byMethod("chatSettings.getChatSettings")).toMatchObject({ temperature: ["0.7", 42] });
    expect(byMethod("spam.getSpamMessagesByText")).toEqual([
      expect.objectContaining({ message_id: "900", confidence: 0.5 }),
    ]);
    expect(byMethod("cache.getCacheEntry")).toMatchObject({ data: '{"page":"text"}' });
    // …and chatdb reads the same file the same way
    await using db = new DatabaseWrapper({ dbPath: file, watchSources: false });
    const problems: string[] = [];
    for (const c of answers) problems.push(...compare(c, await call(db, c, "default")));
    expect(problems).toEqual([]);
    // one daily-stats row per chat and day: chatdb keys the day as gromozeka does
    const raw = new Database(file, { readonly: true });
    const days = raw
      .query(
        "SELECT date, messages_count FROM chat_stats WHERE chat_id = ? AND date LIKE '2025-11-28%'",
      )
      .all(FORUM) as { date: string }[];
    raw.close();
    expect(days.map((d) => d.date)).toEqual(["2025-11-28T00:00:00+00:00"]);
  }, 60_000);
});

describe("time bounds on a file holding both encodings", () => {
  test("rows chatdb v6 wrote (naive text) and gromozeka wrote (ISO) on one day: since and till are right in both orders", async () => {
    await using dir = tempDir();
    const file = dir.file("mixed.db");
    // a chatdb 0.1 file: naive timestamps, then migrated to 18 (rows kept as written)
    const v6 = new Database(file, { create: true, readwrite: true });
    migrateSqlite(v6, "old", MIGRATIONS.slice(0, 6));
    const naive = ["2025-11-28 09:00:00", "2025-11-28 11:00:00", "2025-11-28 13:00:00"];
    for (const [i, at] of naive.entries()) {
      v6.run(
        `INSERT INTO chat_messages (chat_id, message_id, date, user_id, message_text, created_at)
         VALUES (?, ?, ?, 1, 'chatdb', ?)`,
        [FORUM, `c${i}`, at, at],
      );
    }
    v6.close();
    await using db = new DatabaseWrapper({ dbPath: file, watchSources: false });
    // gromozeka's rows on the same day, interleaved: ISO text
    const raw = new Database(file, { readwrite: true });
    for (const [i, at] of [
      "2025-11-28T08:00:00+00:00",
      "2025-11-28T10:00:00+00:00",
      "2025-11-28T12:00:00.500000+00:00",
    ].entries()) {
      raw.run(
        `INSERT INTO chat_messages (chat_id, message_id, date, user_id, message_text, created_at)
         VALUES (?, ?, ?, 2, 'gromozeka', ?)`,
        [FORUM, `g${i}`, at, at],
      );
    }
    raw.close();
    const ids = async (o: { since?: string; till?: string }) =>
      (
        await db.getChatMessagesSince(FORUM, {
          ...(o.since ? { since: new Date(o.since) } : {}),
          ...(o.till ? { till: new Date(o.till) } : {}),
        })
      )
        .map((m) => m.messageId)
        .sort();
    // a bound after a naive row and before an ISO one on the same day, and the reverse
    expect(await ids({ since: "2025-11-28T10:30:00Z" })).toEqual(["c1", "c2", "g2"]);
    expect(await ids({ since: "2025-11-28T09:30:00Z" })).toEqual(["c1", "c2", "g1", "g2"]);
    expect(await ids({ till: "2025-11-28T10:30:00Z" })).toEqual(["c0", "g0", "g1"]);
    expect(await ids({ till: "2025-11-28T11:30:00Z" })).toEqual(["c0", "c1", "g0", "g1"]);
    expect(await ids({ since: "2025-11-28T09:00:00Z", till: "2025-11-28T12:00:00.500Z" })).toEqual([
      "c1",
      "g1",
    ]);
  });
});

describe("chatdb migrate on a chatdb v6 file", () => {
  test("spammer flags, typed caches and stats move to 18; the file then reads in gromozeka's code", async () => {
    await using dir = tempDir();
    const file = dir.file("bot.db");
    const v6 = new Database(file, { create: true, readwrite: true });
    migrateSqlite(v6, "old", MIGRATIONS.slice(0, 6));
    v6.run(
      "INSERT INTO chat_users (chat_id, user_id, username, full_name, is_spammer, metadata) VALUES (?, 5, '@spam', 'S', TRUE, '')",
      [FORUM],
    );
    v6.run("INSERT INTO cache_weather (key, data) VALUES ('moscow', '{\"t\":-5}')");
    v6.run(
      "INSERT INTO chat_stats (chat_id, date, messages_count) VALUES (?, '2025-11-28 00:00:00', 3)",
      [FORUM],
    );
    v6.close();
    const config = join(dir.path, "bot.toml");
    await Bun.write(
      config,
      `[database]\ndefault_source = "primary"\n[database.sources.primary]\npath = "bot.db"\n`,
    );
    const r = chatdb(["migrate", config]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("version 6 → 18");
    await using db = new DatabaseWrapper({ dbPath: file, watchSources: false });
    expect((await db.getChatUser(FORUM, 5))?.isSpammer).toBe(true);
    expect((await db.getCacheEntry("moscow", "weather"))?.data).toBe('{"t":-5}');
    const raw = new Database(file, { readonly: true });
    expect(raw.query("SELECT date, messages_count FROM chat_stats").all()).toEqual([
      { date: "2025-11-28T00:00:00+00:00", messages_count: 3 },
    ]);
    raw.close();
    if (typeof gromozeka !== "string") {
      const [user, entry] = gromozekaReads(
        gromozeka,
        file,
        [
          { method: "chatUsers.getChatUser", args: { chatId: FORUM, userId: 5 } },
          { method: "cache.getCacheEntry", args: { key: "moscow", cacheType: "weather" } },
        ],
        NOW,
        dir.path,
      );
      expect(JSON.parse((user as { answer: { metadata: string } }).answer.metadata)).toEqual({
        isSpammer: true,
      });
      expect(entry?.answer).toMatchObject({ data: '{"t":-5}' });
    }
  }, 60_000);
});
