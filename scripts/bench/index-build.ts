/**
 * How chatdb's indexes reach a large existing file: `npm run bench:indexes [-- messages]`
 * (default 1M). Makes a file at chatdb's schema without its indexes, opens it as the bot's
 * writable source and prints the constructor's time, the build's time (a worker thread), the
 * event loop's largest lag meanwhile, and how long a write made during the build waited.
 */
import { Database } from "bun:sqlite";
import { DatabaseWrapper } from "../../src/index.ts";
import type { SqliteSource } from "../../src/sources/sqlite-source.ts";
import { benchDir, generate, REALISTIC } from "./dataset.ts";

const messages = Number(process.argv[2] ?? 1_000_000);
using dir = benchDir();
const path = `${dir.path}/bot.db`;
await generate(path, { ...REALISTIC, messages });
const raw = new Database(path, { readwrite: true });
for (const { name } of raw
  .query("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'chatdb_%'")
  .all() as { name: string }[])
  raw.run(`DROP INDEX ${name}`);
raw.close();

let maxLag = 0;
let last = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  maxLag = Math.max(maxLag, now - last - 1);
  last = now;
}, 1);
const t0 = performance.now();
const db = new DatabaseWrapper(path);
const ctor = performance.now() - t0;
const source = (db as unknown as { gen: { sources: Map<string, SqliteSource> } }).gen.sources.get(
  "default",
) as SqliteSource;
const w0 = performance.now();
await db.saveChatMessage({
  chatId: -1,
  messageId: "x",
  date: new Date(),
  userId: 1,
  messageText: "x",
});
const write = performance.now() - w0;
const report = await source._indexing;
const total = performance.now() - t0;
clearInterval(ticker);
await db.close();
const row = (k: string, v: string) => console.log(`| ${k} | ${v} |`);
console.log(
  `\n${messages.toLocaleString("en-US")} messages, ${report?.created.length ?? 0} indexes built\n`,
);
console.log("| | |\n|---|---|");
row("constructor returns", `${ctor.toFixed(1)} ms`);
row("indexes built (worker thread)", `${((report?.ms ?? total) / 1000).toFixed(2)} s`);
row("event loop's largest lag meanwhile", `${maxLag.toFixed(1)} ms`);
row("a write made during the build", `${write.toFixed(0)} ms (waits for the lock off the thread)`);
