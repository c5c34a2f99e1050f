#!/usr/bin/env bun
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
/**
 * The README's first command (`npm run demo`): a guided tour of chatdb on embedded SQLite.
 *
 * In a temp folder it builds the bot's own database, a frozen archive and a config, and starts
 * a second process that plays another bot writing its own database live. Then it narrates:
 * routing by chat and by `dataSource`, `explain()`, a refused write, an aggregated read, moving
 * a chat to the archive (file replaced → reopened, config edited → hot reload), the other bot's
 * messages appearing live, and the sidecar publishing a snapshot that is read as an immutable
 * source. The child process and the folder are removed at the end, also on failure or Ctrl-C.
 */
import type { Subprocess } from "bun";
import { DatabaseError, DatabaseWrapper } from "../src/index.ts";
import { lineReader, nextEvent, note, step, table, until, within } from "./demo/show.ts";

const BUN = process.execPath;
const HERE = import.meta.dir;
/** Every wait gives up after this long with a message saying what it waited for. */
const WAIT_MS = 15_000;

const DEV_CHAT = -1001000000001; // the bot's live group: no mapping, so the default source
const FOOTBALL = -1001000000002; // a live group that the demo moves to the archive
const BOOK_CLUB = -1000900000003; // an old group, mapped to the archive
const WEATHER = -1000800000004; // the other bot's group, mapped to its database
const ANN = 42;
const OTTO = 7;

const dir = mkdtempSync(join(tmpdir(), "chatdb-demo-"));
const file = (name: string) => join(dir, name);
let child: Subprocess<"pipe", "pipe", "inherit"> | undefined;
/** The demo's wrapper, kept here so cleanup() can close it whatever happened. */
let opened: DatabaseWrapper | undefined;

const config = (extraMappings = "") => `[database]
default_source = "primary"

[database.sources.primary]        # the bot's own database: read-write, migrated
path = "bot.db"

[database.sources.archive]        # old chats, a frozen file
path = "archive.db"
readonly = true
immutable = true

[database.sources.weather_bot]    # another bot's live database, read in place
path = "weather-bot.db"
readonly = true

[database.sources.weather_snapshot] # the same data, published by the sidecar
path = "snapshots/weather-bot.db"
readonly = true
immutable = true

[database.chat_mapping]
${BOOK_CLUB} = "archive"
${WEATHER} = "weather_bot"
${extraMappings}
[sync.weather_bot]                # read by \`chatdb sync\` only
from = "weather-bot.db"
to = "snapshots/weather-bot.db"
interval = 0.5
`;

