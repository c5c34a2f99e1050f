import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { DatabaseWrapper } from "../src/index.ts";
import { migrateSqlite } from "../src/schema/migrate.ts";
import { MIGRATIONS } from "../src/schema/migrations.ts";
import { gromozekaMethodsSuite } from "./gromozeka-methods.suite.ts";
import { CHATS, multiSourceToml, seedDatabase, tempDir, writeConfig } from "./helpers.ts";
import { closePgAdmin, pgSchema, runPg } from "./pg.ts";

gromozekaMethodsSuite("SQLite primary", async (dir) => ({
  keys: 'path = "primary.db"',
  async exec(sql, params) {
    const db = new Database(`${dir}/primary.db`);
    try {
      db.run(sql, params as never);
    } finally {
      db.close();
    }
  },
  async [Symbol.asyncDispose]() {},
}));

afterAll(closePgAdmin);
gromozekaMethodsSuite(
  "PostgreSQL primary",
  async () => {
    const schema = await pgSchema();
    const sql = new SQL({ url: schema.url, max: 1 });
    return {
      keys: `type = "postgres"\nurl = "${schema.url}"`,
      async exec(text, params) {
        let i = 0;
        await sql.unsafe(
          text.replace(/\?/g, () => `$${++i}`),
          params.map((p) => (p instanceof Uint8Array ? Buffer.from(p) : p)) as never,
        );
      },
      async [Symbol.asyncDispose]() {
        await sql.close();
        await schema[Symbol.asyncDispose]();
      },
    };
  },
  { skip: !runPg },
);

describe("gromozeka's later methods on a file at gromozeka 007 (no albums yet)", () => {
  test("album reads find nothing rather than fail; the rest serve", async () => {
    await using dir = tempDir();
    const old = new Database(dir.file("archive.db"));
    migrateSqlite(old, "archive", MIGRATIONS.slice(0, 7));
    old.run(
      `INSERT INTO chat_messages (chat_id, message_id, date, user_id, message_text, root_message_id, created_at)
      VALUES (?1, '2', '2025-01-02 03:04:05', 1, 'old', '1', '2025-01-02 03:04:05')`,
      [CHATS.archived],
    );
    old.close();
    await seedDatabase(dir.file("external.db"));
    await using db = new DatabaseWrapper({ configPath: writeConfig(dir.path, multiSourceToml()) });
    expect(await db.getFirstChatMessageByMediaGroupId(CHATS.archived, "g")).toBeNull();
    expect(await db.getMediaAttachmentsByGroupId("g", { dataSource: "archive" })).toEqual([]);
    expect(await db.getMediaGroupLastUpdatedAt("g", { dataSource: "archive" })).toBeNull();
    const thread = await db.getMessageThread(CHATS.archived, 2);
    // version 7: metadata is there (""), media_group_id not (null)
    expect(thread?.threadMessages.map((m) => [m.messageId, m.mediaGroupId, m.metadata])).toEqual([
      ["2", null, ""],
    ]);
    expect((await db.searchChatMessages(CHATS.archived, null)).map((m) => m.messageId)).toEqual([
      "2",
    ]);
  });
});
