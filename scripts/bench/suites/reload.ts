/**
 * Hot reload and live sources, measured end to end on real files and real watchers:
 * - config edit → new routing live: the file saved by atomic rename (editors) and in place,
 *   with the default debounce (50 ms) and with `debounceMs: 10`; a bench-side chokidar watcher
 *   on the same folder times the first file event, so the table shows how much of the latency
 *   is the debounce and whether the first event or folder-watch.ts's 60 ms re-report (the
 *   "echo") is what applies the save;
 * - reads/s sustained while 100 saves are applied vs the same reader with no reloads;
 * - an immutable snapshot replaced by rename → `sourceReopened`;
 * - fds and RSS before/after 10k `db.reload()` calls (each reopening one source) and 10k
 *   reopen cycles (file replaced by rename, then `check()`).
 * Instrumentation lives here, not in the library.
 */
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { watch as chokidarWatch } from "chokidar";
import type { Generation } from "../../../src/core.ts";
import { DatabaseWrapper } from "../../../src/index.ts";
import type { SqliteSource } from "../../../src/sources/sqlite-source.ts";
import type { BenchEnv } from "../env.ts";
import { fmtNs, fmtRatio } from "../harness.ts";
import type { Section } from "../report.ts";
import { openFds, settledRssMiB } from "./stability.ts";

export interface ReloadOptions {
  /** Saves timed per (save kind × debounce) case, and snapshot replacements per case. */
  trials: number;
  /** Saves applied while the reader runs. */
  loadReloads: number;
  /** db.reload() calls and reopen cycles in the stability rows. */
  cycles: number;
}

/** The full run (10k cycles): 20 saves per latency line, 100 reloads under load; smaller runs scale down. */
export const reloadOptions = (cycles: number): ReloadOptions =>
  cycles >= 10_000
    ? { trials: 20, loadReloads: 100, cycles }
    : { trials: Math.min(5, Math.max(2, cycles)), loadReloads: Math.min(20, cycles), cycles };

const DEFAULT_DEBOUNCE = 50;
/** folder-watch.ts re-reports each event this long after it. */
const ECHO_MS = 60;

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length
    ? (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number)
    : NaN;
};
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 1 : 0)} ms` : "—");
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** The next `event` from `db` (optionally one matching `accept`), or a rejection after `timeoutMs`. */
function next<T>(
  db: DatabaseWrapper,
  event: "reload" | "sourceReopened",
  accept: (e: T) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      db.off(event, on as never);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (e: T) => {
      if (!accept(e)) return;
      clearTimeout(timer);
      db.off(event, on as never);
      resolve(e);
    };
    db.on(event, on as never);
  });
}

/** Saves like an editor (temp file + rename over the config) or in place. */
function save(path: string, text: string, atomic: boolean): void {
  if (atomic) {
    writeFileSync(`${path}.swp`, text);
    renameSync(`${path}.swp`, path);
  } else {
    writeFileSync(path, text);
  }
}

/** Times of raw chokidar events per path, from a watcher of the bench's own. */
async function eventClock(folder: string) {
  const seen = new Map<string, number[]>();
  const w = chokidarWatch(folder, { depth: 0, ignoreInitial: true });
  w.on("all", (_e, path) => {
    const list = seen.get(path) ?? [];
    list.push(performance.now());
    seen.set(path, list);
  });
  await new Promise<void>((r) => w.once("ready", () => r()));
  return {
    /** The first event for `path` at or after `since`. */
    first: (path: string, since: number) =>
      (seen.get(path) ?? []).find((t) => t >= since) ?? Number.NaN,
    clear: () => seen.clear(),
    close: () => w.close(),
  };
}

interface LatencyCase {
  what: string;
  save: string;
  debounceMs: number;
  /** save → applied (ms), per trial */
  live: number[];
  /** save → first file event (ms), per trial */
  firstEvent: number[];
  /** reloads (or reopens) per save, counted until the echo and a poll would have fired */
  perSave: number[];
  /** trials applied within debounce + 30 ms of the first event (i.e. not by the 60 ms echo) */
  byFirstEvent: number;
}

function latencyRow(c: LatencyCase): string[] {
  const n = c.live.length;
  const mean = c.perSave.reduce((a, b) => a + b, 0) / Math.max(1, c.perSave.length);
  const afterEvent = c.live.map((l, i) => l - (c.firstEvent[i] as number));
  return [
    c.what,
    c.save,
    c.debounceMs === DEFAULT_DEBOUNCE ? `${c.debounceMs} (default)` : String(c.debounceMs),
    ms(pct(c.live, 50)),
    ms(pct(c.live, 95)),
    ms(pct(c.firstEvent, 50)),
    ms(pct(afterEvent, 50)),
    mean.toFixed(2),
    `${c.byFirstEvent}/${n}`,
  ];
}

const configToml = (mainPath: string, sparePath: string, toSpare: boolean, chat: number) => `
[database]
default_source = "main"

