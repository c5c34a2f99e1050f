/**
 * "The other bot" of the demo: a separate process that owns its own chatdb database and keeps
 * writing to it (a weather report every 100 ms) while the demo reads it as a readonly source.
 * Usage: bun other-bot.ts <db path> <chat id>. Prints "ready" after its first commit and stops
 * when its stdin closes (the demo ending, or dying, closes it).
 */
import { DatabaseWrapper } from "../../src/index.ts";

const [path, chatArg] = process.argv.slice(2);
if (path === undefined || chatArg === undefined) {
  console.error("usage: bun other-bot.ts <db path> <chat id>");
  process.exit(2);
}
const chatId = Number(chatArg);
const OTTO = 7;
const ANN = 42;

// Its own database: read-write, WAL, migrated, like any bot's.
const db = new DatabaseWrapper(path);
await db.updateChatInfo(chatId, { type: "supergroup", title: "Weather watchers" });
await db.updateChatUser(chatId, OTTO, "@otto_weather", "Otto (the other bot)");
await db.updateChatUser(chatId, ANN, "@ann", "Ann");

let posted = 0;
const post = () =>
  db.saveChatMessage({
    date: new Date(),
    chatId,
    userId: OTTO,
    messageId: ++posted,
    messageText: `weather report #${posted}: ${12 + (posted % 7)} °C`,
  });
await post();
console.log("ready");

let writing = Promise.resolve(true);
const timer = setInterval(() => {
  writing = writing.then(post);
}, 100);

// Stop on EOF of stdin: the demo closes it to stop us, and the OS closes it if the demo dies.
for await (const _ of Bun.stdin.stream()) {
  // input is ignored; only its end matters
}
clearInterval(timer);
await writing;
await db.close();
console.log(`stopped after ${posted} messages`);
