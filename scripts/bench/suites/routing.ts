/**
 * Routing alone: `Router.resolve()` with 10, 1k and 100k chat mappings, half the lookups
 * mapped and half falling through to the default. A bare `Map.get` is the reference floor.
 */
import type { ResolvedConfig, SourceConfig } from "../../../src/config/types.ts";
import { Router } from "../../../src/routing.ts";
import { chatIdOf, keyCycle } from "../dataset.ts";
import { compare, fmtNs, fmtRatio, type TimingOptions } from "../harness.ts";
import { type Section, verdict } from "../report.ts";

export const ROUTING_TARGET_NS = 1_000;
export const MAPPING_SIZES = [10, 1_000, 100_000] as const;

const source = (name: string, readonly: boolean): SourceConfig => ({
  name,
  type: "sqlite",
  path: `/bench/${name}.db`,
  readonly,
  immutable: false,
  mode: readonly ? "readonly" : "read-write",
  timeout: 30,
  maxConnections: 5,
});

/** A config with `size` chats mapped over four sources (one readonly). */
export function routingConfig(size: number): ResolvedConfig {
  const names = ["primary", "archive", "external", "spare"];
  const mapping = new Map<number, string>();
  for (let k = 0; k < size; k++) mapping.set(chatIdOf(k), names[k % names.length] as string);
  return {
    sources: names.map((n) => source(n, n === "archive")),
    defaultSource: "primary",
    chatMapping: mapping,
    sync: [],
    file: undefined,
  };
}

export async function routingSuite(
  t: TimingOptions,
  sizes: readonly number[] = MAPPING_SIZES,
): Promise<Section> {
  const rows: string[][] = [];
  const data: unknown[] = [];
  for (const size of sizes) {
    const config = routingConfig(size);
    const router = new Router(config, 1);
    // half mapped chats, half unmapped ones (they fall through to the default)
    const ids = Array.from({ length: 2 * size }, (_, k) => chatIdOf(k));
    const chat = keyCycle(ids, 11);
    // a write to a chat routed to the readonly archive throws: writes go to unmapped chats
    const writable = keyCycle(
      ids.filter((c) => config.chatMapping.get(c) !== "archive"),
      12,
    );
    const map = config.chatMapping;
    const r = await compare(
      [
        { name: "Map.get", run: (i) => map.get(chat(i)) },
        { name: "resolve read", run: (i) => router.resolve(chat(i), undefined, false) },
        { name: "resolve write", run: (i) => router.resolve(writable(i), undefined, true) },
        { name: "resolve dataSource", run: () => router.resolve(undefined, "archive", false) },
      ],
      t,
    );
    const ns = (name: string) => r.variants.find((v) => v.name === name)?.nsPerOp ?? Number.NaN;
    const worst = Math.max(ns("resolve read"), ns("resolve write"), ns("resolve dataSource"));
    rows.push([
      size.toLocaleString("en"),
      fmtNs(ns("Map.get")),
      fmtNs(ns("resolve read")),
      fmtNs(ns("resolve write")),
      fmtNs(ns("resolve dataSource")),
      fmtRatio(r.ratios["resolve read"] as number),
      `≤ 1 µs ${verdict(worst, ROUTING_TARGET_NS)}`,
    ]);
    data.push({ size, ...r });
  }
  return {
    title: "Routing: Router.resolve() per call",
    note: "Half the chats looked up are mapped, half fall through to default_source. ratio = resolve read ÷ Map.get.",
    head: ["mappings", "Map.get", "read", "write", "dataSource", "read ÷ Map.get", "target"],
    rows,
    data,
  };
}
