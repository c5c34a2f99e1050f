import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ChatSession } from "../../examples/bot/bot.ts";
import { ANN, BOB, BOOK_CLUB, DEV, FOOTBALL, runExample } from "../../examples/bot/run.ts";
import { createSessionStorage, DatabaseWrapper } from "../../src/index.ts";
import { tempDir } from "../helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");

describe("the example bot (real grammY, no network)", () => {
  test("answers through captured Bot API calls; messages, routing and sessions read back from the files", async () => {
    await using dir = tempDir("chatdb-example-");
    const calls = await runExample(dir.path, () => {});

    // every outgoing call is a sendMessage to the chat the update came from
    expect(calls.map((c) => [c.method, c.payload.chat_id])).toEqual([
      ["sendMessage", BOOK_CLUB.id],
      ["sendMessage", FOOTBALL.id],
      ["sendMessage", FOOTBALL.id],
      ["sendMessage", DEV.id],
      ["sendMessage", FOOTBALL.id], // after the restart
    ]);
    const [archived, before, moved, dev, restarted] = calls.map((c) => String(c.payload.text));
    expect(archived).toBe("this chat is archived (archive, read-only): not stored");
    expect(before).toStartWith("stats for Ann\n");
    expect(before).toContain("this chat is stored in: primary (rule: default)");
    expect(before).toContain("Football [primary], Dev chat [primary], Book club 2021 [archive]");
    expect(before).toContain("messages I have seen here: 3 (grammY session)");
    expect(moved).toContain("this chat is stored in: busy (rule: chatMapping)");
    expect(moved).toContain("Football [busy], Dev chat [primary], Book club 2021 [archive]");
    expect(moved).toContain("group chats: 3 (busy: 1, primary: 1, archive: 1)");
    expect(moved).toContain("messages I have seen here: 5 (grammY session)");
    expect(dev).toStartWith("stats for Bob Stone\n");
    expect(dev).toContain("your messages here: 2");
    // the session counter carried on across the restart (a new wrapper on the same files)
    expect(restarted).toContain("this chat is stored in: busy (rule: chatMapping)");
    expect(restarted).toContain("messages I have seen here: 6 (grammY session)");

    // what the files hold, read back through a fresh wrapper on the same config
    await using db = new DatabaseWrapper({ configPath: dir.file("bot.toml") });
    const texts = async (chatId: number, userId: number, dataSource: string) =>
      (await db.getChatMessagesByUser(chatId, userId, { dataSource })).map((m) => m.messageText);
    // Football's messages before the config edit stayed in bot.db, later ones went to busy
    expect(await texts(FOOTBALL.id, ANN.id, "primary")).toEqual(["/stats", "what a goal!"]);
    expect(await texts(FOOTBALL.id, BOB.id, "primary")).toEqual(["offside, surely"]);
    expect(await texts(FOOTBALL.id, ANN.id, "busy")).toEqual([
      "/stats",
      "/stats",
      "second half starting",
    ]);
    expect(await texts(DEV.id, BOB.id, "primary")).toEqual(["/stats", "hi Ann"]);
    // the archived chat's message was refused: the archive has none
    expect(await texts(BOOK_CLUB.id, ANN.id, "archive")).toEqual([]);
    // grammY sessions, keyed by chat id, on the default source — the archived chat's too
    const sessions = createSessionStorage<ChatSession>(db);
    expect(await Array.fromAsync(sessions.readAllKeys())).toEqual(
      [BOOK_CLUB.id, DEV.id, FOOTBALL.id].map(String).sort(),
    );
    expect(await sessions.read(String(FOOTBALL.id))).toEqual({ seen: 6 });
    expect(await sessions.read(String(DEV.id))).toEqual({ seen: 3 });
    expect(await sessions.read(String(BOOK_CLUB.id))).toEqual({ seen: 1 });
  });

  test("npm run example: narrates, exits 0, prints nothing on stderr, removes its folder", async () => {
    const proc = Bun.spawn([process.execPath, "examples/bot/run.ts"], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain("bot → Book club 2021: this chat is archived (archive, read-only)");
    expect(out).toContain("[operator] restarts the bot");
    const dir = /working in (\S+)/.exec(out)?.[1] ?? "(no folder printed)";
    expect(existsSync(dir)).toBe(false);
  });
});
