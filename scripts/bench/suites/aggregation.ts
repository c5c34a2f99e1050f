/**
 * Aggregation: getUserChats and getAllGroupChats over 1, 2, 4 and 8 sources against the sum of
 * the same raw query on every source. Sources overlap (source i holds chats 50·i … 50·i+99), so
 * deduplication has work to do; each chat is mapped to one home source.
 */
import { DatabaseWrapper } from "../../../src/index.ts";
import { chats, mapChatInfo } from "../../../src/repositories/chats.ts";
import { users } from "../../../src/repositories/users.ts";
import type { Row } from "../../../src/sources/query.ts";
import { chatIdOf, generate, keyCycle, type Shape } from "../dataset.ts";
import { type BenchEnv, config, RawDb } from "../env.ts";
import { compare, fmtNs, fmtRatio, type TimingOptions, type Variant } from "../harness.ts";
import { type Section, verdict } from "../report.ts";

export const AGGREGATION_TARGET = 1.3;
export const SOURCE_COUNTS = [1, 2, 4, 8] as const;

const sourceShape = (i: number): Shape => ({
  chats: 100,
  users: 1_000,
  messages: 0,
  membersPerChat: 50,
  settingsPerChat: 0,
  chatOffset: 50 * i,
  seed: 100 + i,
});

/** Sources s0…s(n−1); chat k (by offset) lives at home in s⌊k/50⌋, clamped to the last one. */
export function aggregationToml(n: number): string {
  const sources = Array.from(
    { length: n },
    (_, i) => `[database.sources.s${i}]\npath = "agg-${i}.db"`,
  );
  const mapping = Array.from(
    { length: 50 * (n + 1) },
    (_, k) => `${chatIdOf(k)} = "s${Math.min(Math.floor(k / 50), n - 1)}"`,
  );
  return `[database]\ndefault_source = "s0"\n\n${sources.join("\n\n")}\n\n[database.chat_mapping]\n${mapping.join("\n")}\n`;
}

export async function aggregationSuite(
  env: BenchEnv,
  t: TimingOptions,
  counts: readonly number[] = SOURCE_COUNTS,
): Promise<Section> {
  const max = Math.max(...counts);
  for (let i = 0; i < max; i++) await generate(env.dir.file(`agg-${i}.db`), sourceShape(i));
  const userIds = sourceShape(0).users;
  const user = keyCycle(
    Array.from({ length: userIds }, (_, k) => 100_000 + k),
    21,
  );
  const rows: string[][] = [];
  const data: unknown[] = [];
  const missed: string[] = [];
  for (const n of counts) {
    const db = new DatabaseWrapper({ config: config(aggregationToml(n), env.dir.path) });
    const raws = Array.from({ length: n }, (_, i) => new RawDb(env.dir.file(`agg-${i}.db`)));
    try {
      const chatsOf = raws.map((r) => r.prepare(users.chatsOf.sql));
      const groups = raws.map((r) => r.prepare(chats.groups.sql));
      /** What a user would write by hand: map, dedup by chat id, home copy wins. */
      const byHand = (perSource: Row[][]) => {
        const home = (chatId: number) => db.explain({ chatId }).source;
        const seen = new Map<number, { atHome: boolean; row: ReturnType<typeof mapChatInfo> }>();
        perSource.forEach((rs, i) => {
          for (const r of rs) {
            const info = mapChatInfo(r, `s${i}`);
            const atHome = home(info.chatId) === `s${i}`;
            const had = seen.get(info.chatId);
            if (had === undefined || (atHome && !had.atHome))
              seen.set(info.chatId, { atHome, row: info });
          }
        });
        return [...seen.values()].map((w) => w.row);
      };
      const methods: { method: string; chatdb: Variant; raw: Variant; byHand: Variant }[] = [
        {
          method: "getUserChats",
          chatdb: { name: "chatdb", async: true, run: (i) => db.getUserChats(user(i)) },
          raw: {
            name: "raw",
            run: (i) => {
              let total = 0;
              for (const st of chatsOf) total += st.all(user(i)).length;
              return total;
            },
          },
          byHand: {
            name: "raw+map+dedup",
            run: (i) => byHand(chatsOf.map((st) => st.all(user(i)) as Row[])),
          },
        },
        {
          method: "getAllGroupChats",
          chatdb: { name: "chatdb", async: true, run: () => db.getAllGroupChats() },
          raw: {
            name: "raw",
            run: () => {
              let total = 0;
              for (const st of groups) total += st.all().length;
              return total;
            },
          },
          byHand: {
            name: "raw+map+dedup",
            run: () => byHand(groups.map((st) => st.all() as Row[])),
          },
        },
      ];
      for (const m of methods) {
        const r = await compare([m.raw, m.chatdb, m.byHand], t);
        const ratio = r.ratios.chatdb as number;
        if (ratio > AGGREGATION_TARGET) missed.push(`${m.method} × ${n}`);
        const returned =
          m.method === "getUserChats"
            ? (await db.getUserChats(user(0))).length
            : (await db.getAllGroupChats()).length;
        rows.push([
          m.method,
          String(n),
          String(returned),
          fmtNs(r.variants[0]?.nsPerOp ?? Number.NaN),
          fmtNs(r.variants[1]?.nsPerOp ?? Number.NaN),
          fmtRatio(ratio),
          fmtNs(r.variants[2]?.nsPerOp ?? Number.NaN),
          fmtRatio(ratio / (r.ratios["raw+map+dedup"] as number)),
          `≤ ${AGGREGATION_TARGET}× ${verdict(ratio, AGGREGATION_TARGET)}`,
        ]);
        data.push({ method: m.method, sources: n, rowsReturned: returned, ...r });
      }
    } finally {
      for (const r of raws) r.close();
      await db.close();
    }
  }
  rows.sort(
    (a, b) => (a[0] as string).localeCompare(b[0] as string) || Number(a[1]) - Number(b[1]),
  );
  return {
    title: "Aggregation over N sources vs the sum of raw per-source queries",
    note: "Each source: 100 chats (half shared with the next source), 1,000 users, 5,000 memberships. ratio = chatdb ÷ Σ raw query.",
    head: [
      "method",
      "sources",
      "rows",
      "Σ raw query",
      "chatdb",
      "ratio",
      "raw + map + dedup",
      "vs by hand",
      "target",
    ],
    rows,
    footer: missed.length ? [`Aggregation target missed: ${missed.join(", ")}`] : [],
    data,
  };
}
