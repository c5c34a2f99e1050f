#!/usr/bin/env bun
/**
 * Runs the example bot end to end, with no network: `bun examples/bot/run.ts`.
 *
 * A temp folder gets a config (primary + a second writable database + a readonly archive) and
 * an archive with an old chat. The bot is started with `watch: true`, fake updates are fed to
 * it, and half-way through this script edits bot.toml to move the "Football" chat to the other
 * database. The bot keeps running; its next /stats answers show the new routing.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseWrapper } from "chatdb";
import { createBot } from "./bot.ts";
import type { Update } from "./mini-bot.ts";

const DEV = { id: -1001000000001, type: "supergroup", title: "Dev chat" } as const;
const FOOTBALL = { id: -1001000000002, type: "supergroup", title: "Football" } as const;
const BOOK_CLUB = { id: -1000900000003, type: "supergroup", title: "Book club 2021" } as const;
const ANN = { id: 42, first_name: "Ann", username: "ann" };
const BOB = { id: 43, first_name: "Bob", last_name: "Stone", username: "bob" };

const config = (mapping: string) => `[database]
default_source = "primary"

[database.sources.primary]
path = "bot.db"

[database.sources.busy]           # a second database for the chats that talk the most
path = "busy-chats.db"

[database.sources.archive]
path = "archive.db"
readonly = true
immutable = true

[database.chat_mapping]
${BOOK_CLUB.id} = "archive"
${mapping}`;

const dir = mkdtempSync(join(tmpdir(), "chatdb-bot-"));
const configPath = join(dir, "bot.toml");
let exitCode = 0;
console.log(`example bot — working in ${dir} (removed at the end)`);

try {
  // An archive from last year, where Ann was in the book club.
  {
    await using archive = new DatabaseWrapper(join(dir, "archive.db"));
    await archive.updateChatInfo(BOOK_CLUB.id, { type: "supergroup", title: BOOK_CLUB.title });
    await archive.updateChatUser(BOOK_CLUB.id, ANN.id, "@ann", "Ann");
  }
  await writeFile(configPath, config(""));

  await using db = new DatabaseWrapper({ configPath, watch: true });
  await db.watch();
  db.on("reloadError", ({ error }) =>
    console.log(`! config rejected, old one kept: ${error.message}`),
  );

  const titles = new Map<number, string>([DEV, FOOTBALL, BOOK_CLUB].map((c) => [c.id, c.title]));
  const bot = createBot(db, async (chatId, text) => {
    console.log(`  bot → ${titles.get(chatId)}: ${text.replaceAll("\n", "\n  ")}`);
  });

  let updateId = 0;
  let messageId = 100;
  const say = async (
    chat: typeof DEV | typeof FOOTBALL | typeof BOOK_CLUB,
    from: typeof ANN,
    text: string,
  ) => {
    console.log(`${from.first_name} → ${chat.title}: ${text}`);
    const update: Update = {
      update_id: ++updateId,
      message: { message_id: ++messageId, date: Math.floor(Date.now() / 1000), chat, from, text },
    };
    await bot.handleUpdate(update);
  };

  await say(DEV, ANN, "hello everyone");
  await say(DEV, BOB, "hi Ann");
  await say(FOOTBALL, ANN, "what a goal!");
  await say(FOOTBALL, BOB, "offside, surely");
  await say(BOOK_CLUB, ANN, "anyone still here?");
  await say(FOOTBALL, ANN, "/stats");

  console.log(`\n[operator] edits bot.toml: ${FOOTBALL.id} = "busy" (the bot keeps running)`);
  const reloaded = once(db, "reload", { signal: AbortSignal.timeout(15_000) }).catch(() => {
    throw new Error("timed out after 15 s waiting for the bot to reload its config");
  });
  await writeFile(configPath, config(`${FOOTBALL.id} = "busy"\n`));
  await reloaded;
  console.log("[bot] config reloaded: Football's new messages go to busy-chats.db");
  console.log("      (its earlier ones stay in bot.db; reads of Football now go to busy)\n");

  await say(FOOTBALL, ANN, "second half starting");
  await say(FOOTBALL, ANN, "/stats");
  await say(DEV, BOB, "/stats");
} catch (e) {
  exitCode = 1;
  console.error(`example bot failed: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\ndone: ${dir} removed`);
process.exit(exitCode);
