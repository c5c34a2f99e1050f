#!/usr/bin/env bun
/**
 * The README's first command: a guided tour of chatdb on embedded SQLite, in a temp folder
 * that is removed at the end.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseError, DatabaseWrapper } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "chatdb-demo-"));
const say = (text: string) => console.log(`\n▶ ${text}`);
const table = (rows: object[]) => console.table(rows);

const GROUP = -1001234567890;
const OLD_GROUP = -1009876543210;

try {
  say(`A temp folder ${dir} with an archive database (old chats) and a config.`);
  const archive = new DatabaseWrapper(join(dir, "archive.db"));
  await archive.updateChatInfo(OLD_GROUP, { type: "supergroup", title: "Old group (archived)" });
  await archive.updateChatUser(OLD_GROUP, 42, "@ann", "Ann");
  await archive.close();

  const configPath = join(dir, "bot.toml");
  writeFileSync(
    configPath,
    `[database]
default_source = "primary"

[database.sources.primary]
path = "bot.db"

[database.sources.archive]
path = "archive.db"
readonly = true
immutable = true

[database.chat_mapping]
${OLD_GROUP} = "archive"
`,
  );
  await using db = new DatabaseWrapper({ configPath });

  say("Writes route by chat: an unmapped chat goes to the default source.");
  await db.updateChatInfo(GROUP, { type: "supergroup", title: "Live group" });
  await db.updateChatUser(GROUP, 42, "@ann", "Ann");
  await db.saveChatMessage({
    date: new Date(),
    chatId: GROUP,
    userId: 42,
    messageId: 1,
    messageText: "hello",
  });
  table(
    [await db.getChatUser(GROUP, 42), await db.getChatUser(OLD_GROUP, 42)].map((u) => ({
      chat: u?.chatId,
      user: u?.username,
      messages: u?.messagesCount,
      source: u?.dataSource,
    })),
  );

  say("explain() tells where a call goes and why.");
  table([db.explain({ chatId: GROUP }), db.explain({ chatId: OLD_GROUP, write: true })]);

  say("A write routed to a readonly source is refused before any SQL runs.");
  try {
    await db.setChatSetting(OLD_GROUP, "lang", "en");
  } catch (e) {
    if (!(e instanceof DatabaseError)) throw e;
    console.log(`${e.code}: ${e.message}`);
  }

  say("Cross-chat reads aggregate over every source; each row says where it came from.");
  table(
    (await db.getUserChats(42)).map((c) => ({
      chat: c.chatId,
      title: c.title,
      source: c.dataSource,
    })),
  );

  say("health() per source:");
  table(
    db.health().sources.map(({ name, mode, state, schemaVersion }) => ({
      name,
      mode,
      state,
      schemaVersion,
    })),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log("\nDone.");
