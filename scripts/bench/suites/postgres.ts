/**
 * PostgreSQL next to SQLite, through chatdb: the per-call cost of the same data methods on a
 * SQLite primary and a PostgreSQL primary (one process, sequential awaits, interleaved rounds),
 * and write throughput of saveChatMessage with 4 bot processes writing one database at once.
 *
 * The server is CHATDB_PG_URL (default postgres://postgres@127.0.0.1:5432/test); the suite
 * works in a scratch schema and drops it. Without a server it reports one "skipped" row.
 *
 * This file is also the worker of the 4-process run: `bun suites/postgres.ts --worker …`.
 */
import { SQL } from "bun";
import { redactUrl } from "../../../src/_internal/redact.ts";
import { parseConfig } from "../../../src/config/load.ts";
import type { ResolvedConfig } from "../../../src/config/types.ts";
import { DatabaseWrapper } from "../../../src/index.ts";
import type { BenchEnv } from "../env.ts";
import { compare, fmtNs, fmtRatio, type TimingOptions } from "../harness.ts";
import type { Section } from "../report.ts";

export const PG_URL = process.env.CHATDB_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

type Engine = "sqlite" | "postgres";
const TITLE = "PostgreSQL next to SQLite: the same calls through chatdb";
const HEAD = ["call", "SQLite", "PostgreSQL", "PG ÷ SQLite"];
const CHAT = -1001000000777;
const USERS = 200;

const configFor = (engine: Engine, where: string): ResolvedConfig =>
  parseConfig(
    engine === "postgres"
      ? `[database.sources.primary]\ntype = "postgres"\nurl = ${JSON.stringify(where)}\n`
      : `[database.sources.primary]\npath = ${JSON.stringify(where)}\n`,
  );

/** "" when the server answers, else why not. */
export async function probe(url: string): Promise<string> {
  const sql = new SQL({ url, max: 1, connectionTimeout: 3 });
  try {
    await sql.unsafe("SELECT 1");
    return "";
  } catch (e) {
    return (e as Error).message;
  } finally {
    await sql.close();
  }
}

/** The URL without its password, for output. */

/** Worker mode: `n` saveChatMessage calls into chat `chat`; prints its first and last write time. */
async function worker(engine: Engine, where: string, chat: number, n: number): Promise<void> {
  const db = new DatabaseWrapper({ config: configFor(engine, where) });
  await db.updateChatUser(chat, 1, "@w", "W");
  const start = Date.now();
  for (let i = 0; i < n; i++) {
    await db.saveChatMessage({ chatId: chat, userId: 1, messageId: i, date: new Date() });
  }
  console.log(JSON.stringify({ start, end: Date.now() }));
  await db.close();
}

/** saveChatMessage/s with 4 processes writing `where` at once (start-up excluded). */
async function fourProcesses(engine: Engine, where: string, perWorker: number): Promise<number> {
  // migrate once up front, so the timing is writes only
  const setup = new DatabaseWrapper({ config: configFor(engine, where) });
  await setup.getSetting("db-migration-version");
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
  if (codes.some((c) => c !== 0)) throw new Error(`a ${engine} bench worker failed: ${codes}`);
  const spans = await Promise.all(
    procs.map(
      async (p) =>
        JSON.parse(await new Response(p.stdout).text()) as { start: number; end: number },
    ),
  );
  const ms = Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
  return (4 * perWorker) / (ms / 1000);
}

