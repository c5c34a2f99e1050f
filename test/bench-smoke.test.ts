/** Proves the bench scripts run end to end on tiny data. No timing assertions: timings are noise here. */
import { expect, test } from "bun:test";
import { runBench, SUITES } from "../scripts/bench/index.ts";
import { renderSection } from "../scripts/bench/report.ts";

test("the bench runs every suite once on a tiny database and renders its tables", async () => {
  const result = await runBench({
    timing: { rounds: 1, roundMs: 1, warmupMs: 1 },
    shape: { chats: 4, users: 20, messages: 200, membersPerChat: 5, settingsPerChat: 2 },
    // stall runs real lock holders for seconds; test/integration/stall.test.ts runs its cases
    suites: SUITES.filter((x) => x !== "stall"),
    cycles: 3,
    mappingSizes: [10],
    sourceCounts: [1, 2],
    writesPerProcess: 5,
    sessionCounts: [100],
    growthSizes: [1_000, 1_100],
    coldRuns: 1,
  });
  expect(result.sections.map((s) => s.title.split(":")[0])).toEqual([
    "Per-method cost",
    "Where the time goes",
    "Routing",
    "Aggregation over N sources vs the sum of raw per-source queries",
    "Open modes",
    "Stability",
    "Hot reload",
    "Reload under load and stability across reloads and reopens",
    "PostgreSQL next to SQLite", // measured, or one "skipped: no PostgreSQL at …" row
    "Sessions",
    "Your own SQL",
    "Growth",
    "Peers",
    "Cold start",
  ]);
  for (const s of result.sections) {
    expect(s.rows.length).toBeGreaterThan(0);
    for (const row of s.rows) expect(row.length).toBe(s.head.length);
    expect(renderSection(s)).toContain(`### ${s.title}`);
  }
  expect(result.sections[0]?.rows.map((r) => r[0])).toContain("getChatSettings");
}, 120_000); // every suite once, with PostgreSQL and the cold-start runs: slow on a shared 2-core machine
