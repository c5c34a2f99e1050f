import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempPathFor } from "../../src/_internal/fs.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Sidecar } from "../../src/sync/sidecar.ts";
import { tempDir, waitFor, writeConfig } from "../helpers.ts";
import { CLI, createPaddedDb, fmtMs, readSnapshots, runWriter } from "./sidecar-helpers.ts";

const RACER = join(import.meta.dir, "fixtures", "publisher-racer.ts");

const syncToml = (interval: number) => `
[database.sources.bot]
path = "bot.db"

[sync.bot]
from = "live/other.db"
to = "snap/other.db"
interval = ${interval}
`;

describe("sidecar sync", () => {
  test("publishes consistent snapshots of a database another process hammers, without errors or torn reads", async () => {
    await using dir = tempDir();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir.file("live"));
    mkdirSync(dir.file("snap"));
    const from = dir.file("live/other.db");
    const to = dir.file("snap/other.db");
    createPaddedDb(from, 10_000);
    const configPath = writeConfig(dir.path, syncToml(0.05));

    const baseline = await runWriter(from, 1500);

    const sidecar = Bun.spawn([process.execPath, CLI, "sync", configPath, "--poll", "5"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    await waitFor("the first snapshot", () => existsSync(to), 5000);
    const reader = readSnapshots(to);
    const withSidecar = await runWriter(from, 2500);
    const commits = baseline.commits + withSidecar.commits;
    await waitFor(
      "the reader to see a snapshot with the last commit",
      () =>
        reader.stats.lastCount === commits ||
        reader.stats.errors.length > 0 ||
        reader.stats.torn > 0,
    );
    const stats = await reader.stop();

    sidecar.kill("SIGTERM");
    const [out, err, code] = await Promise.all([
      new Response(sidecar.stdout).text(),
      new Response(sidecar.stderr).text(),
      sidecar.exited,
    ]);
    const published = out.split("\n").filter((l) => l.includes(" published ")).length;
    if (process.env.CHATDB_REPORT)
      console.log(
        `writer commit latency (10k padding rows, ~1 ms between commits): without sidecar p50 ${fmtMs(baseline.p50)} p99 ${fmtMs(baseline.p99)} (${baseline.commits} commits); ` +
          `with sidecar (interval 50 ms) p50 ${fmtMs(withSidecar.p50)} p99 ${fmtMs(withSidecar.p99)} (${withSidecar.commits} commits); ` +
          `${published} snapshots published, ${stats.snapshots} read`,
      );

    expect(code).toBe(0);
    expect(out).toContain("SIGTERM: stopped cleanly");
    expect(err).toBe("");
    expect(withSidecar.errors).toBe(0);
    expect(stats.errors).toEqual([]);
    expect(stats.torn).toBe(0);
    expect(stats.regressions).toBe(0);
    expect(stats.snapshots).toBeGreaterThan(5);
    // The last snapshot has every commit the writer made.
    expect(stats.lastCount).toBe(commits);
    // Nothing left behind: no temp file, no lock.
    expect(readdirSync(dir.file("snap"))).toEqual(["other.db"]);
  }, 20_000);

  test("removes a temp file left by a killed sidecar and refuses a second live sidecar", async () => {
    await using dir = tempDir();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir.file("live"));
    mkdirSync(dir.file("snap"));
    createPaddedDb(dir.file("live/other.db"), 10);
    const config = loadConfig(writeConfig(dir.path, syncToml(0.05)));
    const target = config.sync[0]?.to as string;
    // A dead pid's temp file (pid 2^22 + 1 is above Linux's pid_max default).
    const stale = tempPathFor(target, 4_194_305);
    writeFileSync(stale, "half a snapshot");

    const first = new Sidecar(config.sync);
    const cleaned: string[] = [];
    first.on("cleaned", (e) => cleaned.push(...e.paths));
    first.start();
    expect(cleaned).toEqual([stale]);
    expect(existsSync(target)).toBe(true);

    const cli = Bun.spawnSync([process.execPath, CLI, "sync", config.file as string, "--once"]);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr.toString()).toContain("SOURCE_UNAVAILABLE");
    expect(cli.stderr.toString()).toContain(`another sidecar (pid ${process.pid}`);

    await first.close();
    expect(readdirSync(dir.file("snap"))).toEqual(["other.db"]);
  });

  test("publishers started on one target at the same instant: exactly one runs, stale lock or not", async () => {
    await using dir = tempDir();
    const from = dir.file("other.db");
    const to = dir.file("snap.db");
    const lock = dir.file(".snap.db.lock");
    createPaddedDb(from, 10);
    for (const stale of [true, false, true]) {
      if (stale) writeFileSync(lock, "4194305"); // a dead pid's lock (above the default pid_max)
      const startAt = Date.now() + 700; // after every racer has loaded
      const racers = Array.from({ length: 6 }, () =>
        Bun.spawn([process.execPath, RACER, from, to, String(startAt)], {
          stdout: "pipe",
          stderr: "pipe",
        }),
      );
      const lines: string[] = [];
      const readers = racers.map(async (p) => {
        const reader = p.stdout.getReader();
        const { value } = await reader.read();
        lines.push(new TextDecoder().decode(value).trim());
        reader.releaseLock();
      });
      await Promise.all(readers);
      const running = lines.filter((l) => l.startsWith("running "));
      expect(lines.filter((l) => l === "refused SOURCE_UNAVAILABLE").length).toBe(5);
      expect(running.length).toBe(1);
      expect(readFileSync(lock, "utf8")).toBe(running[0]?.slice("running ".length) as string);
      const winner = racers.find((p) => running[0] === `running ${p.pid}`);
      winner?.kill("SIGTERM");
      expect(await Promise.all(racers.map((p) => p.exited))).toEqual([0, 0, 0, 0, 0, 0]);
      // No lock, claim or temp file left behind.
      expect(readdirSync(dir.path).filter((n) => !n.startsWith("other.db"))).toEqual(["snap.db"]);
    }
  }, 20_000);

  test("waits for a missing source and publishes once it appears", async () => {
    await using dir = tempDir();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir.file("live"));
    mkdirSync(dir.file("snap"));
    const config = loadConfig(writeConfig(dir.path, syncToml(0.01)));
    await using sidecar = new Sidecar(config.sync, { pollMs: 5 });
    const waiting: string[] = [];
    sidecar.on("waiting", (e) => waiting.push(e.reason));
    sidecar.start();
    expect(waiting.length).toBe(1);
    expect(existsSync(dir.file("live/other.db"))).toBe(false); // never created by the sidecar
    createPaddedDb(dir.file("live/other.db"), 10);
    await waitFor(
      "a snapshot after the source appears",
      () => existsSync(dir.file("snap/other.db")),
      5000,
    );
  });
});
