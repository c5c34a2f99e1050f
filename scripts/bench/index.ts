/**
 * chatdb benchmarks: `bun run bench` (full, about a minute) or `bun run bench --quick` (smoke).
 * Every figure is a ratio measured side by side in one run; see harness.ts for why and how.
 * Prints markdown tables and writes the raw numbers to bench-results/.
 *
 * Options: --quick, --only methods,breakdown,routing,aggregation,modes,stability,reload,postgres,stall,sessions,growth,peers,
 * --out DIR, --no-json. The postgres suite needs a server at CHATDB_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/test) and prints "skipped: no PostgreSQL at …" without one.
 */
import { Database } from "bun:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REALISTIC, type Shape } from "./dataset.ts";
import { createEnv } from "./env.ts";
import { FULL, QUICK, type TimingOptions } from "./harness.ts";
import { renderSection, type Section } from "./report.ts";
import { aggregationSuite, SOURCE_COUNTS } from "./suites/aggregation.ts";
import { breakdownSuite } from "./suites/breakdown.ts";
import { GROWTH_QUICK, GROWTH_SIZES, growthSuite } from "./suites/growth.ts";
import { methodsSuite } from "./suites/methods.ts";
import { openModesSuite } from "./suites/open-modes.ts";
import { peersSuite } from "./suites/peers.ts";
import { postgresSuite } from "./suites/postgres.ts";
import { querySuite } from "./suites/query.ts";
import { reloadOptions, reloadSuite } from "./suites/reload.ts";
import { MAPPING_SIZES, routingSuite } from "./suites/routing.ts";
import { sessionsSuite } from "./suites/sessions.ts";
import { stabilitySuite } from "./suites/stability.ts";
import { stallSuite } from "./suites/stall.ts";

export const SUITES = [
  "methods",
  "breakdown",
  "routing",
  "aggregation",
  "modes",
  "stability",
  "reload",
  "postgres",
  "stall",
  "sessions",
  "growth",
  "peers",
  "query",
] as const;
export type SuiteName = (typeof SUITES)[number];

export interface BenchOptions {
  timing: TimingOptions;
  shape: Shape;
  suites: readonly SuiteName[];
  /** Open/close cycles in the stability suite. */
  cycles: number;
  mappingSizes: readonly number[];
  sourceCounts: readonly number[];
  /** Sessions stored in the sessions suite (default 10k and 1M). */
  sessionCounts?: readonly number[];
  /** saveChatMessage calls per process in the postgres suite's 4-process run (default 500). */
  writesPerProcess?: number;
  /** Messages in the growing chat of the growth suite (default 1k, 10k, 100k, 1M). */
  growthSizes?: readonly number[];
  /** Cold-start runs per library in the peers suite (default 10). */
  coldRuns?: number;
  /** Called with each section as soon as it is measured. */
  onSection?: (s: Section) => void;
}

export interface BenchResult {
  meta: Record<string, unknown>;
  sections: Section[];
}

export function environment(quick: boolean): Record<string, unknown> {
  const mem = new Database(":memory:");
  const sqlite = (mem.query("SELECT sqlite_version() AS v").get() as { v: string }).v;
  mem.close();
  return {
    date: new Date().toISOString(),
    bun: Bun.version,
    sqlite,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    loadavg: loadavg().map((x) => Number(x.toFixed(2))),
    mode: quick ? "quick" : "full",
  };
}

/** Runs the chosen suites on freshly generated databases. */
export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const sections: Section[] = [];
  const add = (s: Section) => {
    sections.push(s);
    o.onSection?.(s);
  };
  using env = await createEnv(o.shape);
  const want = (s: SuiteName) => o.suites.includes(s);
  if (want("methods")) add(await methodsSuite(env, o.timing));
  if (want("breakdown")) add(await breakdownSuite(env, o.timing));
  if (want("routing")) add(await routingSuite(o.timing, o.mappingSizes));
  if (want("aggregation")) add(await aggregationSuite(env, o.timing, o.sourceCounts));
  if (want("modes")) add(await openModesSuite(env, o.timing));
  if (want("stability")) add(await stabilitySuite(env, o.cycles));
  if (want("reload")) for (const s of await reloadSuite(env, reloadOptions(o.cycles))) add(s);
  if (want("postgres")) add(await postgresSuite(env, o.timing, o.writesPerProcess ?? 500));
  if (want("stall")) add(await stallSuite());
  if (want("sessions")) add(await sessionsSuite(o.timing, o.sessionCounts));
  if (want("query")) add(await querySuite(env, o.timing));
  if (want("growth")) add(await growthSuite(o.timing, o.growthSizes));
  if (want("peers")) for (const s of await peersSuite(env, o.timing, o.coldRuns)) add(s);
  return { meta: { generateMs: Math.round(env.generateMs), shape: o.shape }, sections };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      out: { type: "string", default: "bench-results" },
      "no-json": { type: "boolean", default: false },
    },
  });
  const quick = values.quick ?? false;
  const suites = values.only
    ? (values.only.split(",").map((s) => s.trim()) as SuiteName[])
    : [...SUITES];
  const unknown = suites.filter((s) => !SUITES.includes(s));
  if (unknown.length)
    throw new Error(`unknown suite(s) ${unknown.join(", ")}; known: ${SUITES.join(", ")}`);
  const meta = environment(quick);
  const command = `bun run bench${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
  console.log(`## chatdb bench (${meta.mode})\n`);
  console.log(
    `\`${command}\` — Bun ${meta.bun}, SQLite ${meta.sqlite}, ${meta.platform}, ${meta.cpus} CPUs ` +
      `(${meta.cpuModel}), load ${(meta.loadavg as number[]).join(" ")}, ${meta.date}\n`,
  );
  const t0 = performance.now();
  const result = await runBench({
    timing: quick ? QUICK : FULL,
    shape: REALISTIC,
    suites,
    cycles: quick ? 1_000 : 10_000,
    mappingSizes: MAPPING_SIZES,
    sourceCounts: SOURCE_COUNTS,
    writesPerProcess: quick ? 100 : 500,
    growthSizes: quick ? GROWTH_QUICK : GROWTH_SIZES,
    coldRuns: quick ? 3 : 10,
    onSection: (s) => console.log(renderSection(s)),
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `Generated the realistic database in ${result.meta.generateMs} ms; whole run ${seconds.toFixed(1)} s.`,
  );
  if (!values["no-json"]) {
    mkdirSync(values.out as string, { recursive: true });
    const file = join(
      values.out as string,
      `bench-${meta.mode}-${(meta.date as string).replace(/[:.]/g, "-")}.json`,
    );
    const json = JSON.stringify(
      { command, ...meta, ...result.meta, seconds, sections: result.sections },
      null,
      2,
    );
    writeFileSync(file, json);
    writeFileSync(join(values.out as string, "latest.json"), json);
    console.log(`JSON: ${file}`);
  }
}

if (import.meta.main) await main();
