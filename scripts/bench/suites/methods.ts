/**
 * Per-method cost: a routed call through chatdb (argument checks, routing by the chat map, the
 * source's cached statement, row mapping, the promise) against the same SQL by hand on raw
 * bun:sqlite with a cached prepared statement. "raw query" is the statement alone — the target
 * is defined against it; "raw + map" adds the row mapping a user would otherwise write.
 */

import { dayDb, nowDb, toDbTime } from "../../../src/_internal/values.ts";
import { DatabaseWrapper } from "../../../src/index.ts";
import { chats, mapChatInfo } from "../../../src/repositories/chats.ts";
import { mapMessage, messages } from "../../../src/repositories/messages.ts";
import { chatSettings } from "../../../src/repositories/settings.ts";
import { mapChatUser, users } from "../../../src/repositories/users.ts";
import { forLatest } from "../../../src/schema/migrate.ts";
import type { Row } from "../../../src/sources/query.ts";
import { keyCycle } from "../dataset.ts";
import { type BenchEnv, config, connectionOf, durability, RawDb } from "../env.ts";
import { compare, fmtNs, fmtRatio, type TimingOptions, type Variant } from "../harness.ts";
import { type Section, verdict } from "../report.ts";

export const READ_TARGET = 1.15;

interface Case {
  method: string;
  kind: "read" | "write";
  chatdb: Variant;
  raw: Variant;
  /** Raw plus the row mapping chatdb does (reads only). */
  rawMapped?: Variant;
}

/** Main routed by the chat map; the default is another source, so routing really decides. */
export function methodsConfigToml(chats: readonly number[]): string {
  return `
[database]
default_source = "spare"

[database.sources.main]
path = "main.db"

[database.sources.spare]
path = "spare.db"

[database.chat_mapping]
${chats.map((c) => `${c} = "main"`).join("\n")}
`;
}

