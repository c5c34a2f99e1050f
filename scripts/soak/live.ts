/**
 * Live writer soak: the writer process (writer.ts) commits ≥ 1,000 tx/s into "the other
 * bot's" database while chatdb reads it through the data API and aggregation, checking the
 * writer's invariants on every read. Each journal mode runs twice, writer alone and writer
 * with chatdb reading, so the writer's own errors and commit latency can be compared.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { DatabaseWrapper } from "../../src/index.ts";
import { BIG_BATCH, CHAT, CHAT2, SMALL_USER_BASE } from "./constants.ts";
import { LineProcess } from "./lines.ts";

const WRITER = join(import.meta.dir, "writer.ts");
const OWN_CHAT = -1009000000100;

export interface WriterResult {
  journal: string;
  commits: number;
  lastSeq: number;
  txPerSec: number;
  errors: number;
  errorCodes: Record<string, number>;
  /** the first few failures' messages (the writer prints nothing but its result line) */
  errorExamples: string[];
  vacuums: number;
  latencyMs: { p50: number; p99: number; max: number };
}

export interface ReaderResult {
  reads: number;
  /** calls by kind */
  calls: Record<string, number>;
  errors: number;
  torn: number;
  /** the first few failures, for the report */
  examples: string[];
  /** ms a commit stayed invisible to a read that started after it (0 when the read saw it) */
  stalenessMs: { p50: number; p99: number; max: number };
  /** settings reads that missed a commit which had ended before the read started */
  missedCommits: number;
  /** age of the newest commit a read saw, at the read's start: bounded by the writer's gaps */
  newestSeenAgeMs: { p50: number; p99: number; max: number };
  /** reads of the settings that saw the writer's very last commit state at the end */
  sawLast: boolean;
}

export interface PhaseResult {
  journal: "wal" | "delete";
  withReader: boolean;
  writer: WriterResult;
  reader?: ReaderResult;
}

/**
 * tmpfs when there is one: on a shared VM, ext4 fsync stalls of other jobs (seconds at a time)
 * would otherwise be measured as the writer's commit latency. `--dir` picks a real disk.
 */
export const soakDir = () => (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0;
};
const now = () => performance.timeOrigin + performance.now();

