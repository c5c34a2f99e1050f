/**
 * Side-by-side timing. The machine is shared, so absolute times are noise: every figure the
 * bench reports is a ratio of variants measured in the same run, interleaved round by round
 * (the order alternates), taken as the median over rounds after a warm-up.
 */

/** One way of doing the work; `i` picks the i-th key so every variant sees the same keys. */
export interface Variant {
  readonly name: string;
  /** Returns a promise for async variants (chatdb's data methods); sync ones return anything. */
  readonly run: (i: number) => unknown;
  readonly async?: boolean;
}

export interface TimingOptions {
  /** Measured rounds; each runs every variant once. */
  rounds: number;
  /** Target wall time of one variant in one round. */
  roundMs: number;
  /** Warm-up per variant before any measured round (JIT, statement cache, page cache). */
  warmupMs: number;
}

export const QUICK: TimingOptions = { rounds: 5, roundMs: 8, warmupMs: 30 };
export const FULL: TimingOptions = { rounds: 15, roundMs: 25, warmupMs: 150 };

export interface VariantResult {
  name: string;
  /** Median ns per operation over the rounds. */
  nsPerOp: number;
  /** ns per operation in each round, in round order. */
  rounds: number[];
  opsPerRound: number;
}

export interface Comparison {
  variants: VariantResult[];
  /**
   * `ratios[name]`: median over rounds of (variant ns/op ÷ baseline ns/op in the same round).
   * The baseline is the first variant. Pairing by round cancels most of the shared-machine noise.
   */
  ratios: Record<string, number>;
}

/** Defeats dead-code elimination of results nobody reads. */
export let sink: unknown;

async function loop(v: Variant, start: number, n: number): Promise<void> {
  let last: unknown;
  if (v.async) for (let i = 0; i < n; i++) last = await v.run(start + i);
  else for (let i = 0; i < n; i++) last = v.run(start + i);
  sink = last;
}

/** Runs `v` for about `ms`, returning ns/op; used for warm-up and to size the rounds. */
async function calibrate(v: Variant, ms: number): Promise<number> {
  let ops = 0;
  let batch = 1;
  const t0 = Bun.nanoseconds();
  const until = t0 + ms * 1e6;
  while (Bun.nanoseconds() < until) {
    await loop(v, ops, batch);
    ops += batch;
    batch = Math.min(batch * 2, 1024);
  }
  return (Bun.nanoseconds() - t0) / ops;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? (s[m] as number)
      : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Times every variant side by side; the first one is the baseline of the ratios. */
export async function compare(
  variants: readonly Variant[],
  opts: TimingOptions,
): Promise<Comparison> {
  const ops: number[] = [];
  for (const v of variants) {
    const ns = await calibrate(v, opts.warmupMs);
    ops.push(Math.max(1, Math.round((opts.roundMs * 1e6) / ns)));
  }
  const perRound: number[][] = variants.map(() => []);
  const cursor = variants.map(() => 0);
  for (let r = 0; r < opts.rounds; r++) {
    // Alternate the order so neither side always runs right after the other's garbage.
    const order = variants.map((_, k) => (r % 2 ? variants.length - 1 - k : k));
    for (const k of order) {
      const v = variants[k] as Variant;
      const n = ops[k] as number;
      const t0 = Bun.nanoseconds();
      await loop(v, cursor[k] as number, n);
      (perRound[k] as number[]).push((Bun.nanoseconds() - t0) / n);
      cursor[k] = (cursor[k] as number) + n;
    }
  }
  const base = perRound[0] as number[];
  const ratios: Record<string, number> = {};
  variants.forEach((v, k) => {
    ratios[v.name] = median((perRound[k] as number[]).map((ns, r) => ns / (base[r] as number)));
  });
  return {
    variants: variants.map((v, k) => ({
      name: v.name,
      nsPerOp: median(perRound[k] as number[]),
      rounds: perRound[k] as number[],
      opsPerRound: ops[k] as number,
    })),
    ratios,
  };
}

/** ns → a short human figure: "840 ns", "12.3 µs", "4.10 ms". */
export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return "—";
  if (ns < 1_000) return `${ns.toFixed(ns < 10 ? 1 : 0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 100_000 ? 1 : 0)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
}

export const fmtRatio = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : "—");