export async function methodsSuite(
  env: BenchEnv,
  t: TimingOptions,
  only?: readonly string[],
): Promise<Section> {
  const db = new DatabaseWrapper({
    config: config(methodsConfigToml(env.keys.chats), env.dir.path),
  });
  const raw = new RawDb(env.main);
  try {
    const msg = keyCycle(env.keys.messages, 1);
    const member = keyCycle(env.keys.members, 2);
    const chat = keyCycle(env.keys.chats, 3);
    const st = {
      byId: raw.prepare(forLatest(messages.byId).sql),
      byUser: raw.prepare(forLatest(messages.byUser).sql),
      user: raw.prepare(forLatest(users.get).sql),
      info: raw.prepare(chats.info.sql),
      settings: raw.prepare(chatSettings.all.sql),
      upsertUser: raw.prepare(users.upsert.sql),
      save: messages.save.steps.map((s) => raw.prepare(s.sql)),
    };
    const toRecord = (rows: Row[]) => {
      const out: Record<string, string> = {};
      for (const r of rows) out[r.k as string] = r.v as string;
      return out;
    };
    const saveTx = raw.db.transaction(
      (c: number, u: number, id: string, when: Date, textValue: string) => {
        const now = nowDb();
        const day = dayDb(when);
        const inserted = st.save[0]?.run(
          c,
          id,
          toDbTime(when),
          u,
          null,
          0,
          null,
          textValue,
          "text",
          "user",
          null,
          null,
          null, // media_group_id (gromozeka 008)
          "", // markup (007)
          "", // metadata (007)
          now,
        );
        if (!inserted?.changes) return false;
        st.save[1]?.run(now, c, u);
        // the statements' own placeholders: `now` is one placeholder used twice
        st.save[2]?.run(c, day, now);
        st.save[3]?.run(c, u, day, now);
        return true;
      },
    );
    let savedByChatdb = 0;
    let savedByRaw = 0;
    const when = new Date(Date.UTC(2025, 0, 1, 12));

    const cases: Case[] = [
      {
        method: "getChatMessageByMessageId",
        kind: "read",
        chatdb: {
          name: "chatdb",
          async: true,
          run: (i) => db.getChatMessageByMessageId(...msg(i)),
        },
        raw: { name: "raw", run: (i) => st.byId.get(...msg(i)) },
        rawMapped: {
          name: "raw+map",
          run: (i) => {
            const r = st.byId.get(...msg(i)) as Row | null;
            return r && mapMessage(r, "main");
          },
        },
      },
      {
        method: "getChatMessagesByUser",
        kind: "read",
        chatdb: { name: "chatdb", async: true, run: (i) => db.getChatMessagesByUser(...member(i)) },
        raw: { name: "raw", run: (i) => st.byUser.all(...member(i), 100) },
        rawMapped: {
          name: "raw+map",
          run: (i) => (st.byUser.all(...member(i), 100) as Row[]).map((r) => mapMessage(r, "main")),
        },
      },
      {
        method: "getChatUser",
        kind: "read",
        chatdb: { name: "chatdb", async: true, run: (i) => db.getChatUser(...member(i)) },
        raw: { name: "raw", run: (i) => st.user.get(...member(i)) },
        rawMapped: {
          name: "raw+map",
          run: (i) => {
            const r = st.user.get(...member(i)) as Row | null;
            return r && mapChatUser(r, "main");
          },
        },
      },
      {
        method: "getChatInfo",
        kind: "read",
        chatdb: { name: "chatdb", async: true, run: (i) => db.getChatInfo(chat(i)) },
        raw: { name: "raw", run: (i) => st.info.get(chat(i)) },
        rawMapped: {
          name: "raw+map",
          run: (i) => {
            const r = st.info.get(chat(i)) as Row | null;
            return r && mapChatInfo(r, "main");
          },
        },
      },
      {
        method: "getChatSettings",
        kind: "read",
        chatdb: { name: "chatdb", async: true, run: (i) => db.getChatSettings(chat(i)) },
        raw: { name: "raw", run: (i) => st.settings.all(chat(i)) },
        rawMapped: { name: "raw+map", run: (i) => toRecord(st.settings.all(chat(i)) as Row[]) },
      },
      {
        method: "saveChatMessage",
        kind: "write",
        chatdb: {
          name: "chatdb",
          async: true,
          run: (i) => {
            const [chatId, userId] = member(i);
            return db.saveChatMessage({
              chatId,
              userId,
              messageId: `c${++savedByChatdb}`,
              date: when,
              messageText: "hello from the bench",
            });
          },
        },
        raw: {
          name: "raw",
          run: (i) => saveTx(...member(i), `r${++savedByRaw}`, when, "hello from the bench"),
        },
      },
      {
        method: "updateChatUser",
        kind: "write",
        chatdb: {
          name: "chatdb",
          async: true,
          run: (i) => {
            const [c, u] = member(i);
            return db.updateChatUser(c, u, `user${u}`, `User ${i & 7}`);
          },
        },
        raw: {
          name: "raw",
          run: (i) => {
            const [c, u] = member(i);
            const now = nowDb();
            return st.upsertUser.run(c, u, `user${u}`, `User ${i & 7}`, now).changes > 0;
          },
        },
      },
    ];

    const rows: string[][] = [];
    const data: unknown[] = [];
    const missed: string[] = [];
    for (const c of cases) {
      if (only && !only.includes(c.method)) continue;
      const variants = [c.raw, c.chatdb, ...(c.rawMapped ? [c.rawMapped] : [])];
      const r = await compare(variants, t);
      const ratio = r.ratios.chatdb as number;
      const mapped = c.rawMapped ? (r.ratios["raw+map"] as number) : Number.NaN;
      const target =
        c.kind === "read" ? `≤ ${READ_TARGET}× ${verdict(ratio, READ_TARGET)}` : "(report)";
      if (c.kind === "read" && ratio > READ_TARGET) missed.push(c.method);
      rows.push([
        c.method,
        fmtNs(r.variants[0]?.nsPerOp ?? Number.NaN),
        fmtNs(r.variants[1]?.nsPerOp ?? Number.NaN),
        fmtRatio(ratio),
        c.rawMapped ? fmtNs(r.variants[2]?.nsPerOp ?? Number.NaN) : "—",
        c.rawMapped ? fmtRatio(ratio / mapped) : "—",
        target,
      ]);
      data.push({ method: c.method, kind: c.kind, ...r });
    }
    const main = durability(connectionOf(db, "main"));
    const rawD = durability(raw.db);
    return {
      title: "Per-method cost: chatdb (routed by chat map) vs raw bun:sqlite, same SQL",
      note:
        `${env.shape.messages.toLocaleString("en")} messages, ${env.shape.users.toLocaleString("en")} users, ` +
        `${env.shape.chats} chats. ratio = chatdb ÷ raw query, per round, median. ` +
        `Durability: chatdb main journal_mode=${main.journalMode} synchronous=${main.synchronous}; ` +
        `raw journal_mode=${rawD.journalMode} synchronous=${rawD.synchronous}.`,
      head: ["method", "raw query", "chatdb", "ratio", "raw + map", "vs raw+map", "target"],
      rows,
      footer: missed.length ? [`Read target missed: ${missed.join(", ")}`] : [],
      data: { cases: data, durability: { chatdb: main, raw: rawD } },
    };
  } finally {
    raw.close();
    await db.close();
  }
}