/** Runs the writer for `durationMs` against a fresh database; with `withReader`, chatdb reads it. */
export async function runPhase(opts: {
  journal: "wal" | "delete";
  durationMs: number;
  withReader: boolean;
  rate?: number;
  busyTimeoutMs?: number;
  /** Parent folder of the temp dir; default /dev/shm when present (see soakDir). */
  dir?: string;
}): Promise<PhaseResult> {
  const dir = mkdtempSync(join(opts.dir ?? soakDir(), "chatdb-soak-"));
  try {
    const external = join(dir, "other.db");
    const commitsFile = join(dir, "commits.bin");
    const writer = new LineProcess([
      process.execPath,
      WRITER,
      external,
      opts.journal,
      String(opts.durationMs),
      "--rate",
      String(opts.rate ?? 2000),
      "--busy-timeout",
      String(opts.busyTimeoutMs ?? 5000),
      "--commits",
      commitsFile,
    ]);
    await writer.line((l) => l === "ready", "writer ready");
    let reader: ReaderResult | undefined;
    if (opts.withReader) {
      reader = await readWhileWriting(dir, writer);
    }
    const resultLine = await writer.line((l) => l.startsWith("{"), "writer result");
    const code = await writer.exited;
    if (code !== 0) throw new Error(`writer exited with ${code}`);
    const result = JSON.parse(resultLine) as WriterResult;
    if (reader) {
      const bytes = readFileSync(commitsFile);
      const ends = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
      if (ends.length !== result.commits) throw new Error("commit times file is incomplete");
      Object.assign(reader, staleness(ends, samples));
    }
    return {
      journal: opts.journal,
      withReader: opts.withReader,
      writer: result,
      ...(reader ? { reader } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** (read start time, seq seen) pairs of the phase being run. */
let samples: [number, number][] = [];

/**
 * For each read: the newest commit that had ended before the read started; if the read saw
 * an older seq, it was stale by (read start − end of the first commit it missed).
 */
function staleness(commitEnds: Float64Array, reads: [number, number][]) {
  const lags: number[] = [];
  const ages: number[] = [];
  let missed = 0;
  for (const [t, seen] of reads) {
    let lo = 0;
    let hi = commitEnds.length; // count of commits ended at or before t
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((commitEnds[mid] as number) <= t) lo = mid + 1;
      else hi = mid;
    }
    const newest = lo; // seq of the newest commit ended before t
    if (seen < newest) missed++;
    lags.push(seen >= newest ? 0 : Math.max(0, t - (commitEnds[seen] as number)));
    ages.push(t - (commitEnds[seen - 1] ?? t));
  }
  const summary = (xs: number[]) => ({ p50: pct(xs, 0.5), p99: pct(xs, 0.99), max: pct(xs, 1) });
  return { stalenessMs: summary(lags), missedCommits: missed, newestSeenAgeMs: summary(ages) };
}

async function readWhileWriting(dir: string, writer: LineProcess): Promise<ReaderResult> {
  // a frozen archive holding stale copies of both chats: aggregation must never pick them
  {
    await using seed = new DatabaseWrapper(join(dir, "archive.db"));
    await seed.updateChatInfo(CHAT, { type: "supergroup", title: "archived" });
    await seed.updateChatInfo(CHAT2, { type: "supergroup", title: "archived" });
  }
  const config = parseConfig(
    `[database]
default_source = "primary"
[database.sources.primary]
path = "bot.db"
[database.sources.external]
path = "other.db"
readonly = true
timeout = 10
[database.sources.archive]
path = "archive.db"
readonly = true
immutable = true
[database.chat_mapping]
${CHAT} = "external"
`,
    { baseDir: dir },
  );
  const r: ReaderResult = {
    reads: 0,
    calls: {},
    errors: 0,
    torn: 0,
    examples: [],
    stalenessMs: { p50: 0, p99: 0, max: 0 },
    missedCommits: 0,
    newestSeenAgeMs: { p50: 0, p99: 0, max: 0 },
    sawLast: false,
  };
  samples = [];
  const fail = (kind: "errors" | "torn", what: string) => {
    r[kind]++;
    if (r.examples.length < 10) r.examples.push(`${kind}: ${what}`);
  };
  const count = (k: string) => {
    r.calls[k] = (r.calls[k] ?? 0) + 1;
    r.reads++;
  };
  let done = false;
  void writer
    .line((l) => l.startsWith("{"), "writer result", 3_600_000)
    .then(() => {
      done = true;
    });
  await using db = new DatabaseWrapper({ config });
  let lastSeq = 0;
  let i = 0;
  let rng = 12345;
  const rand = (n: number) => {
    rng = (rng * 1103515245 + 12345) & 0x7fffffff;
    return rng % n;
  };
  while (!done) {
    i++;
    try {
      const t = now();
      const s = await db.getChatSettings(CHAT);
      count("getChatSettings");
      const seq = Number(s.seq);
      samples.push([t, seq]);
      if (s.seq !== s.mirror) fail("torn", `settings seq ${s.seq} != mirror ${s.mirror}`);
      if (seq < lastSeq) fail("torn", `seq went back from ${lastSeq} to ${seq}`);
      lastSeq = seq;

      // one batch, all or nothing, one category
      const k = Math.max(1, seq - rand(300));
      for (const [user, size] of [
        [k, BIG_BATCH],
        [SMALL_USER_BASE + k, 1],
      ] as const) {
        const msgs = await db.getChatMessagesByUser(CHAT, user, { limit: 1000 });
        count("getChatMessagesByUser");
        if (msgs.length !== 0 && msgs.length !== size)
          fail("torn", `batch ${user}: ${msgs.length} of ${size} rows`);
        if (new Set(msgs.map((m) => m.messageCategory)).size > 1)
          fail("torn", `batch ${user}: mixed categories`);
      }

      if (i % 4 === 0) {
        const chats = await db.getAllGroupChats();
        count("getAllGroupChats");
        const a = chats.find((c) => c.chatId === CHAT);
        const b = chats.find((c) => c.chatId === CHAT2);
        if (a?.title !== b?.title || a?.dataSource !== "external" || b?.dataSource !== "external")
          fail(
            "torn",
            `aggregated titles ${a?.title}@${a?.dataSource} ${b?.title}@${b?.dataSource}`,
          );
      }
      if (i % 16 === 0) {
        // the bot's own database keeps working alongside
        await db.setChatSetting(OWN_CHAT, "i", String(i));
        if ((await db.getChatSetting(OWN_CHAT, "i")) !== String(i)) fail("torn", "own write lost");
        count("setChatSetting+getChatSetting");
      }
    } catch (e) {
      fail("errors", `${(e as { code?: string }).code ?? ""} ${(e as Error).message}`);
    }
    if (i % 8 === 0) await Bun.sleep(0);
  }
  // after the writer's last commit, the next read sees it
  const resultLine = await writer.line((l) => l.startsWith("{"), "writer result");
  const final = await db.getChatSettings(CHAT);
  r.sawLast = Number(final.seq) === (JSON.parse(resultLine) as WriterResult).lastSeq;
  return r;
}
