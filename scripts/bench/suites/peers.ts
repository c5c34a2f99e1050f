/**
 * chatdb next to what a user would pick instead: the methods suite's calls, on the same file
 * (chatdb's schema and the realistic data), through Drizzle ORM (`drizzle-orm/bun-sqlite`)
 * built per call and with `.prepare()`, and Kysely (`kysely-bun-sqlite`), each written as its
 * docs show it, every call awaited; raw bun:sqlite with a cached statement is the floor.
 * Interleaved rounds; ratios per round, median.
 *
 * Then cold start: process start → first answer (a fresh `bun` on a tiny script that opens the
 * file and reads one chat_info row, scripts/bench/cold/), median over interleaved runs.
 */

import { type Changes, Database } from "bun:sqlite";
import { and, desc, eq, getTableColumns, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { Kysely, sql as ksql } from "kysely";
import { BunSqliteDialect } from "kysely-bun-sqlite";
import { dayDb, nowDb, toDbTime } from "../../../src/_internal/values.ts";
import { DatabaseWrapper } from "../../../src/index.ts";
import { chats } from "../../../src/repositories/chats.ts";
import { messages } from "../../../src/repositories/messages.ts";
import { chatSettings as settingsQ } from "../../../src/repositories/settings.ts";
import { users } from "../../../src/repositories/users.ts";
import { forLatest } from "../../../src/schema/migrate.ts";
import { keyCycle } from "../dataset.ts";
import { type BenchEnv, config, RawDb } from "../env.ts";
import { compare, fmtNs, fmtRatio, median, type TimingOptions, type Variant } from "../harness.ts";
import {
  chatInfo,
  chatMessages,
  chatSettings,
  chatStats,
  chatUserStats,
  chatUsers,
  type KyselyDb,
} from "../peers-schema.ts";
import type { Section } from "../report.ts";
import { methodsConfigToml } from "./methods.ts";

const LIBS = ["raw", "chatdb", "Drizzle", "Drizzle .prepare()", "Kysely"] as const;
type Lib = (typeof LIBS)[number];
/** A second chatdb wrapper on the same file: on writes (fsync-bound), the spread of chatdb vs itself. */
const AA = "chatdb again (A/A)";

const TEXT = "hello from the peers bench";
const WHEN = new Date(Date.UTC(2025, 0, 2, 12));

/** Drizzle's message select: every column plus the author's names (chatdb's LEFT JOIN). */
const MESSAGE = {
  ...getTableColumns(chatMessages),
  username: chatUsers.username,
  fullName: chatUsers.fullName,
};
const AUTHOR = and(
  eq(chatUsers.chatId, chatMessages.chatId),
  eq(chatUsers.userId, chatMessages.userId),
);
const NEWEST = [
  desc(chatMessages.date),
  desc(sql`length(${chatMessages.messageId})`),
  desc(chatMessages.messageId),
];
const KMESSAGE = [
  "c.chat_id",
  "c.message_id",
  "c.date",
  "c.user_id",
  "c.reply_id",
  "c.thread_id",
  "c.root_message_id",
  "c.message_text",
  "c.message_type",
  "c.message_category",
  "c.quote_text",
  "c.media_id",
  "c.created_at",
  "u.username",
  "u.full_name",
] as const;

const settingsRecord = (rows: readonly { key: string; value: string | null }[]) => {
  const out: Record<string, string> = {};
  for (const r of rows) out[r.key] = r.value as string;
  return out;
};

type Run = (i: number) => unknown;

/** Drizzle's bun-sqlite `run()` returns bun:sqlite's Changes at run time (typed `void` in 0.45). */
const changed = (r: unknown) => (r as Changes).changes > 0;

export async function peersSuite(
  env: BenchEnv,
  t: TimingOptions,
  coldRuns = 10,
): Promise<Section[]> {
  const chatdb = new DatabaseWrapper({
    config: config(methodsConfigToml(env.keys.chats), env.dir.path),
  });
  const again = new DatabaseWrapper({
    config: config(methodsConfigToml(env.keys.chats), env.dir.path),
  });
  const raw = new RawDb(env.main);
  const dconn = new Database(env.main, { readwrite: true });
  dconn.run("PRAGMA busy_timeout = 30000");
  const d = drizzle({ client: dconn });
  const kysely = new Kysely<KyselyDb>({
    dialect: new BunSqliteDialect({ database: new Database(env.main, { readwrite: true }) }),
  });
  try {
    const msg = keyCycle(env.keys.messages, 1);
    const member = keyCycle(env.keys.members, 2);
    const chat = keyCycle(env.keys.chats, 3);
    const seq: Record<string, number> = {};
    const nextId = (tag: string) => {
      seq[tag] = (seq[tag] ?? 0) + 1;
      return `${tag}${seq[tag]}`;
    };

    const st = {
      byId: raw.prepare(forLatest(messages.byId).sql),
      byUser: raw.prepare(forLatest(messages.byUser).sql),
      user: raw.prepare(forLatest(users.get).sql),
      info: raw.prepare(chats.info.sql),
      settings: raw.prepare(settingsQ.all.sql),
      upsertUser: raw.prepare(users.upsert.sql),
      save: messages.save.steps.map((s) => raw.prepare(s.sql)),
    };
    const rawSave = raw.db.transaction((c: number, u: number, id: string) => {
      const now = nowDb();
      const day = dayDb(WHEN);
      const at = toDbTime(WHEN);
      if (
        !st.save[0]?.run(
          c,
          id,
          at,
          u,
          null,
          0,
          null,
          TEXT,
          "text",
          "user",
          null,
          null,
          null,
          "",
          "",
          now,
        ).changes
      )
        return false;
      st.save[1]?.run(now, c, u);
      // the statements' own placeholders: `now` is one placeholder used twice
      st.save[2]?.run(c, day, now);
      st.save[3]?.run(c, u, day, now);
      return true;
    });

    // Drizzle, per call: the query is built (and bun:sqlite's statement prepared) on every call.
    const drizzleSave = (c: number, u: number, id: string) =>
      d.transaction((tx) => {
        const now = nowDb();
        const day = dayDb(WHEN);
        const r = tx
          .insert(chatMessages)
          .values({
            chatId: c,
            messageId: id,
            date: toDbTime(WHEN),
            userId: u,
            messageText: TEXT,
            createdAt: now,
          })
          .onConflictDoNothing()
          .run();
        if (!changed(r)) return false;
        tx.update(chatUsers)
          .set({ messagesCount: sql`${chatUsers.messagesCount} + 1`, updatedAt: now })
          .where(and(eq(chatUsers.chatId, c), eq(chatUsers.userId, u)))
          .run();
        tx.insert(chatStats)
          .values({ chatId: c, date: day, messagesCount: 1, createdAt: now, updatedAt: now })
          .onConflictDoUpdate({
            target: [chatStats.chatId, chatStats.date],
            set: { messagesCount: sql`${chatStats.messagesCount} + 1`, updatedAt: now },
          })
          .run();
        tx.insert(chatUserStats)
          .values({
            chatId: c,
            userId: u,
            date: day,
            messagesCount: 1,
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoUpdate({
            target: [chatUserStats.chatId, chatUserStats.userId, chatUserStats.date],
            set: { messagesCount: sql`${chatUserStats.messagesCount} + 1`, updatedAt: now },
          })
          .run();
        return true;
      });

    // Drizzle with .prepare(): built once, placeholders bound per call.
    const ph = sql.placeholder;
    const dp = {
      byId: d
        .select(MESSAGE)
        .from(chatMessages)
        .leftJoin(chatUsers, AUTHOR)
        .where(and(eq(chatMessages.chatId, ph("chat")), eq(chatMessages.messageId, ph("id"))))
        .limit(1)
        .prepare(),
      byUser: d
        .select(MESSAGE)
        .from(chatMessages)
        .leftJoin(chatUsers, AUTHOR)
        .where(and(eq(chatMessages.chatId, ph("chat")), eq(chatMessages.userId, ph("user"))))
        .orderBy(...NEWEST)
        .limit(ph("limit"))
        .prepare(),
      user: d
        .select()
        .from(chatUsers)
        .where(and(eq(chatUsers.chatId, ph("chat")), eq(chatUsers.userId, ph("user"))))
        .prepare(),
      info: d
        .select()
        .from(chatInfo)
        .where(eq(chatInfo.chatId, ph("chat")))
        .prepare(),
      settings: d
        .select({ key: chatSettings.key, value: chatSettings.value })
        .from(chatSettings)
        .where(eq(chatSettings.chatId, ph("chat")))
        .orderBy(chatSettings.key)
        .prepare(),
      insert: d
        .insert(chatMessages)
        .values({
          chatId: ph("chat"),
          messageId: ph("id"),
          date: ph("date"),
          userId: ph("user"),
          messageText: ph("text"),
          createdAt: ph("now"),
        })
        .onConflictDoNothing()
        .prepare(),
      counter: d
        .update(chatUsers)
        .set({ messagesCount: sql`${chatUsers.messagesCount} + 1`, updatedAt: sql`${ph("now")}` })
        .where(and(eq(chatUsers.chatId, ph("chat")), eq(chatUsers.userId, ph("user"))))
        .prepare(),
      stats: d
        .insert(chatStats)
        .values({
          chatId: ph("chat"),
          date: ph("day"),
          messagesCount: 1,
          createdAt: ph("now"),
          updatedAt: ph("now"),
        })
        .onConflictDoUpdate({
          target: [chatStats.chatId, chatStats.date],
          set: { messagesCount: sql`${chatStats.messagesCount} + 1`, updatedAt: sql`${ph("now")}` },
        })
        .prepare(),
      userStats: d
        .insert(chatUserStats)
        .values({
          chatId: ph("chat"),
          userId: ph("user"),
          date: ph("day"),
          messagesCount: 1,
          createdAt: ph("now"),
          updatedAt: ph("now"),
        })
        .onConflictDoUpdate({
          target: [chatUserStats.chatId, chatUserStats.userId, chatUserStats.date],
          set: {
            messagesCount: sql`${chatUserStats.messagesCount} + 1`,
            updatedAt: sql`${ph("now")}`,
          },
        })
        .prepare(),
      upsertUser: d
        .insert(chatUsers)
        .values({
          chatId: ph("chat"),
          userId: ph("user"),
          username: ph("username"),
          fullName: ph("name"),
          createdAt: ph("now"),
          updatedAt: ph("now"),
        })
        .onConflictDoUpdate({
          target: [chatUsers.chatId, chatUsers.userId],
          set: {
            username: sql`excluded.username`,
            fullName: sql`excluded.full_name`,
            updatedAt: sql`excluded.updated_at`,
          },
        })
        .prepare(),
    };
    const preparedSave = (c: number, u: number, id: string) =>
      d.transaction(() => {
        const now = nowDb();
        const day = dayDb(WHEN);
        const r = dp.insert.run({ chat: c, id, date: toDbTime(WHEN), user: u, text: TEXT, now });
        if (!changed(r)) return false;
        dp.counter.run({ chat: c, user: u, now });
        dp.stats.run({ chat: c, day, now });
        dp.userStats.run({ chat: c, user: u, day, now });
        return true;
      });

    const kyselySave = (c: number, u: number, id: string) =>
      kysely.transaction().execute(async (trx) => {
        const now = nowDb();
        const day = dayDb(WHEN);
        const r = await trx
          .insertInto("chat_messages")
          .values({
            chat_id: c,
            message_id: id,
            date: toDbTime(WHEN),
            user_id: u,
            reply_id: null,
            thread_id: 0,
            root_message_id: null,
            message_text: TEXT,
            message_type: "text",
            message_category: "user",
            quote_text: null,
            media_id: null,
            created_at: now,
          })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        if (!r.numInsertedOrUpdatedRows) return false;
        await trx
          .updateTable("chat_users")
          .set((eb) => ({ messages_count: eb("messages_count", "+", 1), updated_at: now }))
          .where("chat_id", "=", c)
          .where("user_id", "=", u)
          .execute();
        await trx
          .insertInto("chat_stats")
          .values({ chat_id: c, date: day, messages_count: 1, created_at: now, updated_at: now })
          .onConflict((oc) =>
            oc.columns(["chat_id", "date"]).doUpdateSet((eb) => ({
              messages_count: eb("chat_stats.messages_count", "+", 1),
              updated_at: now,
            })),
          )
          .execute();
        await trx
          .insertInto("chat_user_stats")
          .values({
            chat_id: c,
            user_id: u,
            date: day,
            messages_count: 1,
            created_at: now,
            updated_at: now,
          })
          .onConflict((oc) =>
            oc.columns(["chat_id", "user_id", "date"]).doUpdateSet((eb) => ({
              messages_count: eb("chat_user_stats.messages_count", "+", 1),
              updated_at: now,
            })),
          )
          .execute();
        return true;
      });

    const cases: { method: string; runs: Record<Lib, Run>; aa?: Run }[] = [
      {
        method: "getChatMessageByMessageId",
        runs: {
          raw: (i) => st.byId.get(...msg(i)),
          chatdb: (i) => chatdb.getChatMessageByMessageId(...msg(i)),
          Drizzle: async (i) => {
            const [c, id] = msg(i);
            return await d
              .select(MESSAGE)
              .from(chatMessages)
              .leftJoin(chatUsers, AUTHOR)
              .where(and(eq(chatMessages.chatId, c), eq(chatMessages.messageId, id)))
              .limit(1)
              .get();
          },
          "Drizzle .prepare()": async (i) => {
            const [c, id] = msg(i);
            return await dp.byId.get({ chat: c, id });
          },
          Kysely: (i) => {
            const [c, id] = msg(i);
            return kysely
              .selectFrom("chat_messages as c")
              .leftJoin("chat_users as u", (j) =>
                j.onRef("u.chat_id", "=", "c.chat_id").onRef("u.user_id", "=", "c.user_id"),
              )
              .select(KMESSAGE)
              .where("c.chat_id", "=", c)
              .where("c.message_id", "=", id)
              .limit(1)
              .executeTakeFirst();
          },
        },
      },
      {
        method: "getChatMessagesByUser",
        runs: {
          raw: (i) => st.byUser.all(...member(i), 100),
          chatdb: (i) => chatdb.getChatMessagesByUser(...member(i)),
          Drizzle: async (i) => {
            const [c, u] = member(i);
            return await d
              .select(MESSAGE)
              .from(chatMessages)
              .leftJoin(chatUsers, AUTHOR)
              .where(and(eq(chatMessages.chatId, c), eq(chatMessages.userId, u)))
              .orderBy(...NEWEST)
              .limit(100);
          },
          "Drizzle .prepare()": async (i) => {
            const [c, u] = member(i);
            return await dp.byUser.all({ chat: c, user: u, limit: 100 });
          },
          Kysely: (i) => {
            const [c, u] = member(i);
            return kysely
              .selectFrom("chat_messages as c")
              .leftJoin("chat_users as u", (j) =>
                j.onRef("u.chat_id", "=", "c.chat_id").onRef("u.user_id", "=", "c.user_id"),
              )
              .select(KMESSAGE)
              .where("c.chat_id", "=", c)
              .where("c.user_id", "=", u)
              .orderBy("c.date", "desc")
              .orderBy(ksql`length(c.message_id)`, "desc")
              .orderBy("c.message_id", "desc")
              .limit(100)
              .execute();
          },
        },
      },
      {
        method: "getChatUser",
        runs: {
          raw: (i) => st.user.get(...member(i)),
          chatdb: (i) => chatdb.getChatUser(...member(i)),
          Drizzle: async (i) => {
            const [c, u] = member(i);
            return await d
              .select()
              .from(chatUsers)
              .where(and(eq(chatUsers.chatId, c), eq(chatUsers.userId, u)))
              .get();
          },
          "Drizzle .prepare()": async (i) => {
            const [c, u] = member(i);
            return await dp.user.get({ chat: c, user: u });
          },
          Kysely: (i) => {
            const [c, u] = member(i);
            return kysely
              .selectFrom("chat_users")
              .selectAll()
              .where("chat_id", "=", c)
              .where("user_id", "=", u)
              .executeTakeFirst();
          },
        },
      },
      {
        method: "getChatInfo",
        runs: {
          raw: (i) => st.info.get(chat(i)),
          chatdb: (i) => chatdb.getChatInfo(chat(i)),
          Drizzle: async (i) =>
            await d
              .select()
              .from(chatInfo)
              .where(eq(chatInfo.chatId, chat(i)))
              .get(),
          "Drizzle .prepare()": async (i) => await dp.info.get({ chat: chat(i) }),
          Kysely: (i) =>
            kysely
              .selectFrom("chat_info")
              .selectAll()
              .where("chat_id", "=", chat(i))
              .executeTakeFirst(),
        },
      },
      {
        method: "getChatSettings",
        runs: {
          raw: (i) => st.settings.all(chat(i)),
          chatdb: (i) => chatdb.getChatSettings(chat(i)),
          Drizzle: async (i) =>
            settingsRecord(
              await d
                .select({ key: chatSettings.key, value: chatSettings.value })
                .from(chatSettings)
                .where(eq(chatSettings.chatId, chat(i)))
                .orderBy(chatSettings.key),
            ),
          "Drizzle .prepare()": async (i) =>
            settingsRecord(await dp.settings.all({ chat: chat(i) })),
          Kysely: async (i) =>
            settingsRecord(
              await kysely
                .selectFrom("chat_settings")
                .select(["key", "value"])
                .where("chat_id", "=", chat(i))
                .orderBy("key")
                .execute(),
            ),
        },
      },
      {
        method: "saveChatMessage",
        runs: {
          raw: (i) => rawSave(...member(i), nextId("pr")),
          chatdb: (i) => {
            const [chatId, userId] = member(i);
            return chatdb.saveChatMessage({
              chatId,
              userId,
              messageId: nextId("pc"),
              date: WHEN,
              messageText: TEXT,
            });
          },
          Drizzle: async (i) => drizzleSave(...member(i), nextId("pd")),
          "Drizzle .prepare()": async (i) => preparedSave(...member(i), nextId("pp")),
          Kysely: (i) => kyselySave(...member(i), nextId("pk")),
        },
        aa: (i) => {
          const [chatId, userId] = member(i);
          return again.saveChatMessage({
            chatId,
            userId,
            messageId: nextId("pa"),
            date: WHEN,
            messageText: TEXT,
          });
        },
      },
      {
        method: "updateChatUser",
        runs: {
          raw: (i) => {
            const [c, u] = member(i);
            const now = nowDb();
            return st.upsertUser.run(c, u, `user${u}`, `User ${i & 7}`, now).changes > 0;
          },
          chatdb: (i) => {
            const [c, u] = member(i);
            return chatdb.updateChatUser(c, u, `user${u}`, `User ${i & 7}`);
          },
          Drizzle: async (i) => {
            const [c, u] = member(i);
            const now = nowDb();
            return changed(
              await d
                .insert(chatUsers)
                .values({
                  chatId: c,
                  userId: u,
                  username: `user${u}`,
                  fullName: `User ${i & 7}`,
                  createdAt: now,
                  updatedAt: now,
                })
                .onConflictDoUpdate({
                  target: [chatUsers.chatId, chatUsers.userId],
                  set: { username: `user${u}`, fullName: `User ${i & 7}`, updatedAt: now },
                }),
            );
          },
          "Drizzle .prepare()": async (i) => {
            const [c, u] = member(i);
            const now = nowDb();
            return changed(
              await dp.upsertUser.run({
                chat: c,
                user: u,
                username: `user${u}`,
                name: `User ${i & 7}`,
                now,
              }),
            );
          },
          Kysely: async (i) => {
            const [c, u] = member(i);
            const now = nowDb();
            const r = await kysely
              .insertInto("chat_users")
              .values({
                chat_id: c,
                user_id: u,
                username: `user${u}`,
                full_name: `User ${i & 7}`,
                created_at: now,
                updated_at: now,
              })
              .onConflict((oc) =>
                oc.columns(["chat_id", "user_id"]).doUpdateSet((eb) => ({
                  username: eb.ref("excluded.username"),
                  full_name: eb.ref("excluded.full_name"),
                  updated_at: eb.ref("excluded.updated_at"),
                })),
              )
              .executeTakeFirst();
            return Number(r.numInsertedOrUpdatedRows) > 0;
          },
        },
        aa: (i) => {
          const [c, u] = member(i);
          return again.updateChatUser(c, u, `user${u}`, `User ${i & 7}`);
        },
      },
    ];

    const rows: string[][] = [];
    const data: unknown[] = [];
    const behind: string[] = [];
    for (const c of cases) {
      const names: string[] = [...LIBS, ...(c.aa ? [AA] : [])];
      const variants: Variant[] = names.map((name) => ({
        name,
        run: name === AA ? (c.aa as Run) : c.runs[name as Lib],
        async: name !== "raw",
      }));
      const r = await compare(variants, t);
      const chatdbRounds = r.variants[1]?.rounds as number[];
      const vs = r.variants.map((v) =>
        median(v.rounds.map((ns, j) => ns / (chatdbRounds[j] as number))),
      );
      const aa = c.aa
        ? ` (chatdb's own A/A spread there: ${fmtRatio(vs[names.length - 1] as number)})`
        : "";
      names.forEach((lib, k) => {
        const v = r.variants[k];
        const vsChatdb = vs[k] as number;
        if (k >= 2 && lib !== AA && vsChatdb < 1)
          behind.push(`${c.method}: ${lib} ${fmtRatio(vsChatdb)}${aa}`);
        rows.push([
          k === 0 ? c.method : "",
          lib,
          fmtNs(v?.nsPerOp ?? Number.NaN),
          fmtRatio(r.ratios[lib] ?? Number.NaN),
          k === 0 ? "—" : fmtRatio(vsChatdb),
        ]);
      });
      data.push({ method: c.method, ...r });
    }
    const cold = await coldStart(env, coldRuns);
    return [
      {
        title: "Peers: the same calls through chatdb, Drizzle ORM and Kysely",
        note:
          `${env.shape.messages.toLocaleString("en")} messages, ${env.shape.users.toLocaleString("en")} users, ` +
          `${env.shape.chats} chats; one file, chatdb's schema and indexes. Every call awaited. ÷ raw = that ` +
          `library ÷ raw bun:sqlite (cached statement, no mapping); ÷ chatdb above 1× means slower than chatdb. ` +
          `chatdb returns records with Dates; Drizzle and Kysely return the stored text timestamps. ` +
          `Writes add a second chatdb wrapper on the file: the spread of chatdb against itself.`,
        head: ["method", "library", "per call", "÷ raw", "÷ chatdb"],
        textColumns: 2,
        rows,
        footer: behind.length
          ? [`Faster than chatdb: ${behind.join("; ")}`]
          : ["chatdb is ahead of every peer on every call."],
        data: { cases: data },
      },
      cold,
    ];
  } finally {
    await kysely.destroy();
    dconn.close();
    raw.close();
    await chatdb.close();
    await again.close();
  }
}

const COLD = ["raw", "chatdb", "drizzle", "kysely"] as const;
const COLD_NAMES: Record<(typeof COLD)[number], string> = {
  raw: "raw bun:sqlite",
  chatdb: "chatdb",
  drizzle: "Drizzle ORM",
  kysely: "Kysely",
};

/** ms from spawning `bun cold/<lib>.ts` to its first stdout bytes (the row it read). */
async function coldOnce(lib: string, path: string, chat: number): Promise<number> {
  const script = new URL(`../cold/${lib}.ts`, import.meta.url).pathname;
  const t0 = performance.now();
  const p = Bun.spawn([process.execPath, script, path, String(chat)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = p.stdout.getReader();
  const first = await reader.read();
  const ms = performance.now() - t0;
  let out = new TextDecoder().decode(first.value);
  for (let r = await reader.read(); !r.done; r = await reader.read())
    out += new TextDecoder().decode(r.value);
  if ((await p.exited) !== 0 || !out.includes(String(chat)))
    throw new Error(`cold start of ${lib} failed: ${JSON.stringify(out)}`);
  return ms;
}

async function coldStart(env: BenchEnv, runs: number): Promise<Section> {
  const chat = env.keys.chats[0] as number;
  const times = new Map<string, number[]>(COLD.map((l) => [l, []]));
  for (const lib of COLD) await coldOnce(lib, env.main, chat); // warm the page and transpiler caches
  for (let r = 0; r < runs; r++) {
    const order = r % 2 ? [...COLD].reverse() : COLD;
    for (const lib of order) times.get(lib)?.push(await coldOnce(lib, env.main, chat));
  }
  const rawMs = median(times.get("raw") as number[]);
  return {
    title: "Cold start: process start → first answer",
    note:
      `A fresh \`bun\` (${process.execPath.split("/").slice(-1)[0]} ${Bun.version}) on scripts/bench/cold/<library>.ts: ` +
      `open the realistic file, read one chat_info row, print it. Time from spawn to the first stdout bytes; ` +
      `median of ${runs} interleaved runs after one warm-up run each.`,
    head: ["library", "median", "min", "max", "÷ raw"],
    rows: COLD.map((lib) => {
      const xs = times.get(lib) as number[];
      const m = median(xs);
      return [
        COLD_NAMES[lib],
        `${m.toFixed(1)} ms`,
        `${Math.min(...xs).toFixed(1)} ms`,
        `${Math.max(...xs).toFixed(1)} ms`,
        fmtRatio(m / rawMs),
      ];
    }),
    data: Object.fromEntries(times),
  };
}
