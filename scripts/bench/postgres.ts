/**
 * Postgres next to SQLite, through chatdb: per-call cost of getChatUser / updateChatUser
 * (sequential awaits, one process), and write throughput of saveChatMessage with 4 bot
 * processes writing one database at once.
 *
 *   bun scripts/bench/postgres.ts [calls=2000] [perWorker=500]
 *
 * CHATDB_PG_URL selects the server (default postgres://postgres@127.0.0.1:5432/test); the
 * run uses a scratch schema and drops it afterwards.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { parseConfig } from "../../src/config/load.ts";
import { DatabaseWrapper } from "../../src/index.ts";

const PG_URL = process.env.CHATDB_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const configFor = (engine: string, where: string) =>
  parseConfig(
    engine === "postgres"
      ? `[database.sources.primary]\ntype = "postgres"\nurl = "${where}"\n`
      : `[database.sources.primary]\npath = "${where}"\n`,
  );

/** Worker mode: write `n` messages into chat `chat`, print nothing. */
async function worker(engine: string, where: string, chat: number, n: number) {
  const db = new DatabaseWrapper({ config: configFor(engine, where) });
  await db.updateChatUser(chat, 1, "@w", "W");
  const start = Date.now();
  for (let i = 0; i < n; i++) {
    await db.saveChatMessage({
      chatId: chat,
      userId: 1,
      messageId: i,
      date: new Date(),
      messageText: "x",
    });
  }
  console.log(JSON.stringify({ start, end: Date.now() }));
  await db.close();
}

async function perCall(engine: string, where: string, calls: number) {
  const db = new DatabaseWrapper({ config: configFor(engine, where) });
  await db.updateChatUser(-1, 1, "@u", "U");
  for (let i = 0; i < 200; i++) await db.getChatUser(-1, 1); // warm up
  let t = performance.now();
  for (let i = 0; i < calls; i++) await db.getChatUser(-1, 1);
  const read = ((performance.now() - t) * 1000) / calls;
  t = performance.now();
  for (let i = 0; i < calls; i++) await db.updateChatUser(-1, 1, "@u", `U${i}`);
  const write = ((performance.now() - t) * 1000) / calls;
  await db.close();
  return { read, write };
}

async function concurrent(engine: string, where: string, perWorker: number) {
  // migrate once up front, so the timing is writes only
  const setup = new DatabaseWrapper({ config: configFor(engine, where) });
  await setup.getChatUser(0, 0);
  await setup.close();
  const procs = [1, 2, 3, 4].map((w) =>
    Bun.spawn(
      [
        process.execPath,
        import.meta.path,
        "--worker",
        engine,
        where,
        String(-w),
        String(perWorker),
      ],
      { stdout: "pipe", stderr: "inherit" },
    ),
  );
  const codes = await Promise.all(procs.map((p) => p.exited));
  if (codes.some((c) => c !== 0)) throw new Error(`a worker failed: ${codes}`);
  // from the first worker's first write to the last worker's last: process start-up excluded
  const spans = await Promise.all(
    procs.map(
      async (p) =>
        JSON.parse(await new Response(p.stdout).text()) as { start: number; end: number },
    ),
  );
  const seconds =
    (Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start))) / 1000;
  return (4 * perWorker) / seconds;
}

if (process.argv[2] === "--worker") {
  const [, , , engine, where, chat, n] = process.argv;
  await worker(engine as string, where as string, Number(chat), Number(n));
} else {
  const calls = Number(process.argv[2] ?? 2000);
  const perWorker = Number(process.argv[3] ?? 500);
  const dir = mkdtempSync(join(tmpdir(), "chatdb-bench-"));
  const admin = new SQL({ url: PG_URL, max: 1 });
  const schema = `chatdb_bench_${process.pid}`;
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const pg = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}search_path=${schema}`;
  try {
    const rows: string[] = [];
    for (const [engine, where, where4] of [
      ["sqlite", join(dir, "a.db"), join(dir, "b.db")],
      ["postgres", pg, pg],
    ] as const) {
      const { read, write } = await perCall(engine, where, calls);
      const tput = await concurrent(engine, where4, perWorker);
      rows.push(
        `| ${engine} | ${read.toFixed(0)} µs | ${write.toFixed(0)} µs | ${tput.toFixed(0)} msg/s |`,
      );
    }
    console.log(`${calls} sequential calls; 4 processes × ${perWorker} saveChatMessage`);
    console.log("| engine | getChatUser | updateChatUser | 4-process saveChatMessage |");
    console.log("|---|---|---|---|");
    for (const r of rows) console.log(r);
  } finally {
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
