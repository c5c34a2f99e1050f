/**
 * "The other bot" of the soak: hammers a chatdb-schema database from its own process at a
 * target rate, with 1-row and 100-row transactions, periodic bulk UPDATE, bulk DELETE and
 * VACUUM, keeping invariants a reader can check in every committed state:
 *
 * - chat_settings of {@link CHAT}: `seq` = `mirror` = the transaction number, and `rows` /
 *   `batches` = the live message rows / batches; one getChatSettings() must see them agree.
 * - a batch is the messages of one user id: 100-row batches use user id = seq, 1-row ones
 *   1e9 + seq. A read of one user's messages sees 0 rows or the whole batch, never part.
 * - every live message carries the same `message_category` (bulk UPDATE rewrites all of
 *   them in one transaction, bumping setting `gen`), so one read sees one category.
 * - chat_info of {@link CHAT} and {@link CHAT2} both have title `t<seq>`; an aggregated
 *   getAllGroupChats() must see the two titles equal.
 *
 * usage: bun writer.ts DB wal|delete DURATION_MS [--rate N] [--busy-timeout MS] [--commits FILE]
 * Prints "ready" when writing starts and one JSON line of results when done. With
 * `--commits FILE` it writes the commit-end times (epoch ms, Float64 per seq) to FILE.
 */
import { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { nowDb } from "../../src/_internal/values.ts";
import { migrateSqlite } from "../../src/schema/migrate.ts";
import { BIG_BATCH, CHAT, CHAT2, SMALL_USER_BASE } from "./constants.ts";

const { positionals, values } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    rate: { type: "string", default: "2000" },
    "busy-timeout": { type: "string", default: "5000" },
    commits: { type: "string" },
    "big-every": { type: "string", default: "20" },
  },
});
const [path, journal, durationText] = positionals;
if (path === undefined || (journal !== "wal" && journal !== "delete") || !durationText) {
  throw new Error("usage: bun writer.ts DB wal|delete DURATION_MS [--rate N]");
}
const duration = Number(durationText);
const rate = Number(values.rate);
const bigEvery = Number(values["big-every"]);
const now = () => performance.timeOrigin + performance.now();

const db = new Database(path, { create: true, readwrite: true });
db.run(`PRAGMA busy_timeout = ${Number(values["busy-timeout"])}`);
db.run(`PRAGMA journal_mode = ${journal === "wal" ? "WAL" : "DELETE"}`);
// The other bot's durability choice; NORMAL (WAL) and OFF (rollback) let one core reach
// thousands of commits per second on ext4 without measuring the disk's fsync instead.
db.run(`PRAGMA synchronous = ${journal === "wal" ? "NORMAL" : "OFF"}`);
migrateSqlite(db, "soak-writer");

