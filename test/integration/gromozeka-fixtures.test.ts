/**
 * The gromozeka fixtures (test/fixtures/gromozeka: files written by gromozeka's own code at schema
 * versions 6, 12 and 18, with the answers its own read methods give) are intact and consistent:
 * each file is at its version, its row counts and rows are the ones the answers were taken from,
 * and reading it changes nothing. This does not compare chatdb's reads with the answers.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const DIR = join(import.meta.dir, "..", "fixtures", "gromozeka");
const VERSIONS = [6, 12, 18];

type Call = {
  method: string;
  args: Record<string, unknown>;
  answer: unknown;
  errors: string[];
  raised?: string;
};
type Answers = {
  version: number;
  written: { plainSql: string[]; stubbed: string[] };
  now: string;
  tables: Record<string, number>;
  calls: Call[];
};
type Row = Record<string, unknown>;

const sha256 = (path: string) =>
  new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/;

describe.each(VERSIONS)("gromozeka fixture v%i", (version) => {
  const path = join(DIR, `v${version}.sqlite3`);
  const answers = JSON.parse(readFileSync(join(DIR, `v${version}.json`), "utf8")) as Answers;
  const calls = (method: string, args?: Record<string, unknown>) =>
    answers.calls.filter(
      (c) => c.method === method && (!args || JSON.stringify(c.args) === JSON.stringify(args)),
    );
  const one = (method: string, args: Record<string, unknown>) => {
    const found = calls(method, args);
    expect(found).toHaveLength(1);
    return found[0] as Call;
  };

  test("is at its version, matches its answers, and is never written", () => {
    const filesBefore = readdirSync(DIR).sort();
    const before = sha256(path);
    expect(statSync(path).size).toBeLessThan(200_000);

    const db = new Database(path, { readonly: true });
    try {
      const scalar = (sql: string, ...args: (string | number)[]) =>
        Object.values(db.query(sql).get(...args) as Row)[0] as string | number;
      expect(scalar("SELECT value FROM settings WHERE key = 'db-migration-version'")).toBe(
        String(version),
      );
      expect(answers.version).toBe(version);

      const tables = db
        .query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all() as { name: string }[];
      const counts = Object.fromEntries(
        tables.map(({ name }) => [name, Number(scalar(`SELECT COUNT(*) FROM "${name}"`))]),
      );
      expect(counts).toEqual(answers.tables);
      expect(counts.chat_messages).toBe(40);
      expect(counts.chat_info).toBe(3);
      expect(
        new Set((db.query("SELECT user_id FROM chat_users").all() as Row[]).map((r) => r.user_id))
          .size,
      ).toBe(6);
      expect("cache" in counts).toBe(version >= 12);
      expect("cache_weather" in counts).toBe(version < 12);
      expect(answers.written.plainSql.length > 0).toBe(version < 12);

      // gromozeka fails on a v6 file only where the schema lacks what today's code reads
      const failed = answers.calls.filter((c) => c.errors.length > 0 || c.raised);
      if (version >= 12) expect(failed).toEqual([]);
      else
        expect(new Set(failed.map((c) => c.method))).toEqual(
          new Set([
            "chatSettings.getChatSettings", // no updated_by before v10
            "chatMessages.getChatMessagesSince", // no markup/metadata/media_group_id before v8
            "chatMessages.getChatMessageByMessageId",
            "chatMessages.getChatMessagesByRootId",
            "chatMessages.getChatMessagesByUser",
            "chatMessages.getFirstChatMessageByMediaGroupId",
            "chatMessages.getMessageThread",
            "spam.getSpamMessagesByText", // no confidence before v11
            "spam.getSpamMessages",
            "spam.getSpamMessagesByUserId",
            "cache.getCacheEntry", // no unified cache table before v12
            "mediaAttachments.getMediaAttachmentsByGroupId", // no media_groups before v8
          ]),
        );

      const ok = (c: Call) => c.errors.length === 0 && !c.raised;
      const count = (table: string, where: string, ...args: (string | number)[]) =>
        Number(scalar(`SELECT COUNT(*) FROM ${table} WHERE ${where}`, ...args));
      for (const chatId of [-1001234567890, -1009876543210, 123456789]) {
        const users = one("chatUsers.getChatUsers", { chatId });
        expect((users.answer as Row[]).length).toBe(count("chat_users", "chat_id = ?", chatId));
        const topics = one("chatInfo.getChatTopics", { chatId });
        expect((topics.answer as Row[]).length).toBe(count("chat_topics", "chat_id = ?", chatId));
        const settings = one("chatSettings.getChatSettings", { chatId });
        if (ok(settings))
          expect(Object.keys(settings.answer as Row).length).toBe(
            count("chat_settings", "chat_id = ?", chatId),
          );
        const messages = one("chatMessages.getChatMessagesSince", { chatId });
        if (!ok(messages)) continue;
        // every message of the chat, as stored: gromozeka's answer round-trips the stored text
        const rows = db
          .query(
            `SELECT m.message_id, m.date, m.created_at, m.message_text, m.thread_id
             FROM chat_messages m JOIN chat_users u USING (chat_id, user_id) WHERE m.chat_id = ?`,
          )
          .all(chatId) as Row[];
        const byId = new Map(rows.map((r) => [r.message_id, r]));
        expect((messages.answer as Row[]).length).toBe(rows.length);
        for (const m of messages.answer as Row[]) {
          const r = byId.get(m.message_id) as Row;
          expect(m).toMatchObject(r);
          expect(m.date).toMatch(ISO_UTC);
          expect(m.created_at).toMatch(ISO_UTC);
        }
      }

      const settingsCall = one("common.getSettings", {});
      expect(Object.keys(settingsCall.answer as Row).length).toBe(Number(counts.settings));
      expect((one("cache.getCacheStorage", {}).answer as Row[]).length).toBe(
        Number(counts.cache_storage),
      );
      expect((one("delayedTasks.getPendingDelayedTasks", {}).answer as Row[]).length).toBe(
        count("delayed_tasks", "is_done = 0"),
      );
      const spam = one("spam.getSpamMessages", {});
      if (ok(spam)) expect((spam.answer as Row[]).length).toBe(Number(counts.spam_messages));
      const entries = calls("cache.getCacheEntry").filter((c) => c.args.ttl === undefined);
      if (version >= 12)
        expect(entries.filter((c) => c.answer !== null).length).toBe(Number(counts.cache));
    } finally {
      db.close();
    }

    expect(sha256(path)).toBe(before);
    expect(readdirSync(DIR).sort()).toEqual(filesBefore);
  });
});
