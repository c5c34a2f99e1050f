/**
 * Writer commit latency with and without the sidecar, alternating rounds so machine noise hits
 * both alike; a reader checks every snapshot as an immutable source (torn reads, errors).
 *
 * usage: bun scripts/bench/sidecar-soak.ts [ROUNDS=3] [ROUND_MS=4000] [INTERVAL_S=0.1] [PAD_ROWS=50000]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CLI,
  createPaddedDb,
  readSnapshots,
  runWriter,
  type WriterResult,
} from "../../test/integration/sidecar-helpers.ts";

const [rounds = 3, roundMs = 4000, interval = 0.1, pad = 50_000] = process.argv
  .slice(2)
  .map(Number);
const dir = mkdtempSync(join(tmpdir(), "chatdb-soak-"));
try {
  mkdirSync(join(dir, "live"));
  const from = join(dir, "live", "other.db");
  const to = join(dir, "snap", "other.db");
  createPaddedDb(from, pad);
  const config = join(dir, "bot.toml");
  writeFileSync(
    config,
    `[database.sources.bot]\npath = "bot.db"\n[sync.other]\nfrom = "live/other.db"\nto = "snap/other.db"\ninterval = ${interval}\n`,
  );
  const without: WriterResult[] = [];
  const withSidecar: WriterResult[] = [];
  let snapshots = 0;
  let torn = 0;
  let errors = 0;
  for (let i = 0; i < rounds; i++) {
    without.push(await runWriter(from, roundMs));
    const sidecar = Bun.spawn([process.execPath, CLI, "sync", config, "--poll", "10"], {
      stdout: "ignore",
      stderr: "inherit",
    });
    while (!(await Bun.file(to).exists())) await Bun.sleep(10);
    const reader = readSnapshots(to, 5);
    withSidecar.push(await runWriter(from, roundMs));
    const stats = await reader.stop();
    snapshots += stats.snapshots;
    torn += stats.torn;
    errors += stats.errors.length;
    sidecar.kill("SIGTERM");
    await sidecar.exited;
  }
  const merge = (rs: WriterResult[]) => ({
    commits: rs.reduce((n, r) => n + r.commits, 0),
    errors: rs.reduce((n, r) => n + r.errors, 0),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    max: Math.max(...rs.map((r) => r.max)),
  });
  const a = merge(without);
  const b = merge(withSidecar);
  const row = (name: string, r: ReturnType<typeof merge>) =>
    `| ${name} | ${r.commits} | ${r.errors} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.max.toFixed(1)} |`;
  console.log(
    `${rounds} rounds × ${roundMs} ms, ${pad} padding rows, sync interval ${interval}s (median of per-round percentiles)`,
  );
  console.log(
    "| writer | commits | errors | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|",
  );
  console.log(row("without sidecar", a));
  console.log(row("with sidecar", b));
  console.log(`snapshots read: ${snapshots}, torn reads: ${torn}, reader errors: ${errors}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? 0;
}
