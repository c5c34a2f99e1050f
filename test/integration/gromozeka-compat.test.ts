/**
 * Database compatibility with gromozeka (the Python bot the seed was written for): a file
 * written by chatdb reads in Python's sqlite3 the way gromozeka reads it (declared-type
 * converters for TIMESTAMP and BOOLEAN), and rows Python writes the way gromozeka does
 * (datetime parameters, CURRENT_TIMESTAMP defaults) read back in chatdb.
 */
import { describe, expect, test } from "bun:test";
import { DatabaseWrapper, parseConfig } from "../../src/index.ts";
import { seedDatabase, tempDir } from "../helpers.ts";

const python = Bun.which("python3");
if (!python)
  console.warn(
    "gromozeka-compat: python3 not found, skipping the Python side of the compatibility tests",
  );

/** Runs Python with gromozeka's connection settings; `db` is the connection. Prints JSON. */
function py(path: string, body: string): unknown {
  const script = `
import sqlite3, json, datetime
sqlite3.register_converter("BOOLEAN", lambda v: bool(int(v)))
db = sqlite3.connect(${JSON.stringify(path)}, detect_types=sqlite3.PARSE_DECLTYPES)
db.row_factory = sqlite3.Row
def iso(v): return v.isoformat() if isinstance(v, datetime.datetime) else v
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
print(json.dumps({"version": int(v), "isSpammer": u["is_spammer"], "count": u["messages_count"],
  "created": iso(u["created_at"]), "date": iso(m["date"]), "messageId": m["message_id"],
  "isForum": c["is_forum"], "chatId": c["chat_id"]}))`,
    ) as Record<string, unknown>;
    expect(got).toMatchObject({
      version: 6,
      isSpammer: true,
      count: 1,
      date: "2025-12-01T10:20:30.250000",
      messageId: "7",
      isForum: true,
      chatId: -1001234567890,
    });
    expect(typeof got.created).toBe("string");
  });

  test("rows gromozeka's Python writes read back in chatdb", async () => {
    await using dir = tempDir();
    const path = dir.file("gromozeka.db");
    await seedDatabase(path); // the schema at version 6, as gromozeka's migrations leave it
    py(
      path,
      `db.execute("INSERT INTO chat_users (chat_id, user_id, username, full_name) VALUES (?, ?, ?, ?)", (-100777, 5, "@bob", "Bob"))
db.execute("""INSERT INTO chat_messages (chat_id, message_id, date, user_id, thread_id, message_text, message_category)
  VALUES (?, ?, ?, ?, ?, ?, ?)""", (-100777, "12", datetime.datetime(2025, 12, 3, 1, 3, 0, 123456), 5, 0, "from python", "unspecified"))
db.execute("INSERT OR REPLACE INTO chat_settings (chat_id, key, value) VALUES (?, ?, ?)", (-100777, "lang", "ru"))`,
    );
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
    expect(u?.createdAt).toBeInstanceOf(Date);
    expect(Math.abs((u?.createdAt?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000); // CURRENT_TIMESTAMP is UTC
    expect(await db.getChatSetting(-100777, "lang")).toBe("ru");
  });
});
