/**
 * Where the time of a point read goes, in place (a CPU profile attributes ~98 % to the native
 * `get`, which hides the small JS costs): getChatUser built up step by step from the raw
 * statement to the full call, each step a variant of one side-by-side comparison.
 */

import { toBool, toNum } from "../../../src/_internal/values.ts";
import { DatabaseWrapper } from "../../../src/index.ts";
import { mapChatUser, users } from "../../../src/repositories/users.ts";
import { forLatest } from "../../../src/schema/migrate.ts";
import type { Row } from "../../../src/sources/query.ts";
import type { Source } from "../../../src/sources/source.ts";
import { keyCycle } from "../dataset.ts";
import { type BenchEnv, config, RawDb } from "../env.ts";
import { compare, fmtNs, fmtRatio, type TimingOptions } from "../harness.ts";
import type { Section } from "../report.ts";
import { methodsConfigToml } from "./methods.ts";

/** mapChatUser with the timestamps left as text: the record without its Dates. */
const recordWithoutDates = (r: Row, dataSource: string) => ({
  chatId: toNum(r.chat_id),
  userId: toNum(r.user_id),
  username: r.username as string,
  fullName: r.full_name as string,
  timezone: r.timezone as string | null,
  messagesCount: toNum(r.messages_count),
  isSpammer: toBool(r.is_spammer),
  metadata: r.metadata as string,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  dataSource,
});

export async function breakdownSuite(env: BenchEnv, t: TimingOptions): Promise<Section> {
  const db = new DatabaseWrapper({
    config: config(methodsConfigToml(env.keys.chats), env.dir.path),
  });
  const raw = new RawDb(env.main);
  try {
    const st = raw.prepare(forLatest(users.get).sql);
    const member = keyCycle(env.keys.members, 41);
    const source = (db as unknown as { gen: { sources: Map<string, Source> } }).gen.sources.get(
      "main",
    ) as Source;
    const steps = [
      { name: "raw statement .get()", run: (i: number) => st.get(...member(i)) },
      {
        name: "+ record object (timestamps as text)",
        run: (i: number) => {
          const r = st.get(...member(i)) as Row | null;
          return r && recordWithoutDates(r, "main");
        },
      },
      {
        name: "+ timestamps parsed into Dates (= raw + map)",
        run: (i: number) => {
          const r = st.get(...member(i)) as Row | null;
          return r && mapChatUser(r, "main");
        },
      },
      {
        name: "source.exec (statement lookup, finish)",
        run: (i: number) => {
          const [chatId, userId] = member(i);
          return source.exec(users.get, { chatId, userId });
        },
      },
      {
        name: "+ validation, routing, the promise and its await",
        async: true,
        run: (i: number) => db.getChatUser(...member(i)),
      },
    ];
    const r = await compare(steps, t);
    let previous = 1;
    const rows = steps.map((s, k) => {
      const ratio = r.ratios[s.name] as number;
      const step =
        k === 0
          ? "—"
          : `${ratio - previous >= 0 ? "+" : ""}${((ratio - previous) * 100).toFixed(1)} %`;
      previous = ratio;
      return [s.name, fmtNs(r.variants[k]?.nsPerOp ?? Number.NaN), fmtRatio(ratio), step];
    });
    return {
      title: "Where the time goes: getChatUser, built up from the raw statement",
      note: "Each line adds one layer; ratio = that line ÷ the raw statement, per round, median.",
      head: ["step", "per call", "ratio", "this step"],
      rows,
      data: r,
    };
  } finally {
    raw.close();
    await db.close();
  }
}
