import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DatabaseWrapper, type SlowQuery } from "../src/index.ts";
import { bigUnindexedFile, expectCode, tempDir, writeConfig } from "./helpers.ts";

const CHAT = -1001000000042;
const CLI = join(import.meta.dir, "../src/cli/main.ts");
const ROWS = 200_000;

describe("slowQuery", () => {
  test("an unindexed readonly file's scan fires it with source and statement; a fast call does not", async () => {
    await using dir = tempDir();
    await bigUnindexedFile(dir.file("other.db"), CHAT, ROWS);
    const config = writeConfig(
      dir.path,
      `[database]
default_source = "primary"
[database.sources.primary]
path = "primary.db"
[database.sources.other]
path = "other.db"
readonly = true
`,
    );
    const warnings: string[] = [];
    await using db = new DatabaseWrapper({
      configPath: config,
      slowMs: 20,
      logger: { warn: (m) => warnings.push(m) },
    });
    // health says which calls will scan there, and on how big a table
    const scans = db.health().sources.find((h) => h.name === "other")?.scans;
    expect(scans?.find((t) => t.table === "chat_messages")).toMatchObject({ rows: ROWS });
    expect(scans?.flatMap((t) => t.calls)).toContain("getChatMessagesSince");
    expect(db.health().sources.find((h) => h.name === "primary")?.scans).toEqual([]);
    // and so does `chatdb check`, as a note (exit 0)
    const check = Bun.spawnSync([process.execPath, CLI, "check", config, "--json"]);
    expect(check.exitCode).toBe(0);
    const report = JSON.parse(check.stdout.toString()) as {
      sources: { name: string; notes: string[]; scans: unknown[] }[];
    };
    const other = report.sources.find((r) => r.name === "other");
    expect(other?.notes.join("\n")).toContain(
      "chat_messages (≈200,000 rows): getChatMessagesSince",
    );
    expect(report.sources.find((r) => r.name === "primary")?.scans).toEqual([]);

    const slow: SlowQuery[] = [];
    db.on("slowQuery", (e) => slow.push(e));

    // fast calls: point reads, and the newest 100 of the same chat on an indexed copy
    expect((await db.getChatInfo(CHAT, { dataSource: "other" }))?.title).toBe("big");
    await db.saveChatMessage({
      chatId: CHAT,
      messageId: "1",
      date: new Date(),
      userId: 1,
      messageText: "hi",
    });
    expect(await db.getChatMessagesSince(CHAT, { limit: 100 })).toHaveLength(1);
    expect(slow).toEqual([]);

    const newest = await db.getChatMessagesSince(CHAT, { limit: 100, dataSource: "other" });
    expect(newest.map((m) => m.messageId).slice(0, 2)).toEqual([String(ROWS), String(ROWS - 1)]);
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatchObject({ source: "other", method: "messages.since", rows: 100 });
    expect(slow[0]?.ms).toBeGreaterThan(20);
    expect(
      warnings.filter((w) => w.includes("slow call on source other: messages.since")),
    ).toHaveLength(1);
  });

  test("slowMs is checked: a negative or non-number value is INVALID_ARGUMENT; Infinity turns it off", async () => {
    await using dir = tempDir();
    const path = dir.file("bot.db");
    await expectCode(() => new DatabaseWrapper({ dbPath: path, slowMs: -1 }), "INVALID_ARGUMENT");
    await expectCode(
      () => new DatabaseWrapper({ dbPath: path, slowMs: "50" as unknown as number }),
      "INVALID_ARGUMENT",
    );
    await using db = new DatabaseWrapper({ dbPath: path, slowMs: Number.POSITIVE_INFINITY });
    expect(await db.getChatInfo(CHAT)).toBeNull();
  });
});
