import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

/** Runs a script as a user would (`bun <script>` from the repository root). */
async function run(script: string) {
  const proc = Bun.spawn([process.execPath, script], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { out, err, code };
}

/** The temp folder a script announced on its first line. */
const workDir = (out: string) => /working in (\S+)/.exec(out)?.[1] ?? "(no folder printed)";

/** True while a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm run demo", () => {
  test("narrates every feature, exits 0, stops the other bot and removes its folder", async () => {
    const { out, err, code } = await run("scripts/demo.ts");
    expect(err).toBe("");
    expect(code).toBe(0);
    // routing by chat and by dataSource
    expect(out).toMatch(/getChatInfo\(BOOK_CLUB\)\s+│ Book club 2021\s+│ archive/);
    expect(out).toMatch(/dataSource: "archive" }\) │ Dev chat \(2021 title\) │ archive/);
    expect(out).toContain("UNKNOWN_SOURCE");
    // explain and the refused write
    expect(out).toMatch(/"write":true} │ archive\s+│ chatMapping │ immutable\s+│ true/);
    expect(out).toMatch(/READONLY_SOURCE\s+│ archive/);
    // aggregation over every source, home copy winning
    expect(out).toMatch(/-1001000000001 │ Dev chat\s+│ primary/);
    expect(out).toMatch(/Weather watchers │ weather_bot/);
    expect(out).toContain("weather_snapshot: SOURCE_UNAVAILABLE");
    // archive replaced and reopened, config reloaded, chat moved
    expect(out).toContain('event sourceReopened: { source: "archive", reason: "file replaced" }');
    expect(out).toContain("event reload: generation 2");
    expect(out).toContain('getChatInfo(FOOTBALL) → "Football fans" from archive');
    // the other bot's commits seen live, without reopening
    expect(out).toMatch(/a moment later\s+│ \d+\s+│ weather report #\d+/);
    expect(out).toContain("sourceReopened for weather_bot: 0");
    // the sidecar's snapshot read as an immutable source
    expect(out).toMatch(/published weather_bot → snapshots\/weather-bot\.db/);
    expect(out).toMatch(/weather_snapshot │ immutable \(snapshot\)/);
    expect(out).toMatch(/weather_snapshot │ immutable\s+│ ok/);
    // cleanup
    const pid = Number(/pid (\d+)\) plays the weather bot/.exec(out)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    expect(out).toContain("Cleaned up");
    expect(existsSync(workDir(out))).toBe(false);
  });
});
