/**
 * Stall: another process in the bot's way (scripts/stall/cases.ts). Per case, the event loop's
 * max lag (5 ms ticker), the p99 of reads on a source the case does not touch vs a quiet run
 * of the same reads, and what the call on the affected source returned and when.
 * Targets: max lag < 20 ms, calm p99 ≤ 1.5× quiet (both are µs-scale; a 0.1 ms floor applies).
 */
import { PG_CASES, runCase, SQLITE_CASES } from "../../stall/cases.ts";
import type { Section } from "../report.ts";

export async function stallSuite(): Promise<Section> {
  const rows: string[][] = [];
  const data: unknown[] = [];
  for (const c of [...SQLITE_CASES, ...PG_CASES]) {
    const r = await runCase(c);
    const ratio = r.calmP99Ms / Math.max(r.quietP99Ms, 0.1);
    rows.push([
      r.name,
      r.maxLagMs.toFixed(1),
      (r.quietP99Ms * 1000).toFixed(0),
      (r.calmP99Ms * 1000).toFixed(0),
      r.affected ? `${r.affected.outcome} after ${r.affected.ms.toFixed(0)} ms` : "(not called)",
      [
        r.maxLagMs < 20 ? "lag met" : "lag MISSED",
        ratio <= 1.5 ? "p99 met" : "p99 MISSED",
        ...r.notes,
      ].join("; "),
    ]);
    data.push({ ...r, affected: r.affected && { outcome: r.affected.outcome, ms: r.affected.ms } });
  }
  return {
    title: "Stall: another process holding a lock, measured inside the bot",
    note: "max lag = the event loop's worst delay (5 ms ticker); calm p99 = reads on a source the case does not touch (µs), quiet = the same reads with nothing in the way.",
    head: ["case", "max lag ms", "quiet p99 µs", "calm p99 µs", "affected call", "verdict"],
    textColumns: 1,
    rows,
    data,
  };
}
