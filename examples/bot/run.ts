#!/usr/bin/env bun
/**
 * Runs the example bot end to end, with no network: `npm run example`.
 *
 * A temp folder gets a config (primary + a second writable database + a readonly archive) and
 * an archive with an old chat. A real grammY bot is started on a wrapper with `watch: true`,
 * with `botInfo` given (no `getMe`) and an API transformer that captures every outgoing call
 * and answers it ok (no Telegram). Updates are fed through `bot.handleUpdate`. Half-way through,
 * this script edits bot.toml to move the "Football" chat to the other database; the bot keeps
 * running and its next /stats shows the new routing. Then the bot is restarted (a new wrapper on
 * the same files): its grammY sessions, stored in chatdb, carry on where they were.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseWrapper } from "chatdb";
import type { Update, UserFromGetMe } from "grammy/types";
import { createBot } from "./bot.ts";

export const DEV = { id: -1001000000001, type: "supergroup", title: "Dev chat" } as const;
export const FOOTBALL = { id: -1001000000002, type: "supergroup", title: "Football" } as const;
export const BOOK_CLUB = {
  id: -1000900000003,
  type: "supergroup",
  title: "Book club 2021",
} as const;
export const ANN = { id: 42, is_bot: false, first_name: "Ann", username: "ann" } as const;
export const BOB = {
  id: 43,
  is_bot: false,
  first_name: "Bob",
  last_name: "Stone",
  username: "bob",
} as const;
type Chat = typeof DEV | typeof FOOTBALL | typeof BOOK_CLUB;

/** What `getMe` would answer; given to the Bot so it never calls Telegram to learn it. */
const BOT_INFO = {
  id: 1000,
  is_bot: true,
  first_name: "Example",
  username: "example_chatdb_bot",
  can_join_groups: true,
  can_read_all_group_messages: true,
  supports_inline_queries: false,
} as UserFromGetMe;

/** One Bot API call the bot made (captured by the transformer, never sent). */
export interface ApiCall {
  method: string;
  payload: Record<string, unknown>;
}

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

/**
 * Plays the scenario in `dir` (left in place, for the caller to look at) and returns every Bot
 * API call the bot made, in order. `log` gets the narration.
 */
export async function runExample(dir: string, log: (line: string) => void): Promise<ApiCall[]> {
  const configPath = join(dir, "bot.toml");
  const titles = new Map<number, string>([DEV, FOOTBALL, BOOK_CLUB].map((c) => [c.id, c.title]));
  const calls: ApiCall[] = [];

  // An archive from last year, where Ann was in the book club.
  {
    await using archive = new DatabaseWrapper(join(dir, "archive.db"));
    await archive.updateChatInfo(BOOK_CLUB.id, { type: "supergroup", title: BOOK_CLUB.title });
    await archive.updateChatUser(BOOK_CLUB.id, ANN.id, "@ann", "Ann");
  }
  await writeFile(configPath, config(""));

  /** What a bot does at start: open the wrapper (watching its config), build the bot. */
  const start = async () => {
    const db = new DatabaseWrapper({ configPath, watch: true });
    await db.watch();
    db.on("reloadError", ({ error }) => log(`! config rejected, old one kept: ${error.message}`));
    const bot = createBot(db, "0:example-token", { botInfo: BOT_INFO });
    // Every outgoing call stops here: recorded, answered ok, never sent to Telegram.
    bot.api.config.use(async (_prev, method, payload) => {
      const p = { ...payload } as Record<string, unknown>;
      calls.push({ method, payload: p });
      const text = String(p.text ?? "").replaceAll("\n", "\n  ");
      log(`  bot → ${titles.get(Number(p.chat_id))}: ${method === "sendMessage" ? text : method}`);
      return { ok: true, result: true as never };
    });
    return { db, bot };
  };

  let updateId = 0;
  let messageId = 100;
  let { db, bot } = await start();
  const say = async (chat: Chat, from: typeof ANN | typeof BOB, text: string) => {
    log(`${from.first_name} → ${chat.title}: ${text}`);
    const command = /^\/\w+/.exec(text)?.[0];
    const update: Update = {
      update_id: ++updateId,
      message: {
        message_id: ++messageId,
        date: Math.floor(Date.now() / 1000),
        chat,
        from,
        text,
        // Telegram marks a command with an entity; grammY's bot.command() matches on it
        ...(command && { entities: [{ type: "bot_command", offset: 0, length: command.length }] }),
      },
    };
    await bot.handleUpdate(update);
  };

  try {
    await say(DEV, ANN, "hello everyone");
    await say(DEV, BOB, "hi Ann");
    await say(FOOTBALL, ANN, "what a goal!");
    await say(FOOTBALL, BOB, "offside, surely");
    await say(BOOK_CLUB, ANN, "anyone still here?");
    await say(FOOTBALL, ANN, "/stats");

    log(`\n[operator] edits bot.toml: ${FOOTBALL.id} = "busy" (the bot keeps running)`);
    const reloaded = once(db, "reload", { signal: AbortSignal.timeout(15_000) }).catch(() => {
      throw new Error("timed out after 15 s waiting for the bot to reload its config");
    });
    await writeFile(configPath, config(`${FOOTBALL.id} = "busy"\n`));
    await reloaded;
    log("[bot] config reloaded: Football's new messages go to busy-chats.db");
    log("      (its earlier ones stay in bot.db; reads of Football now go to busy)\n");

    await say(FOOTBALL, ANN, "second half starting");
    await say(FOOTBALL, ANN, "/stats");
    await say(DEV, BOB, "/stats");

    log("\n[operator] restarts the bot (a new wrapper on the same files)");
    await db.close();
    ({ db, bot } = await start());
    await say(FOOTBALL, ANN, "/stats");
  } finally {
    await db.close();
  }
  return calls;
}

if (import.meta.main) {
  const dir = mkdtempSync(join(tmpdir(), "chatdb-bot-"));
  let exitCode = 0;
  console.log(`example bot — working in ${dir} (removed at the end)`);
  try {
    await runExample(dir, console.log);
  } catch (e) {
    exitCode = 1;
    console.error(`example bot failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\ndone: ${dir} removed`);
  process.exit(exitCode);
}
