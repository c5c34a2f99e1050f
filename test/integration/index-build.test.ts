/**
 * chatdb's indexes on a large file the bot already has (a chatdb 0.1 file, or gromozeka's):
 * built by a worker thread while the bot answers, complete afterwards, stopped cleanly by
 * close() and finished at the next open.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import type { Generation } from "../../src/core.ts";
import { DatabaseWrapper } from "../../src/index.ts";
import { INDEXES, INLINE_INDEX_ROWS } from "../../src/schema/indexes.ts";
import type { SqliteSource } from "../../src/sources/sqlite-source.ts";
import { bigUnindexedFile, tempDir } from "../helpers.ts";

const CHAT = -1001000000077;
const ROWS = 150_000;

const indexNames = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .query("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'chatdb_%'")
      .all() as { name: string }[];
    return rows.map((r) => r.name).sort();
  } finally {
    db.close();
  }
};

const source = (db: DatabaseWrapper) =>
  (db as unknown as { gen: Generation }).gen.sources.get("default") as SqliteSource;

describe("background index build", () => {
  test("a large file is indexed off the thread: reads and writes are served meanwhile, every index is there after", async () => {
    expect(ROWS).toBeGreaterThan(INLINE_INDEX_ROWS);
    await using dir = tempDir();
    const path = dir.file("bot.db");
    await bigUnindexedFile(path, CHAT, ROWS);
    const logs: string[] = [];
    await using db = new DatabaseWrapper({ dbPath: path, logger: { info: (m) => logs.push(m) } });
    const indexing = source(db)._indexing;
    expect(indexing).not.toBeNull();
    let finished = false;
    void indexing?.then(() => {
      finished = true;
    });
    // the constructor returned before the build: the bot answers while it runs
    const newest = await db.getChatMessagesSince(CHAT, { limit: 3 });
    expect(newest.map((m) => m.messageId)).toEqual([
      String(ROWS),
      String(ROWS - 1),
      String(ROWS - 2),
    ]);
    const saved = db.saveChatMessage({
      chatId: CHAT,
      messageId: "new",
      date: new Date(),
      userId: 1,
      messageText: "written during the build",
    });
    expect(finished).toBe(false);
    expect(await saved).toBe(true);

    const report = await indexing;
    expect(report?.failed).toBe("");
    expect(indexNames(path)).toEqual(INDEXES.map((i) => i.name).sort());
    expect(logs.some((l) => l.includes("built") && l.includes("off the thread"))).toBe(true);
    // the bot's statements use them now
    const plan = source(db)
      ._connection()
      .query(
        "EXPLAIN QUERY PLAN SELECT message_id FROM chat_messages c WHERE c.chat_id = ? ORDER BY c.date DESC, length(c.message_id) DESC, c.message_id DESC LIMIT 100",
      )
      .all(CHAT) as { detail: string }[];
    expect(plan.map((p) => p.detail).join("\n")).toContain("chatdb_messages_by_date");
    expect((await db.getChatMessagesSince(CHAT, { limit: 1 }))[0]?.messageText).toBe(
      "written during the build",
    );
  });

  test("close() during the build stops it cleanly; the next open finishes it", async () => {
    await using dir = tempDir();
    const path = dir.file("bot.db");
    await bigUnindexedFile(path, CHAT, ROWS);
    const first = new DatabaseWrapper(path);
    await first.close();
    const report = await source(first)._indexing;
    expect(report?.failed).toContain("stopped");
    expect(indexNames(path).length).toBeLessThan(INDEXES.length);
    const check = new Database(path, { readonly: true });
    expect(check.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    check.close();

    await using second = new DatabaseWrapper(path);
    await source(second)._indexing;
    expect(indexNames(path)).toEqual(INDEXES.map((i) => i.name).sort());
    expect(await second.getChatMessagesSince(CHAT, { limit: 1 })).toHaveLength(1);
  });
});
