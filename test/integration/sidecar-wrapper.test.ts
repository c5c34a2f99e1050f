import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import { DatabaseWrapper, loadConfig } from "../../src/index.ts";
import { Sidecar } from "../../src/sync/sidecar.ts";
import { expectCode, seedDatabase, tempDir, waitFor, writeConfig } from "../helpers.ts";

const OTHER_CHAT = 555;
const WRITER = join(import.meta.dir, "fixtures", "writer.ts");

test("a bot reading the sidecar's snapshots as an immutable source sees each new one, never torn", async () => {
  await using dir = tempDir();
  const live = dir.file("other.db");
  await seedDatabase(live, (db) =>
    db.setChatSetting(OTHER_CHAT, "a", "0").then(() => db.setChatSetting(OTHER_CHAT, "b", "0")),
  );
  const raw = new Database(live);
  raw.run("PRAGMA journal_mode = WAL");
  raw.close();
  const configPath = writeConfig(
    dir.path,
    `[database]
default_source = "primary"
[database.sources.primary]
path = "bot.db"
[database.sources.other]
path = "snapshots/other.db"
readonly = true
immutable = true
[database.chat_mapping]
${OTHER_CHAT} = "other"

[sync.other]
from = "other.db"
to = "snapshots/other.db"
interval = 0.05
`,
  );

  await using sidecar = new Sidecar(loadConfig(configPath).sync, { pollMs: 20 });
  let published = 0;
  sidecar.on("published", () => published++);
  sidecar.start(); // publishes a first snapshot synchronously
  await using db = new DatabaseWrapper({ configPath, debounceMs: 10, pollMs: 100 });
  await db.watch();
  let reopened = 0;
  db.on("sourceReopened", () => reopened++);

  const writer = Bun.spawn([process.execPath, WRITER, live, "wal", String(OTHER_CHAT), "1500"], {
    stdout: "pipe",
  });
  const done = new Response(writer.stdout).text();
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  let torn = 0;
  let last = 0;
  let reads = 0;
  while (!finished) {
    const s = await db.getChatSettings(OTHER_CHAT);
    reads++;
    if (s.a !== s.b) torn++;
    expect(Number(s.a)).toBeGreaterThanOrEqual(last); // each snapshot is newer than the last
    last = Number(s.a);
    await Bun.sleep(2);
  }
  const lastCommitted = Number(/done (\d+)/.exec(await done)?.[1]);
  // the sidecar publishes the final state, and the bot is reopened onto it
  await waitFor("the final snapshot to be served", async () => {
    const s = await db.getChatSettings(OTHER_CHAT);
    return s.a === String(lastCommitted) && s.b === String(lastCommitted);
  });
  expect(torn).toBe(0);
  expect(reads).toBeGreaterThan(50);
  expect(published).toBeGreaterThanOrEqual(3);
  expect(reopened).toBeGreaterThanOrEqual(3);
  expect(db.health().sources.find((s) => s.name === "other")?.state).toBe("ok");
  // a write routed at the snapshot is still refused
  // (routing refuses it before any SQL: nothing fails in the source, so nothing is reported)
  const reported: unknown[] = [];
  db.on("sourceError", (e) => reported.push(e));
  await expectCode(db.setChatSetting(OTHER_CHAT, "a", "x"), "READONLY_SOURCE");
  expect(reported).toEqual([]);
});
