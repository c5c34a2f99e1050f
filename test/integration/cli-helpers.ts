/** Running the real `chatdb` binary and counting a chat's rows, for the CLI tests. */
import { Database } from "bun:sqlite";
import { CHAT_TABLES } from "../../src/archive/chat-tables.ts";
import type { DatabaseWrapper } from "../../src/index.ts";
import { CLI } from "./sidecar-helpers.ts";

/** Runs the real `chatdb` binary. */
export function chatdb(args: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([process.execPath, CLI, ...args], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    code: r.exitCode,
    signal: r.signalCode ?? null,
    out: r.stdout.toString(),
    err: r.stderr.toString(),
    json: () => JSON.parse(r.stdout.toString()),
  };
}

export function chatRows(path: string, chatId: number): number {
  const db = new Database(path, { readonly: true });
  try {
    return CHAT_TABLES.reduce(
      (n, t) =>
        n +
        (db.query(`SELECT count(*) AS n FROM ${t} WHERE chat_id = ?`).get(chatId) as { n: number })
          .n,
      0,
    );
  } finally {
    db.close();
  }
}

/** One chat with rows in every common per-chat table and `messages` messages dated `date`. */
export async function seedChat(
  db: DatabaseWrapper,
  chatId: number,
  messages: number,
  date = new Date(),
) {
  await db.updateChatInfo(chatId, { type: "supergroup", title: `chat ${chatId}` });
  await db.updateChatUser(chatId, 7, "u7", "User Seven");
  await db.setChatSetting(chatId, "lang", "en");
  await db.addUserData(7, chatId, "k", "v");
  await db.addSpamMessage({
    chatId,
    userId: 7,
    messageId: 1000,
    text: "buy",
    reason: "ad",
    score: 0.9,
  });
  for (let i = 0; i < messages; i++) {
    await db.saveChatMessage({
      date,
      chatId,
      userId: 7,
      messageId: i,
      messageText: `m${i}`,
    });
  }
}
