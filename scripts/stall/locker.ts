/**
 * Another process in the bot's way, for the stall cases and their tests: takes a lock on a
 * SQLite file and holds it.
 *
 * usage: bun locker.ts DB KIND HOLD
 *   KIND  exclusive   BEGIN EXCLUSIVE (a rollback-journal writer, or a WAL checkpointer's peer)
 *         immediate   BEGIN IMMEDIATE + one write (a second writer of the same database)
 *         fresh       creates DB in WAL mode and holds BEGIN IMMEDIATE while creating a table,
 *                     as a second replica migrating a fresh file does
 *         wal-write   WAL mode: one long write transaction (HOLD ms of inserts), then a
 *                     TRUNCATE checkpoint
 *   HOLD  milliseconds, or "stdin": until a line arrives on stdin
 * Prints "locked" once it holds the lock, "released" after COMMIT ("checkpointed" after it).
 */
import { Database } from "bun:sqlite";

const [path, kind, hold] = process.argv.slice(2) as [string, string, string];

async function holdOn(): Promise<void> {
  if (hold !== "stdin") return Bun.sleep(Number(hold));
  for await (const _ of console) return;
}

const db = kind === "fresh" ? new Database(path) : new Database(path, { readwrite: true });
db.run("PRAGMA busy_timeout = 5000");
if (kind === "wal-write") {
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE IF NOT EXISTS locker_rows (n INTEGER, pad BLOB)");
  db.run("BEGIN IMMEDIATE");
  console.log("locked");
  const insert = db.prepare("INSERT INTO locker_rows VALUES (?, randomblob(200))");
  const until = performance.now() + Number(hold);
  for (let n = 0; performance.now() < until; n++) {
    insert.run(n);
    if (n % 1000 === 0) await Bun.sleep(0);
  }
  db.run("COMMIT");
  console.log("released");
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  console.log("checkpointed");
} else {
  if (kind === "fresh") db.run("PRAGMA journal_mode = WAL");
  db.run(kind === "exclusive" ? "BEGIN EXCLUSIVE" : "BEGIN IMMEDIATE");
  if (kind === "immediate") db.run("CREATE TABLE IF NOT EXISTS locker_rows (n INTEGER)");
  if (kind === "fresh") db.run("CREATE TABLE locker_fresh (n INTEGER)");
  console.log("locked");
  await holdOn();
  db.run("COMMIT");
  console.log("released");
}
db.close();