async function main(): Promise<void> {
  console.log(`chatdb demo — working in ${dir} (removed at the end)`);

  // ── setup: an archive, the other bot, the config ──────────────────────────────────────────
  // The archive is an ordinary chatdb database, written once and then only read.
  {
    await using archive = new DatabaseWrapper(file("archive.db"));
    await archive.updateChatInfo(BOOK_CLUB, { type: "supergroup", title: "Book club 2021" });
    await archive.updateChatUser(BOOK_CLUB, ANN, "@ann", "Ann");
    // an old copy of the live group, under the title it had back then
    await archive.updateChatInfo(DEV_CHAT, { type: "group", title: "Dev chat (2021 title)" });
    await archive.updateChatUser(DEV_CHAT, ANN, "@ann", "Ann");
  }

  child = Bun.spawn(
    [BUN, join(HERE, "demo", "other-bot.ts"), file("weather-bot.db"), `${WEATHER}`],
    {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  await lineReader(child.stdout).next(/^ready$/, "the other bot to start writing", WAIT_MS);
  mkdirSync(file("snapshots"));
  await writeFile(file("bot.toml"), config());

  console.log(`\nbot.toml:\n${indent(config())}`);
  note(`A second process (pid ${child.pid}) plays the weather bot: it writes weather-bot.db`);
  note("every 100 ms. snapshots/ is empty: the sidecar has not published anything yet.");

  const db = new DatabaseWrapper({ configPath: file("bot.toml"), watch: true });
  opened = db;
  await db.watch(); // resolves once the config and source folders are watched
  const skipped: string[] = [];
  db.on("sourceError", ({ source, error }) => skipped.push(`${source}: ${error.code}`));

  await db.updateChatInfo(DEV_CHAT, { type: "supergroup", title: "Dev chat" });
  await db.updateChatInfo(FOOTBALL, { type: "supergroup", title: "Football fans" });
  for (const chat of [DEV_CHAT, FOOTBALL]) {
    await db.updateChatUser(chat, ANN, "@ann", "Ann");
    await db.saveChatMessage({
      date: new Date(),
      chatId: chat,
      userId: ANN,
      messageId: 1,
      messageText: "hi",
    });
  }

  // ── 1. routing ───────────────────────────────────────────────────────────────────────────
  step(1, "Routing: by chat (chat_mapping, else default_source), or by an explicit dataSource");
  const calls: [string, number, string?][] = [
    ["getChatInfo(DEV_CHAT)", DEV_CHAT],
    ["getChatInfo(BOOK_CLUB)", BOOK_CLUB],
    ["getChatInfo(WEATHER)", WEATHER],
    ['getChatInfo(DEV_CHAT, { dataSource: "archive" })', DEV_CHAT, "archive"],
  ];
  const routed = [];
  for (const [call, chat, dataSource] of calls) {
    const info = await db.getChatInfo(chat, dataSource ? { dataSource } : {});
    routed.push({ call, title: info?.title, dataSource: info?.dataSource });
  }
  table(routed);
  try {
    await db.getChatInfo(DEV_CHAT, { dataSource: "archiv" });
  } catch (e) {
    if (!(e instanceof DatabaseError)) throw e;
    note(`A misspelt dataSource is an error, never a silent default: ${e.code}`);
    note(`  ${e.message}`);
  }

  // ── 2. explain ───────────────────────────────────────────────────────────────────────────
  step(2, "explain(): where a call would go and why, without running it");
  table(
    [
      { chatId: DEV_CHAT },
      { chatId: BOOK_CLUB },
      { chatId: BOOK_CLUB, write: true },
      { chatId: WEATHER, write: true },
      { dataSource: "weather_snapshot" },
    ].map((request) => {
      const e = db.explain(request);
      return {
        request: JSON.stringify(request),
        source: e.source,
        rule: e.rule,
        mode: e.mode,
        refused: e.refused,
      };
    }),
  );

  // ── 3. a refused write ───────────────────────────────────────────────────────────────────
  step(3, "A write routed to a readonly source is refused before any SQL runs");
  try {
    await db.setChatSetting(BOOK_CLUB, "lang", "en");
    throw new Error("the write to the archive was not refused");
  } catch (e) {
    if (!(e instanceof DatabaseError)) throw e;
    table([{ "error.code": e.code, "error.source": e.source, "error.chatId": e.chatId }]);
    note(`error.message: ${e.message}`);
    note("The archive is also opened read-only by SQLite, so nothing could slip through.");
  }

  // ── 4. aggregation ───────────────────────────────────────────────────────────────────────
  step(4, "getUserChats(ANN): one read over every source, each row saying where it came from");
  table(chatRows(await db.getUserChats(ANN)));
  note("Dev chat is in primary and in the archive: the copy from its home source (primary) wins.");
  note(`Skipped and reported, not fatal: ${skipped.join(", ") || "none"} (the snapshot`);
  note("is not published yet; { strict: true } would make that an error).");

  // ── 5. moving a chat to the archive ──────────────────────────────────────────────────────
  step(5, "Moving Football fans to the archive: replace the archive file, then edit bot.toml");
  note("(`chatdb archive bot.toml --chat ID --to archive` does both steps, crash-safe.)");
  // 5a. A new archive version is built next to it and renamed over it: readers of the old file
  // are never disturbed, and the wrapper notices the new inode and reopens the source.
  const next = file(".archive.db.new");
  copyFileSync(file("archive.db"), next);
  {
    await using out = new DatabaseWrapper(next);
    const info = await db.getChatInfo(FOOTBALL);
    await out.updateChatInfo(FOOTBALL, {
      type: info?.type ?? "supergroup",
      title: info?.title ?? null,
    });
    for (const u of await db.getChatUsers(FOOTBALL)) {
      await out.updateChatUser(FOOTBALL, u.userId, u.username, u.fullName);
    }
    for (const m of await db.getChatMessagesSince(FOOTBALL)) {
      await out.saveChatMessage({ ...m, markup: m.markup ?? "", metadata: m.metadata ?? "" });
    }
  }
  const reopened = nextEvent<{ source: string; reason: string }>(
    db,
    "sourceReopened",
    "the archive to be reopened after the rename",
    WAIT_MS,
    (e) => e.source === "archive",
  );
  renameSync(next, file("archive.db"));
  const r = await reopened;
  note(`event sourceReopened: { source: "${r.source}", reason: "${r.reason}" }`);

  // 5b. The config edit is picked up by the watcher: parsed, validated, swapped in at once.
  const before = db.explain({ chatId: FOOTBALL, write: true });
  const reloaded = nextEvent<{ generation: number }>(db, "reload", "the config reload", WAIT_MS);
  await writeFile(file("bot.toml"), config(`${FOOTBALL} = "archive"\n`));
  note(`bot.toml edited: added ${FOOTBALL} = "archive" under [database.chat_mapping]`);
  const g = await reloaded;
  note(`event reload: generation ${g.generation}`);
  const after = db.explain({ chatId: FOOTBALL, write: true });
  table([
    {
      when: "before",
      source: before.source,
      rule: before.rule,
      "write refused": before.refused,
      generation: before.generation,
    },
    {
      when: "after",
      source: after.source,
      rule: after.rule,
      "write refused": after.refused,
      generation: after.generation,
    },
  ]);
  const football = await db.getChatInfo(FOOTBALL);
  note(`getChatInfo(FOOTBALL) → "${football?.title}" from ${football?.dataSource}`);

  // ── 6. the other bot, live ───────────────────────────────────────────────────────────────
  step(6, "The weather bot keeps writing; its new messages appear through the readonly source");
  let reopenedWeather = 0;
  db.on("sourceReopened", (e) => {
    if (e.source === "weather_bot") reopenedWeather++;
  });
  const live = async () => {
    const [newest] = await db.getChatMessagesByUser(WEATHER, OTTO, { limit: 1 });
    const otto = await db.getChatUser(WEATHER, OTTO);
    return {
      messages: otto?.messagesCount ?? 0,
      newest: newest?.messageText,
      dataSource: newest?.dataSource,
    };
  };
  const first = await live();
  const later = await until("3 new messages from the weather bot", WAIT_MS, async () => {
    const now = await live();
    return now.messages >= first.messages + 3 ? now : null;
  });
  table([
    { read: "first", ...first },
    { read: "a moment later", ...later },
  ]);
  note(`No reopen was needed to see them (sourceReopened for weather_bot: ${reopenedWeather}).`);

  // ── 7. the sidecar ───────────────────────────────────────────────────────────────────────
  step(7, "The sidecar publishes a snapshot; the wrapper opens it as an immutable source");
  note("$ chatdb sync bot.toml --once     (in production: `chatdb sync bot.toml`, a service)");
  const appeared = nextEvent<{ source: string }>(
    db,
    "sourceReopened",
    "the snapshot source to open",
    WAIT_MS,
    (e) => e.source === "weather_snapshot",
  );
  const sync = Bun.spawn(
    [BUN, join(HERE, "..", "src", "cli", "main.ts"), "sync", file("bot.toml"), "--once"],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err, code] = await within(
    "chatdb sync --once",
    WAIT_MS,
    Promise.all([new Response(sync.stdout).text(), new Response(sync.stderr).text(), sync.exited]),
  );
  if (code !== 0) throw new Error(`chatdb sync exited ${code}: ${err}`);
  console.log(indent(out.replaceAll(`${dir}/`, "").trimEnd()));
  await appeared;
  const snap = await db.getChatUser(WEATHER, OTTO, { dataSource: "weather_snapshot" });
  await Bun.sleep(250); // let the weather bot write a little more
  const now = await db.getChatUser(WEATHER, OTTO);
  table([
    {
      source: now?.dataSource,
      mode: "readonly (live)",
      "messages by @otto_weather": now?.messagesCount,
    },
    {
      source: snap?.dataSource,
      mode: "immutable (snapshot)",
      "messages by @otto_weather": snap?.messagesCount,
    },
  ]);
  note("The snapshot is frozen at publish time; the sidecar republishes at most every 0.5 s.");

  // ── 8. health ────────────────────────────────────────────────────────────────────────────
  step(8, "health(): every source, its mode, state and schema version");
  table(
    db.health().sources.map((s) => ({
      name: s.name,
      mode: s.mode,
      state: s.state,
      schema: s.schemaVersion,
    })),
  );
}

/** Chat rows for a table. */
const chatRows = (chats: { chatId: number; title: string | null; dataSource: string }[]) =>
  chats.map((c) => ({ chatId: c.chatId, title: c.title, dataSource: c.dataSource }));

const indent = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => `   ${l}`)
    .join("\n");

/**
 * Stops the other bot (EOF on its stdin, then a kill), closes the wrapper, removes the folder.
 * Runs once: a Ctrl-C during the demo and the demo's own ending share the same promise.
 */
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await opened?.close().catch(() => {});
    if (child !== undefined) {
      try {
        child.stdin.end();
        await within("the other bot to stop", 3000, child.exited);
      } catch {
        child.kill("SIGKILL");
        await child.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    console.log(`\nCleaned up: other bot stopped, ${dir} removed.`);
  })();
  return cleaning;
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    interrupted = true;
    console.log(`\n${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  exitCode = 1;
  // after a Ctrl-C, main fails on the closed wrapper: that is not worth reporting
  if (!interrupted) {
    console.error(`\ndemo failed: ${e instanceof Error ? e.message : String(e)}`);
    if (e instanceof DatabaseError) console.error(`  code ${e.code}`);
  }
} finally {
  await cleanup();
}
process.exit(interrupted ? 130 : exitCode);
