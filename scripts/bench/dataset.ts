/**
 * Bench databases, generated once per run into a temp folder: chatdb's schema (created by
 * chatdb itself, so it is the real one), then rows inserted by hand in one transaction.
 * Deterministic (seeded PRNG), so runs compare.
 */
import { Database } from "bun:sqlite";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toDbTime } from "../../src/_internal/values.ts";
import { DatabaseWrapper } from "../../src/index.ts";

/** mulberry32: a tiny seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Shape {
  chats: number;
  users: number;
  messages: number;
  /** Members per chat (chat_users rows). */
  membersPerChat: number;
  settingsPerChat: number;
  /** First chat id is `-1001000000000 - chatOffset`; lets sources overlap by design. */
  chatOffset?: number;
  seed?: number;
}

export const REALISTIC: Shape = {
  chats: 100,
  users: 1_000,
  messages: 100_000,
  membersPerChat: 50,
  settingsPerChat: 10,
};

/** What the cases need to pick realistic keys. */
export interface Keys {
  chats: number[];
  /** (chat, user) pairs that exist in chat_users. */
  members: [number, number][];
  /** (chat, message id) pairs that exist in chat_messages. */
  messages: [number, string][];
  users: number[];
}

export const chatIdOf = (k: number) => -1001000000000 - k;
export const userIdOf = (k: number) => 100_000 + k;

const WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split(
  " ",
);

/** Creates `path` with chatdb's schema and fills it; returns the keys it used. */
export async function generate(path: string, shape: Shape): Promise<Keys> {
  await new DatabaseWrapper(path).close(); // schema via chatdb's own migrations
  const rnd = prng(shape.seed ?? 42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const offset = shape.chatOffset ?? 0;
  const chats = Array.from({ length: shape.chats }, (_, k) => chatIdOf(offset + k));
  const users = Array.from({ length: shape.users }, (_, k) => userIdOf(k));
  const keys: Keys = { chats, members: [], messages: [], users };
  const t0 = Date.UTC(2024, 0, 1);
  const db = new Database(path, { readwrite: true });
  db.run("PRAGMA journal_mode = WAL");
  const info = db.prepare(
    "INSERT INTO chat_info (chat_id, title, username, type, is_forum, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const member = db.prepare(
    "INSERT OR IGNORE INTO chat_users (chat_id, user_id, username, full_name, messages_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const setting = db.prepare(
    "INSERT INTO chat_settings (chat_id, key, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
  );
  const message = db.prepare(
    `INSERT INTO chat_messages (chat_id, message_id, date, user_id, reply_id, thread_id, root_message_id,
     message_text, message_type, message_category, quote_text, media_id, created_at)
     VALUES (?, ?, ?, ?, ?, 0, ?, ?, 'text', 'user', NULL, NULL, ?)`,
  );
  db.transaction(() => {
    const membersOf = new Map<number, number[]>();
    chats.forEach((chat, k) => {
      const type = k % 10 === 0 ? "private" : k % 10 < 4 ? "group" : "supergroup";
      const at = toDbTime(new Date(t0 + k * 3_600_000));
      info.run(chat, `Chat ${k}`, k % 3 ? null : `chat_${k}`, type, k % 7 === 0 ? 1 : 0, at, at);
      const ms: number[] = [];
      while (ms.length < Math.min(shape.membersPerChat, users.length)) {
        const u = pick(users);
        if (ms.includes(u)) continue;
        ms.push(u);
        member.run(chat, u, `user${u}`, `User ${u}`, 0, at, at);
        keys.members.push([chat, u]);
      }
      membersOf.set(chat, ms);
      for (let s = 0; s < shape.settingsPerChat; s++)
        setting.run(chat, `key${s}`, `value ${s}`, at, at);
    });
    const nextId = new Map<number, number>();
    let when = t0;
    for (let m = 0; m < shape.messages; m++) {
      const chat = pick(chats);
      const id = (nextId.get(chat) ?? 0) + 1;
      nextId.set(chat, id);
      when += Math.floor(rnd() * 60_000);
      const at = toDbTime(new Date(when));
      const words = Array.from({ length: 5 + Math.floor(rnd() * 25) }, () => pick(WORDS));
      const reply = id > 1 && rnd() < 0.2 ? String(id - 1) : null;
      message.run(
        chat,
        String(id),
        at,
        pick(membersOf.get(chat) as number[]),
        reply,
        reply,
        words.join(" "),
        at,
      );
      if (m % 10 === 0) keys.messages.push([chat, String(id)]);
    }
  })();
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return keys;
}

/** A temp folder for one bench run; removed by `using`. */
export function benchDir() {
  const path = mkdtempSync(join(tmpdir(), "chatdb-bench-"));
  return {
    path,
    file: (name: string) => join(path, name),
    [Symbol.dispose]() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** A checkpointed database copied to `to` (for readonly and immutable twins of one file). */
export function copyDatabase(from: string, to: string): void {
  copyFileSync(from, to);
}

/** A key sequence both sides of a comparison walk in the same order. */
export function keyCycle<T>(xs: readonly T[], seed = 7, size = 4096): (i: number) => T {
  const rnd = prng(seed);
  const picked = Array.from({ length: size }, () => xs[Math.floor(rnd() * xs.length)] as T);
  return (i) => picked[i & (size - 1)] as T;
}
