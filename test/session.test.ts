import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { Bot, type Context, type SessionFlavor, type StorageAdapter, session } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { createSessionStorage, DatabaseWrapper } from "../src/index.ts";
import { expectCode, tempDir } from "./helpers.ts";

interface Counter {
  count: number;
}
type Ctx = Context & SessionFlavor<Counter>;

const BOT_INFO: UserFromGetMe = {
  id: 1,
  is_bot: true,
  first_name: "Test",
  username: "test_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
} as UserFromGetMe;

/** The structural shape of GramIO's `Storage` (get/set/has/delete), to check assignability. */
interface GramioStorage {
  get(key: string): unknown;
  set(key: string, value: never): unknown;
  has(key: string): boolean | Promise<boolean>;
  delete(key: string): boolean | Promise<boolean>;
}

/** A real grammY bot counting messages per chat in a session; replies are captured, no network. */
function counterBot(db: DatabaseWrapper, replies: string[]) {
  const bot = new Bot<Ctx>("0:test", { botInfo: BOT_INFO });
  bot.api.config.use(async (_prev, method, payload) => {
    if (method === "sendMessage") replies.push((payload as { text: string }).text);
    return { ok: true, result: true } as never;
  });
  const storage: StorageAdapter<Counter> = createSessionStorage<Counter>(db);
  bot.use(session({ initial: (): Counter => ({ count: 0 }), storage }));
  bot.on("message", async (ctx) => {
    ctx.session.count++;
    await ctx.reply(`count ${ctx.session.count}`);
  });
  return bot;
}

let updateId = 0;
const message = (chatId: number, text: string): Update => ({
  update_id: ++updateId,
  message: {
    message_id: updateId,
    date: 1_700_000_000,
    chat: { id: chatId, type: "private", first_name: "Ann" },
    from: { id: chatId, is_bot: false, first_name: "Ann" },
    text,
  },
});

describe("createSessionStorage", () => {
  test("grammY's session() keeps counting across a restart (a new wrapper on the same file)", async () => {
    await using dir = tempDir();
    const replies: string[] = [];
    {
      await using db = new DatabaseWrapper(dir.file("bot.db"));
      const bot = counterBot(db, replies);
      await bot.handleUpdate(message(7, "a"));
      await bot.handleUpdate(message(7, "b"));
      await bot.handleUpdate(message(8, "c"));
    }
    {
      await using db = new DatabaseWrapper(dir.file("bot.db"));
      const bot = counterBot(db, replies);
      await bot.handleUpdate(message(7, "after restart"));
    }
    expect(replies).toEqual(["count 1", "count 2", "count 1", "count 3"]);
    const raw = new Database(dir.file("bot.db"), { readonly: true });
    const rows = raw
      .query("SELECT key, value FROM cache_storage WHERE namespace = 'sessions' ORDER BY key")
      .all();
    raw.close();
    expect(rows).toEqual([
      { key: "7", value: '{"count":3}' },
      { key: "8", value: '{"count":1}' },
    ]);
  });

  test("read, write, has, delete and readAllKeys; GramIO's get/set are the same store", async () => {
    await using dir = tempDir();
    await using db = new DatabaseWrapper(dir.file("bot.db"));
    const store = createSessionStorage<{ step: string }>(db, { namespace: "wizard" });
    const gramio: GramioStorage = store;
    expect(await store.read("u1")).toBeUndefined();
    expect(await store.has("u1")).toBe(false);
    await store.write("u1", { step: "name" });
    await gramio.set("u2", { step: "age" } as never);
    expect(await store.get("u2")).toEqual({ step: "age" });
    expect(await store.read("u1")).toEqual({ step: "name" });
    expect(await store.has("u1")).toBe(true);
    const keys: string[] = [];
    for await (const k of store.readAllKeys()) keys.push(k);
    expect(keys).toEqual(["u1", "u2"]);
    expect(await store.delete("u1")).toBe(true);
    expect(await gramio.delete("u1")).toBe(false);
    expect(await store.read("u1")).toBeUndefined();
    // another namespace is another store
    expect(await createSessionStorage(db).read("u2")).toBeUndefined();
  });

  test("a value that is not JSON is INVALID_ARGUMENT and writes nothing", async () => {
    await using dir = tempDir();
    await using db = new DatabaseWrapper(dir.file("bot.db"));
    const store = createSessionStorage<unknown>(db);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    await expectCode(store.write("k", cycle), "INVALID_ARGUMENT");
    await expectCode(store.write("k", undefined), "INVALID_ARGUMENT");
    expect(await store.has("k")).toBe(false);
    await expectCode(() => createSessionStorage(db, { namespace: "" }), "INVALID_ARGUMENT");
  });

  test("a single-key read is one primary-key lookup, not a scan of the namespace", () => {
    using dir = tempDir();
    const raw = new Database(dir.file("plan.db"));
    raw.run(
      "CREATE TABLE cache_storage (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT, PRIMARY KEY (namespace, key))",
    );
    raw.run("CREATE INDEX idx_cache_namespace ON cache_storage (namespace)");
    const plan = raw
      .query(
        "EXPLAIN QUERY PLAN SELECT namespace, key, value, updated_at FROM cache_storage WHERE namespace = ? AND key = ?",
      )
      .all("sessions", "7") as { detail: string }[];
    raw.close();
    expect(plan.map((p) => p.detail)).toEqual([
      "SEARCH cache_storage USING INDEX sqlite_autoindex_cache_storage_1 (namespace=? AND key=?)",
    ]);
  });
});