// the writer gives created_at/updated_at (gromozeka's 013 removed their defaults), as
// gromozeka does: the isoformat of the UTC instant
const q = {
  insert: db.prepare(
    `INSERT INTO chat_messages (chat_id, message_id, date, user_id, message_text, message_category, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?3)`,
  ),
  setting: db.prepare(
    `INSERT INTO chat_settings (chat_id, key, value, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
     ON CONFLICT (chat_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ),
  info: db.prepare(
    `INSERT INTO chat_info (chat_id, title, type, created_at, updated_at) VALUES (?1, ?2, 'supergroup', ?3, ?3)
     ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at`,
  ),
  recategorize: db.prepare("UPDATE chat_messages SET message_category = ? WHERE chat_id = ?"),
  // one pass over the chat for many batches (user_id has no index of its own)
  deleteUsers: db.prepare(
    "DELETE FROM chat_messages WHERE chat_id = ? AND user_id IN (SELECT value FROM json_each(?))",
  ),
};

let seq = 0;
let rows = 0;
let batches = 0;
let gen = 0;
const live: { user: number; size: number }[] = [];

/** Bumps seq and every invariant setting: called last in each transaction. */
function stamp(): void {
  seq++;
  const at = nowDb();
  for (const [k, v] of [
    ["seq", seq],
    ["mirror", seq],
    ["rows", rows],
    ["batches", batches],
    ["gen", gen],
  ] as const) {
    q.setting.run(CHAT, k, String(v), at);
  }
  q.info.run(CHAT, `t${seq}`, at);
  q.info.run(CHAT2, `t${seq}`, at);
}

const addBatch = db.transaction((size: number) => {
  const user = size === 1 ? SMALL_USER_BASE + seq + 1 : seq + 1;
  const date = nowDb();
  for (let i = 0; i < size; i++) {
    q.insert.run(CHAT, `${user}:${i}`, date, user, String(i), `g${gen}`);
  }
  rows += size;
  batches++;
  live.push({ user, size });
  stamp();
});

const bulkUpdate = db.transaction(() => {
  gen++;
  q.recategorize.run(`g${gen}`, CHAT);
  stamp();
});

/** Deletes the oldest half of the batches in one transaction; `live` changes only after commit. */
const deleteTx = db.transaction((gone: { user: number; size: number }[]) => {
  q.deleteUsers.run(CHAT, JSON.stringify(gone.map((b) => b.user)));
  for (const b of gone) {
    rows -= b.size;
    batches--;
  }
  stamp();
});
function bulkDelete(): void {
  const n = Math.floor(live.length / 2);
  deleteTx(live.slice(0, n));
  live.splice(0, n);
}

/** Runs one transaction, counting errors; a failed transaction rolled back, so undo our mirror. */
function attempt(fn: () => void, kind: string): boolean {
  const saved = { seq, rows, batches, gen, live: live.length };
  const t0 = now();
  try {
    fn();
    const t1 = now();
    latencies.push(t1 - t0);
    commitTimes.push(t1);
    return true;
  } catch (e) {
    ({ seq, rows, batches, gen } = saved);
    live.length = Math.min(live.length, saved.live);
    errors++;
    const code = (e as { code?: string }).code ?? "ERROR";
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    // kept for the result line, not printed: an owner without a busy timeout is expected to fail
    if (errorExamples.length < 5) errorExamples.push(`${kind} failed: ${(e as Error).message}`);
    return false;
  }
}

const latencies: number[] = [];
const commitTimes: number[] = [];
const errorCodes: Record<string, number> = {};
const errorExamples: string[] = [];
let errors = 0;
let vacuums = 0;
let attempts = 0;

// seq 1 is committed before "ready", so a reader always finds the invariant rows
attempt(() => db.transaction(stamp)(), "initial");
console.log("ready");

const start = now();
const end = start + duration;
let nextUpdate = start + 250;
let nextDelete = start + 250;
let nextVacuum = start + 1000;
while (now() < end) {
  // keep to the target rate: commit until caught up, then yield a millisecond
  const due = ((now() - start) / 1000) * rate;
  while (attempts < due && now() < end) {
    attempts++;
    attempt(() => addBatch(attempts % bigEvery === 0 ? BIG_BATCH : 1), "insert");
  }
  const t = now();
  if (t > nextUpdate) {
    attempt(bulkUpdate, "bulk update");
    nextUpdate = t + 250;
  }
  if (t > nextDelete || rows > 10_000) {
    attempt(bulkDelete, "bulk delete");
    nextDelete = t + 250;
  }
  if (t > nextVacuum) {
    try {
      db.run("VACUUM");
      vacuums++;
    } catch (e) {
      errors++;
      const code = (e as { code?: string }).code ?? "ERROR";
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    }
    nextVacuum = t + 1000;
  }
  await Bun.sleep(1);
}
const elapsed = now() - start;
db.close();

if (values.commits) writeFileSync(values.commits, new Float64Array(commitTimes));
const sorted = latencies.slice(1).sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
console.log(
  JSON.stringify({
    journal,
    commits: commitTimes.length,
    lastSeq: seq,
    txPerSec: Math.round((commitTimes.length / elapsed) * 1000),
    errors,
    errorCodes,
    errorExamples,
    vacuums,
    latencyMs: { p50: pct(0.5), p99: pct(0.99), max: pct(1) },
  }),
);
