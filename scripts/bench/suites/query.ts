/**
 * The bot's own SQL and transactions: `db.query` against the same SQL on raw bun:sqlite (cached
 * prepared statement, rows spread with their source as `query` returns them; target ≤ 1.1×),
 * and a transaction of 4 writes through `db.transaction` against the same four statements in
 * `BEGIN IMMEDIATE … COMMIT` by hand on raw bun:sqlite.
 */
import { Database } from "bun:sqlite";
import { DatabaseWrapper } from "../../../src/index.ts";
import { chatIdOf, keyCycle } from "../dataset.ts";
import type { BenchEnv } from "../env.ts";
import { compare, fmtNs, fmtRatio, type TimingOptions } from "../harness.ts";
import type { Section } from "../report.ts";

const READ =
  "SELECT user_id, username, messages_count FROM chat_users WHERE chat_id = ? AND user_id = ?";
const WRITE =
  "INSERT INTO chat_settings (chat_id, key, value, updated_by, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (chat_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
const AT = "2026-01-01T00:00:00+00:00";

export async function querySuite(env: BenchEnv, t: TimingOptions): Promise<Section> {
  const db = new DatabaseWrapper({ dbPath: env.main, watchSources: false });
  const raw = new Database(env.main, { readwrite: true });
  raw.run("PRAGMA journal_mode = WAL");
  raw.run("PRAGMA synchronous = FULL");
  try {
    const member = keyCycle(env.keys.members, 11);
    const read = raw.prepare(READ);
    const write = raw.prepare(WRITE);
    const chat = chatIdOf(0);
    const reads = await compare(
      [
        {
          name: "raw",
          run: (i: number) => {
            const [c, u] = member(i);
            return (read.all(c, u) as Record<string, unknown>[]).map((r) => ({
              ...r,
              dataSource: "default",
            }));
          },
        },
        {
          name: "chatdb",
          async: true,
          run: (i: number) => {
            const [c, u] = member(i);
            return db.query(READ, [c, u], { chatId: c });
          },
        },
      ],
      t,
    );
    const four = (i: number, run: (k: string) => unknown) => {
      for (let k = 0; k < 4; k++) run(`k${(i * 4 + k) % 64}`);
    };
    const txs = await compare(
      [
        {
          name: "raw",
          run: (i: number) => {
            raw.run("BEGIN IMMEDIATE");
            four(i, (k) => write.run(chat, k, String(i), AT, AT));
            raw.run("COMMIT");
          },
        },
        {
          name: "chatdb",
          async: true,
          run: (i: number) =>
            db.transaction({ chatId: chat }, async (tx) => {
              for (let k = 0; k < 4; k++) {
                await tx.query(WRITE, [chat, `k${(i * 4 + k) % 64}`, String(i), AT, AT], {
                  chatId: chat,
                  write: true,
                });
              }
            }),
        },
      ],
      { ...t, rounds: Math.min(t.rounds, 9) },
    );
    const row = (what: string, c: typeof reads) => [
      what,
      fmtNs(c.variants[0]?.nsPerOp ?? Number.NaN),
      fmtNs(c.variants[1]?.nsPerOp ?? Number.NaN),
      fmtRatio(c.ratios.chatdb ?? Number.NaN),
    ];
    return {
      title: "Your own SQL: db.query and db.transaction vs raw bun:sqlite",
      note:
        "query: a point read by (chat_id, user_id), routed by chat, rows with dataSource; target ≤ 1.1×. " +
        "transaction: 4 upserts committed together (WAL, synchronous=FULL), awaited one by one inside the transaction.",
      head: ["call", "raw", "chatdb", "chatdb ÷ raw"],
      rows: [row("query (point read)", reads), row("transaction of 4 writes", txs)],
      data: { reads, txs },
    };
  } finally {
    raw.close();
    await db.close();
  }
}