export async function postgresSuite(
  env: BenchEnv,
  t: TimingOptions,
  perWorker: number,
  url = PG_URL,
): Promise<Section> {
  const why = await probe(url);
  if (why !== "") {
    const line = `skipped: no PostgreSQL at ${redactUrl(url)} (${why}); set CHATDB_PG_URL`;
    return {
      title: TITLE,
      note: line,
      head: HEAD,
      rows: [[line, "—", "—", "—"]],
      data: { skipped: line },
    };
  }
  const admin = new SQL({ url, max: 1 });
  const schema = `chatdb_bench_${process.pid}_${Date.now().toString(36)}`;
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const pgUrl = `${url}${url.includes("?") ? "&" : "?"}search_path=${schema}`;
  const where = { sqlite: env.dir.file("pg-vs-sqlite.db"), postgres: pgUrl };
  const dbs = {
    sqlite: new DatabaseWrapper({ config: configFor("sqlite", where.sqlite) }),
    postgres: new DatabaseWrapper({ config: configFor("postgres", where.postgres) }),
  };
  try {
    // the same small data set in both
    for (const db of Object.values(dbs)) {
      for (let u = 1; u <= USERS; u++) await db.updateChatUser(CHAT, u, `@u${u}`, `User ${u}`);
      for (let m = 0; m < 2 * USERS; m++)
        await db.saveChatMessage({
          chatId: CHAT,
          userId: (m % USERS) + 1,
          messageId: `seed-${m}`,
          date: new Date(Date.UTC(2025, 0, 1) + m * 1000),
        });
    }
    const user = (i: number) => (i % USERS) + 1;
    let seq = 0;
    const calls: [string, (db: DatabaseWrapper, i: number, tag: string) => Promise<unknown>][] = [
      ["getChatUser", (db, i) => db.getChatUser(CHAT, user(i))],
      ["getChatMessagesByUser (2 rows)", (db, i) => db.getChatMessagesByUser(CHAT, user(i))],
      ["updateChatUser (upsert)", (db, i) => db.updateChatUser(CHAT, user(i), "@x", `X${i}`)],
      [
        "saveChatMessage (4-statement transaction)",
        // a fresh id per call: the harness replays its warm-up keys, and a duplicate would
        // measure the (cheap) refusal instead of the insert
        (db, i, tag) =>
          db.saveChatMessage({
            chatId: CHAT,
            userId: user(i),
            messageId: `${tag}-${seq++}`,
            date: new Date(),
          }),
      ],
    ];
    const rows: string[][] = [];
    const data: Record<string, unknown> = {};
    let round = 0;
    for (const [name, call] of calls) {
      const tag = `b${round++}`;
      const c = await compare(
        (["sqlite", "postgres"] as const).map((engine) => ({
          name: engine,
          async: true,
          run: (i: number) => call(dbs[engine], i, `${tag}-${engine}`),
        })),
        t,
      );
      const [s, p] = c.variants;
      rows.push([
        name,
        fmtNs(s?.nsPerOp ?? Number.NaN),
        fmtNs(p?.nsPerOp ?? Number.NaN),
        fmtRatio(c.ratios.postgres ?? Number.NaN),
      ]);
      data[name] = c;
    }
    await Promise.all(Object.values(dbs).map((db) => db.close()));
    // 4 bot processes, each its own chat, writing one database (SQLite: one WAL file)
    const tput = {
      sqlite: await fourProcesses("sqlite", env.dir.file("four-writers.db"), perWorker),
      postgres: await fourProcesses("postgres", pgUrl, perWorker),
    };
    rows.push([
      `saveChatMessage, 4 processes × ${perWorker}, msg/s`,
      tput.sqlite.toFixed(0),
      tput.postgres.toFixed(0),
      fmtRatio(tput.postgres / tput.sqlite),
    ]);
    data.fourProcesses = { perWorker, ...tput };
    return {
      title: TITLE,
      note:
        `Per call: median ns over interleaved rounds, sequential awaits, one process; PostgreSQL ` +
        `${redactUrl(url)} on a pool of 5. Last row: throughput, so there a ratio above 1× favours PostgreSQL.`,
      head: HEAD,
      rows,
      data,
    };
  } finally {
    await Promise.all(Object.values(dbs).map((db) => db.close()));
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  }
}

if (import.meta.main && process.argv[2] === "--worker") {
  const [, , , engine, where, chat, n] = process.argv;
  await worker(engine as Engine, where as string, Number(chat), Number(n));
}