[database.sources.main]
path = ${JSON.stringify(mainPath)}

[database.sources.spare]
path = ${JSON.stringify(sparePath)}

[database.chat_mapping]
${chat} = "${toSpare ? "spare" : "main"}"
`;

/** Config edit → new routing live, for each save kind and debounce. */
async function editLatency(
  folder: string,
  mainPath: string,
  sparePath: string,
  chat: number,
  trials: number,
): Promise<LatencyCase[]> {
  const cases: LatencyCase[] = [];
  for (const debounceMs of [DEFAULT_DEBOUNCE, 10]) {
    for (const atomic of [true, false]) {
      const file = join(folder, `edit-${debounceMs}-${atomic ? "rename" : "inplace"}.toml`);
      writeFileSync(file, configToml(mainPath, sparePath, false, chat));
      const db = new DatabaseWrapper({ configPath: file, watch: true, debounceMs, pollMs: 1000 });
      const clock = await eventClock(folder);
      const c: LatencyCase = {
        what: "config edit → routing live",
        save: atomic ? "rename" : "in place",
        debounceMs,
        live: [],
        firstEvent: [],
        perSave: [],
        byFirstEvent: 0,
      };
      let reloads = 0;
      db.on("reload", () => reloads++);
      try {
        await db.watch();
        for (let i = 0; i < trials; i++) {
          const toSpare = i % 2 === 0;
          const want = toSpare ? "spare" : "main";
          const applied = next(db, "reload", () => db.explain({ chatId: chat }).source === want);
          reloads = 0;
          const t0 = performance.now();
          save(file, configToml(mainPath, sparePath, toSpare, chat), atomic);
          await applied;
          const live = performance.now() - t0;
          // wait out the echo (60 ms) and its debounce: anything after this is not this save's
          await Bun.sleep(ECHO_MS + debounceMs + 60);
          const first = clock.first(file, t0) - t0;
          c.live.push(live);
          c.firstEvent.push(first);
          c.perSave.push(reloads);
          if (live - first < debounceMs + 30) c.byFirstEvent++;
        }
      } finally {
        await clock.close();
        await db.close();
      }
      cases.push(c);
    }
  }
  return cases;
}

/** A small chatdb database (real schema, one user) to copy as snapshots. */
async function smallDatabase(path: string, chat: number): Promise<void> {
  const db = new DatabaseWrapper(path);
  await db.updateChatUser(chat, 1, "@snap", "Snap");
  await db.close();
  const { Database } = await import("bun:sqlite");
  const raw = new Database(path);
  raw.run("PRAGMA journal_mode = DELETE"); // a single self-contained file, like a sidecar snapshot
  raw.close();
}

/** Immutable snapshot replaced by rename → sourceReopened, for each debounce. */
async function snapshotLatency(
  folder: string,
  template: string,
  chat: number,
  trials: number,
): Promise<LatencyCase[]> {
  const cases: LatencyCase[] = [];
  for (const debounceMs of [DEFAULT_DEBOUNCE, 10]) {
    const sub = join(folder, `snap-${debounceMs}`);
    mkdirSync(sub, { recursive: true });
    const snap = join(sub, "snap.db");
    copyFileSync(template, snap);
    // copies made before timing: the timed step is the rename alone
    const copies = Array.from({ length: trials }, (_, i) => {
      const p = join(sub, `incoming-${i}.db`);
      copyFileSync(template, p);
      return p;
    });
    const file = join(sub, "snap.toml");
    writeFileSync(
      file,
      `[database]\ndefault_source = "snap"\n[database.sources.snap]\npath = "snap.db"\nreadonly = true\nimmutable = true\n`,
    );
    const db = new DatabaseWrapper({ configPath: file, debounceMs, pollMs: 1000 });
    const clock = await eventClock(sub);
    const c: LatencyCase = {
      what: "snapshot replaced → sourceReopened",
      save: "rename",
      debounceMs,
      live: [],
      firstEvent: [],
      perSave: [],
      byFirstEvent: 0,
    };
    let reopens = 0;
    db.on("sourceReopened", () => reopens++);
    try {
      await db.watch();
      await db.getChatUser(chat, 1); // statements prepared: the reopen must finalize them
      for (const incoming of copies) {
        const reopened = next(db, "sourceReopened");
        reopens = 0;
        const t0 = performance.now();
        renameSync(incoming, snap);
        await reopened;
        const live = performance.now() - t0;
        await Bun.sleep(ECHO_MS + debounceMs + 60);
        const first = clock.first(snap, t0) - t0;
        c.live.push(live);
        c.firstEvent.push(first);
        c.perSave.push(reopens);
        if (live - first < debounceMs + 30) c.byFirstEvent++;
      }
    } finally {
      await clock.close();
      await db.close();
    }
    cases.push(c);
  }
  return cases;
}

/** Reads/s of a bot-like reader (yielding to the event loop every 64 reads) for `ms`, or until `until` settles. */
async function reader(
  db: DatabaseWrapper,
  key: (i: number) => [number, number],
  until: Promise<unknown>,
): Promise<{ reads: number; seconds: number; errors: number }> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  let reads = 0;
  let errors = 0;
  const t0 = performance.now();
  while (!done) {
    for (let k = 0; k < 64; k++) {
      try {
        const [c, u] = key(reads);
        if ((await db.getChatUser(c, u)) === null) errors++;
      } catch {
        errors++;
      }
      reads++;
    }
    await yieldToLoop();
  }
  return { reads, seconds: (performance.now() - t0) / 1000, errors };
}

/** reads/s while `n` saves are applied (atomic, debounceMs 10) ÷ reads/s with no reloads. */
async function readsDuringReloads(
  folder: string,
  mainPath: string,
  sparePath: string,
  toggledChat: number,
  members: readonly [number, number][],
  n: number,
) {
  const file = join(folder, "load.toml");
  writeFileSync(file, configToml(mainPath, sparePath, false, toggledChat));
  const db = new DatabaseWrapper({ configPath: file, watch: true, debounceMs: 10, pollMs: 1000 });
  await db.watch();
  const key = (i: number) => members[(i * 7919) % members.length] as [number, number];
  try {
    const idle = async (msec: number) => reader(db, key, Bun.sleep(msec));
    await idle(300); // warm-up
    let gen0 = db.generation;
    const saves = (async () => {
      for (let i = 0; i < n; i++) {
        const applied = next(db, "reload");
        save(file, configToml(mainPath, sparePath, i % 2 === 0, toggledChat), true);
        await applied;
      }
    })();
    const during = await reader(db, key, saves);
    await saves;
    const reloads = db.generation - gen0;
    // the same reader for as long, with no reloads, before and after again (the machine is shared)
    const quiet = await idle((during.seconds * 1000) / 2);
    gen0 = db.generation;
    const quiet2 = await idle((during.seconds * 1000) / 2);
    const quietRate = (quiet.reads + quiet2.reads) / (quiet.seconds + quiet2.seconds);
    const duringRate = during.reads / during.seconds;
    return {
      reloads,
      seconds: during.seconds,
      duringRate,
      quietRate,
      ratio: duringRate / quietRate,
      errors: during.errors + quiet.errors + quiet2.errors,
      strayReloads: db.generation - gen0,
    };
  } finally {
    await db.close();
  }
}

/** fds and RSS around `cycles` runs of `cycle`, after a warm-up. */
async function resources(cycles: number, cycle: (i: number) => unknown) {
  for (let i = 0; i < Math.min(200, cycles); i++) await cycle(i);
  const fdsBefore = openFds();
  const rssBefore = settledRssMiB();
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < cycles; i++) await cycle(i);
  const perCycle = (Bun.nanoseconds() - t0) / cycles;
  const fdsAfter = openFds();
  const rssAfter = settledRssMiB();
  return { perCycle, fdsBefore, fdsAfter, rssBefore, rssAfter };
}

export async function reloadSuite(env: BenchEnv, o: ReloadOptions): Promise<Section[]> {
  const folder = join(env.dir.path, "reload");
  mkdirSync(folder, { recursive: true });
  const [chat, user] = env.keys.members[0] as [number, number];
  const toggled = env.keys.chats.at(-1) as number;
  const spare = join(folder, "spare.db");
  const template = join(folder, "template.db");
  await smallDatabase(spare, chat);
  await smallDatabase(template, chat);

  const edits = await editLatency(folder, env.main, spare, toggled, o.trials);
  const snaps = await snapshotLatency(folder, template, chat, o.trials);
  const load = await readsDuringReloads(
    folder,
    env.main,
    spare,
    toggled,
    env.keys.members.filter(([c]) => c !== toggled),
    o.loadReloads,
  );

  // 10k db.reload(): the file alternates between two configs whose `spare` differs (path), so
  // every reload opens one source and closes one, plus a routing change
  const stabilityRows: string[][] = [];
  const stabilityData: Record<string, unknown> = {};
  {
    const spare2 = join(folder, "spare2.db");
    copyFileSync(spare, spare2);
    const file = join(folder, "cycles.toml");
    const text = [
      configToml(env.main, spare, false, toggled),
      configToml(env.main, spare2, true, toggled),
    ];
    writeFileSync(file, text[0] as string);
    const db = new DatabaseWrapper({ configPath: file, watchSources: false });
    try {
      const r = await resources(o.cycles, async (i) => {
        writeFileSync(file, text[(i + 1) % 2] as string);
        await db.reload();
        await db.getChatUser(chat, user, { dataSource: "spare" });
      });
      stabilityData.reloads = r;
      stabilityRows.push([
        `db.reload() × ${o.cycles.toLocaleString("en")} (each reopens one source) + 1 read`,
        fmtNs(r.perCycle),
        `${r.fdsBefore} → ${r.fdsAfter}`,
        `${r.rssBefore.toFixed(1)} → ${r.rssAfter.toFixed(1)} MiB`,
        r.fdsAfter <= r.fdsBefore ? "fds stable" : "FD LEAK",
      ]);
    } finally {
      await db.close();
    }
  }
  // 10k reopen cycles: a fresh copy renamed over an immutable source's file, then check()
  {
    const sub = join(folder, "reopen");
    mkdirSync(sub, { recursive: true });
    const snap = join(sub, "snap.db");
    copyFileSync(template, snap);
    const db = new DatabaseWrapper({
      config: {
        sources: [
          {
            name: "snap",
            type: "sqlite",
            path: snap,
            readonly: true,
            immutable: true,
            mode: "immutable",
            timeout: 5,
            maxConnections: 1,
          },
        ],
        defaultSource: "snap",
        chatMapping: new Map(),
        sync: [],
        file: undefined,
      },
      watchSources: false,
    });
    const source = (db as unknown as { gen: Generation }).gen.sources.get("snap") as SqliteSource;
    let notReopened = 0;
    try {
      const r = await resources(o.cycles, async () => {
        copyFileSync(template, `${snap}.tmp`);
        renameSync(`${snap}.tmp`, snap);
        if (source.check() !== "reopened") notReopened++;
        await db.getChatUser(chat, 1);
      });
      stabilityData.reopens = { ...r, notReopened };
      stabilityRows.push([
        `snapshot renamed over + check() → reopen × ${o.cycles.toLocaleString("en")} + 1 read`,
        fmtNs(r.perCycle),
        `${r.fdsBefore} → ${r.fdsAfter}`,
        `${r.rssBefore.toFixed(1)} → ${r.rssAfter.toFixed(1)} MiB`,
        r.fdsAfter <= r.fdsBefore && notReopened === 0
          ? "fds stable"
          : notReopened
            ? `${notReopened} not reopened`
            : "FD LEAK",
      ]);
    } finally {
      await db.close();
    }
  }

  const all = [...edits, ...snaps];
  return [
    {
      title: "Hot reload: file saved → applied",
      note:
        `${o.trials} saves per line, one at a time. "first event" = the first chokidar event a watcher of the bench's own sees; ` +
        `"by first event" = saves applied within debounce + 30 ms of it, i.e. not by folder-watch.ts's ${ECHO_MS} ms re-report; ` +
        `"per save" = reload (reopen) events per save, counted until that re-report and its debounce have passed. pollMs 1000.`,
      textColumns: 3,
      head: [
        "what",
        "save",
        "debounce ms",
        "p50",
        "p95",
        "first event p50",
        "applied − first event p50",
        "per save",
        "by first event",
      ],
      rows: all.map(latencyRow),
      data: all,
    },
    {
      title: "Reload under load and stability across reloads and reopens",
      note:
        `Reader: getChatUser in a loop, yielding to the event loop every 64 reads. During: ${load.reloads} saves (rename, debounceMs 10) applied back to back over ${load.seconds.toFixed(1)} s; ` +
        "quiet: the same reader as long again with no reloads. RSS after a full GC.",
      head: ["scenario", "per cycle", "fds before → after", "RSS before → after", "result"],
      rows: [
        [
          `reads/s during ${load.reloads} reloads ÷ reads/s quiet`,
          "—",
          "—",
          "—",
          `${Math.round(load.duringRate).toLocaleString("en")} ÷ ${Math.round(load.quietRate).toLocaleString("en")} = ${fmtRatio(load.ratio)}, ${load.errors} errors`,
        ],
        ...stabilityRows,
      ],
      data: { load, ...stabilityData },
    },
  ];
}
