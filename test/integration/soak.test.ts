import { describe, expect, test } from "bun:test";
import { runPhase } from "../../scripts/soak/live.ts";

// The CI-sized live writer soak; `npm run soak -- --duration 60` is the long one.
describe("live writer soak (short)", () => {
  for (const journal of ["wal", "delete"] as const) {
    test(`chatdb reads a ${journal} database committed ≥ 1,000 times a second: 0 errors, 0 torn reads, no missed commit`, async () => {
      const r = await runPhase({ journal, durationMs: 2000, withReader: true });
      expect(r.reader?.examples).toEqual([]);
      expect(r.reader?.errors).toBe(0);
      expect(r.reader?.torn).toBe(0);
      expect(r.reader?.missedCommits).toBe(0);
      expect(r.reader?.sawLast).toBe(true);
      expect(r.reader?.reads).toBeGreaterThan(500);
      expect(r.writer.errorExamples).toEqual([]);
      expect(r.writer.errors).toBe(0);
      expect(r.writer.txPerSec).toBeGreaterThanOrEqual(1000);
      expect(r.writer.vacuums).toBeGreaterThanOrEqual(1);
    }, 30_000);
  }
});
