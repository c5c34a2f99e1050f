/**
 * Resource stability: open file descriptors and RSS before and after many open/close cycles of
 * a whole wrapper (three sources, one in each mode, each read once per cycle so statements are
 * prepared and must be finalized). Reloads and reopens: suites/reload.ts.
 */
import { readdirSync } from "node:fs";
import { DatabaseWrapper } from "../../../src/index.ts";
import { type BenchEnv, config } from "../env.ts";
import { fmtNs } from "../harness.ts";
import type { Section } from "../report.ts";
import { openModesToml } from "./open-modes.ts";

/** Open fds of this process (Linux /proc; -1 elsewhere). */
export function openFds(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
}

/** RSS after a full GC, in MiB. */
export function settledRssMiB(): number {
  Bun.gc(true);
  return process.memoryUsage().rss / 2 ** 20;
}

export async function stabilitySuite(env: BenchEnv, cycles: number): Promise<Section> {
  const resolved = config(
    openModesToml(env.main, env.readonlyCopy, env.immutableCopy),
    env.dir.path,
  );
  const [chatId, userId] = env.keys.members[0] as [number, number];
  const cycle = async () => {
    const db = new DatabaseWrapper({ config: resolved });
    for (const dataSource of ["rw", "ro", "imm"])
      await db.getChatUser(chatId, userId, { dataSource });
    await db.close();
  };
  // warm up first, so one-time allocations (JIT, caches) do not count as growth
  for (let i = 0; i < Math.min(200, cycles); i++) await cycle();
  const fdsBefore = openFds();
  const rssBefore = settledRssMiB();
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < cycles; i++) await cycle();
  const perCycle = (Bun.nanoseconds() - t0) / cycles;
  const fdsAfter = openFds();
  const rssAfter = settledRssMiB();
  const fdsStable = fdsAfter <= fdsBefore;
  const rows = [
    [
      `wrapper open + 3 reads + close (3 sources: rw, ro, imm) × ${cycles.toLocaleString("en")}`,
      fmtNs(perCycle),
      `${fdsBefore} → ${fdsAfter}`,
      `${rssBefore.toFixed(1)} → ${rssAfter.toFixed(1)} MiB`,
      fdsStable ? "fds stable" : "FD LEAK",
    ],
  ];
  return {
    title: "Stability: fds and RSS across open/close cycles",
    note: "RSS measured after a full GC. Reloads and reopens: the reload suite.",
    head: ["scenario", "per cycle", "fds before → after", "RSS before → after", "result"],
    rows,
    data: {
      cycles,
      perCycleNs: perCycle,
      fdsBefore,
      fdsAfter,
      rssBeforeMiB: rssBefore,
      rssAfterMiB: rssAfter,
    },
  };
}
