/**
 * Database compatibility with gromozeka (the Python bot the seed was written for) at its schema
 * 018: a file written by chatdb reads in Python's sqlite3 the way gromozeka reads it (plain
 * connection, no declared-type converters: timestamps are isoformat text it parses itself,
 * booleans are integers, the spammer flag is `isSpammer` in chat_users.metadata), and rows Python
 * writes the way gromozeka does (datetime parameters as the isoformat of the UTC instant,
 * created_at/updated_at given by the writer since 013 dropped the defaults) read back in chatdb.
 */
import { describe, expect, test } from "bun:test";
import { DatabaseWrapper, parseConfig } from "../../src/index.ts";
import { seedDatabase, tempDir } from "../helpers.ts";

const python = Bun.which("python3");
if (!python)
  console.warn(
    "gromozeka-compat: python3 not found, skipping the Python side of the compatibility tests",
  );

/**
 * Runs Python with gromozeka's connection settings (018: no detect_types, sqlite3.Row rows);
 * `db` is the connection, `sql(v)` is gromozeka's convertToSQLite for a parameter. Prints JSON.
 */
function py(path: string, body: string): unknown {
  const script = `
import sqlite3, json, datetime
db = sqlite3.connect(${JSON.stringify(path)})
db.row_factory = sqlite3.Row
UTC = datetime.timezone.utc
def sql(v): return v.isoformat() if isinstance(v, datetime.datetime) else int(v) if isinstance(v, bool) else v
def parsed(v): return datetime.datetime.fromisoformat(v).astimezone(UTC).isoformat()
${body}
db.commit()
`;
  const run = Bun.spawnSync([python as string, "-W", "ignore", "-c", script]);
  if (run.exitCode !== 0) throw new Error(`python failed: ${run.stderr.toString()}`);
  const out = run.stdout.toString().trim();
  return out ? JSON.parse(out) : null;
}

describe.skipIf(!python)("gromozeka compatibility", () => {
  test("a chatdb database reads in gromozeka's Python with its converters", async () => {
    await using dir = tempDir();
    const path = dir.file("bot.db");
    await seedDatabase(path, async (db) => {
      await db.updateChatUser(-1001234567890, 42, "@ann", "Ann");
      await db.markUserIsSpammer(-1001234567890, 42, true);
      await db.updateChatInfo(-1001234567890, { type: "supergroup", title: "T", isForum: true });
      await db.saveChatMessage({
        date: new Date("2025-12-01T10:20:30.250Z"),
        chatId: -1001234567890,
        userId: 42,
        messageId: 7,
        messageText: "hi",
      });
    });
    const got = py(
      path,
      `u = db.execute("SELECT * FROM chat_users").fetchone()
m = db.execute("SELECT * FROM chat_messages").fetchone()
c = db.execute("SELECT * FROM chat_info").fetchone()
v = db.execute("SELECT value FROM settings WHERE key = 'db-migration-version'").fetchone()[0]
print(json.dumps({"version": int(v), "columns": u.keys(), "metadata": json.loads(u["metadata"]),
  "count": u["messages_count"], "created": u["created_at"], "createdParsed": parsed(u["created_at"]),
  "date": m["date"], "dateParsed": parsed(m["date"]), "messageId": m["message_id"],
  "isForum": c["is_forum"], "chatId": c["chat_id"]}))`,
    ) as Record<string, unknown>;
    expect(got).toMatchObject({
      version: 18,
      metadata: { isSpammer: true },
      count: 1,
      date: "2025-12-01T10:20:30.250000+00:00",
      dateParsed: "2025-12-01T10:20:30.250000+00:00",
      messageId: "7",
      isForum: 1,
      chatId: -1001234567890,
    });
    expect(got.columns).not.toContain("is_spammer");
    // Python's isoformat of the UTC instant: fromisoformat gives it back unchanged
    expect(got.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    expect(got.createdParsed).toBe(got.created);
  });

  test("rows gromozeka's Python writes read back in chatdb", async () => {
    await using dir = tempDir();
    const path = dir.file("gromozeka.db");
    await seedDatabase(path); // the schema at version 18, as gromozeka's migrations leave it
    const written = py(
      path,
      `now = datetime.datetime.now(UTC).replace(microsecond=654321)
db.execute("""INSERT INTO chat_users (chat_id, user_id, username, full_name, metadata, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)""", (-100777, 5, "@bob", "Bob", json.dumps({"isSpammer": True}), sql(now), sql(now)))
db.execute("""INSERT INTO chat_messages (chat_id, message_id, date, user_id, thread_id, message_text, message_category, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)""", (-100777, "12", sql(datetime.datetime(2025, 12, 3, 1, 3, 0, 123456, tzinfo=UTC)), 5, 0, "from python", "unspecified", sql(now)))
db.execute("""INSERT INTO chat_settings (chat_id, key, value, updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (chat_id, key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at""",
  (-100777, "lang", "ru", 5, sql(now), sql(now)))
print(json.dumps(sql(now)))`,
    ) as string;
    const config = parseConfig(
      `[database.sources.grom]\npath = "gromozeka.db"\nreadonly = true\n`,
      {
        baseDir: dir.path,
      },
    );
    await using db = new DatabaseWrapper({ config, watchSources: false });
    const m = await db.getChatMessageByMessageId(-100777, 12);
    expect(m).toMatchObject({
      messageText: "from python",
      username: "@bob",
      messageCategory: "unspecified",
    });
    expect(m?.date.toISOString()).toBe("2025-12-03T01:03:00.123Z");
    const u = await db.getChatUser(-100777, 5);
    expect(u).toMatchObject({ username: "@bob", isSpammer: true, metadata: '{"isSpammer": true}' });
    // the UTC instant Python wrote (chatdb keeps milliseconds)
    expect(written).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.654321\+00:00$/);
    expect(u?.createdAt?.toISOString()).toBe(`${written.slice(0, 23)}Z`);
    expect(u?.updatedAt?.toISOString()).toBe(`${written.slice(0, 23)}Z`);
    expect(await db.getChatSetting(-100777, "lang")).toBe("ru");
  });
});
