import { describe, expect, test } from "bun:test";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { type DatabaseError, DatabaseWrapper } from "../../src/index.ts";
import { nextEvent, seedDatabase, tempDir, waitFor, writeConfig } from "../helpers.ts";

const CHAT = -1001000000042;

const base = `[database]
default_source = "primary"

[database.sources.primary]
path = "primary.db"

[database.sources.archive]
path = "archive.db"
readonly = true
`;
const mapped = `${base}\n[database.chat_mapping]\n${CHAT} = "archive"\n`;
const unmapped = `${base}\n[database.chat_mapping]\n`;
const INVALID = [
  `${base}\n[database.chat_mapping\n`, // TOML syntax
  `${base}\n[database.chat_mapping]\n${CHAT} = "nowhere"\n`, // target names no source
  base.replace("readonly = true", "readonly = true\nreadonlyy = true"), // typo
  base.replace('default_source = "primary"', 'default_source = "missing"'),
  `${base}\n[database.chat_mapping]\n9007199254740993 = "archive"\n`, // unsafe id
];

async function setup(dir: ReturnType<typeof tempDir>) {
  await seedDatabase(dir.file("archive.db"), (db) => db.updateChatUser(CHAT, 1, "@archived", "A"));
  await seedDatabase(dir.file("primary.db"), (db) => db.updateChatUser(CHAT, 1, "@primary", "P"));
  const configPath = writeConfig(dir.path, mapped);
  const db = new DatabaseWrapper({ configPath, watch: true, debounceMs: 10, pollMs: 100 });
  await db.watch();
  return { db, configPath };
}

/** Saves like an editor: write a temp file in the same folder, rename it over the config. */
function saveAtomic(path: string, text: string) {
  writeFileSync(`${path}.swp`, text);
  renameSync(`${path}.swp`, path);
}

describe("config hot reload", () => {
  test("a bot-like reader keeps answering during 200 rewrites; routing follows each valid config", async () => {
    await using dir = tempDir();
    const { db, configPath } = await setup(dir);
    await using _ = db;
    let reads = 0;
    const failures: unknown[] = [];
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        try {
          const u = await db.getChatUser(CHAT, 1);
          if (u === null) failures.push(new Error("user vanished"));
          reads++;
        } catch (e) {
          failures.push(e);
        }
        await Bun.sleep(0);
      }
    })();

    let rejected = 0;
    db.on("reloadError", () => rejected++);
    const generations: number[] = [];
    for (let i = 0; i < 200; i++) {
      const wantArchive = i % 2 === 1;
      if (i % 20 === 0) {
        // an invalid save: rejected, the last good config stays in force
        const before = db.explain({ chatId: CHAT });
        const err = nextEvent<{ error: DatabaseError }>(db, "reloadError");
        saveAtomic(configPath, INVALID[(i / 20) % INVALID.length] as string);
        expect((await err).error.code).toMatch(/^CONFIG_(PARSE|INVALID)$/);
        expect(db.explain({ chatId: CHAT })).toEqual(before);
      }
      const text = wantArchive ? mapped : unmapped;
      if (i % 4 < 2) saveAtomic(configPath, text);
      else writeFileSync(configPath, text); // in-place save
      await waitFor(`rewrite ${i} to route to ${wantArchive ? "archive" : "primary"}`, () => {
        const e = db.explain({ chatId: CHAT });
        return (
          e.source === (wantArchive ? "archive" : "primary") &&
          e.rule === (wantArchive ? "chatMapping" : "default")
        );
      });
      const u = await db.getChatUser(CHAT, 1);
      expect(u?.username).toBe(wantArchive ? "@archived" : "@primary");
      generations.push(db.explain().generation);
    }
    stop = true;
    await reader;
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(200);
    expect(rejected).toBeGreaterThanOrEqual(10);
    // each valid config got a higher generation; health reports the same one
    for (let i = 1; i < generations.length; i++)
      expect(generations[i] as number).toBeGreaterThan(generations[i - 1] as number);
    expect(db.health().generation).toBe(generations.at(-1) as number);
  }, 60_000);

  test("a config file briefly missing mid-save keeps the last good config", async () => {
    await using dir = tempDir();
    const { db, configPath } = await setup(dir);
    await using _ = db;
    const gen = db.generation;
    const err = nextEvent<{ error: DatabaseError }>(db, "reloadError");
    rmSync(configPath);
    expect((await err).error.code).toBe("CONFIG_INVALID");
    expect(db.explain({ chatId: CHAT }).source).toBe("archive");
    expect((await db.getChatUser(CHAT, 1))?.username).toBe("@archived");
    const ok = nextEvent<{ generation: number }>(db, "reload");
    writeFileSync(configPath, unmapped);
    expect((await ok).generation).toBeGreaterThan(gen);
    expect(db.explain({ chatId: CHAT }).source).toBe("primary");
  });

  test("added sources open, removed ones close, changed ones reopen, unchanged ones keep their connection", async () => {
    await using dir = tempDir();
    const { db, configPath } = await setup(dir);
    await using _ = db;
    await seedDatabase(dir.file("other.db"), (d) => d.updateChatUser(7, 7, "@other", "O"));
    const primaryBefore = db.health().sources.find((s) => s.name === "primary")?.lastChange;

    let ev = nextEvent<{ added: string[]; removed: string[]; changed: string[] }>(db, "reload");
    const withOther = mapped.replace(
      "[database.chat_mapping]",
      '[database.sources.other]\npath = "other.db"\nreadonly = true\n\n[database.chat_mapping]',
    );
    saveAtomic(configPath, withOther);
    expect(await ev).toMatchObject({ added: ["other"], removed: [], changed: [] });
    expect((await db.getChatUser(7, 7, { dataSource: "other" }))?.username).toBe("@other");

    // archive moves to another file: it is reopened; other is removed
    await seedDatabase(dir.file("archive2.db"), (d) =>
      d.updateChatUser(CHAT, 1, "@archive2", "A2"),
    );
    ev = nextEvent(db, "reload");
    saveAtomic(configPath, mapped.replace('path = "archive.db"', 'path = "archive2.db"'));
    expect(await ev).toMatchObject({ added: [], removed: ["other"], changed: ["archive"] });
    expect((await db.getChatUser(CHAT, 1))?.username).toBe("@archive2");
    const e = await db.getChatUser(7, 7, { dataSource: "other" }).catch((x: DatabaseError) => x);
    expect((e as DatabaseError).code).toBe("UNKNOWN_SOURCE");
    // the primary was never reopened
    expect(db.health().sources.find((s) => s.name === "primary")?.lastChange).toEqual(
      primaryBefore as Date,
    );
  });

  test("one save is one reload; a second write inside chokidar's 50 ms throttle still lands", async () => {
    await using dir = tempDir();
    const { db, configPath } = await setup(dir);
    await using _ = db;
    const gens: number[] = [];
    db.on("reload", (e) => gens.push(e.generation));
    const gen = db.generation;
    saveAtomic(configPath, unmapped);
    await waitFor("routing to primary", () => db.explain({ chatId: CHAT }).source === "primary");
    await Bun.sleep(250); // past the 60 ms re-report and a poll: neither reloads the same bytes
    expect(gens).toEqual([gen + 1]);
    // two in-place writes 5 ms apart: chokidar reports only the first; the second must land.
    // The second maps a chat neither earlier config maps, so a lost write cannot pass.
    writeFileSync(configPath, mapped);
    await Bun.sleep(5);
    writeFileSync(configPath, `${unmapped}777 = "archive"\n`);
    await waitFor(
      "the second write to be applied",
      () => db.explain({ chatId: 777 }).source === "archive",
      3000,
    );
    expect(db.explain({ chatId: CHAT }).source).toBe("primary");
    expect([...db.config.chatMapping]).toEqual([[777, "archive"]]);
  });

  test("reload() on demand applies a valid file and rejects an invalid one", async () => {
    await using dir = tempDir();
    const configPath = writeConfig(dir.path, mapped);
    await seedDatabase(dir.file("archive.db"));
    await using db = new DatabaseWrapper({ configPath });
    writeFileSync(configPath, unmapped);
    expect(await db.reload()).toBe(2);
    expect(db.explain({ chatId: CHAT }).source).toBe("primary");
    writeFileSync(configPath, INVALID[0] as string);
    const err = await db.reload().catch((e: DatabaseError) => e);
    expect((err as DatabaseError).code).toBe("CONFIG_PARSE");
    expect((err as DatabaseError).message).toMatch(/bot\.toml:\d+:\d+/);
    expect(db.generation).toBe(2);
  });

  test("one save is one reload, and a save that changes nothing is none", async () => {
    await using dir = tempDir();
    const { db, configPath } = await setup(dir);
    await using _ = db;
    const generations: number[] = [];
    db.on("reload", (e) => generations.push(e.generation));
    const applied = nextEvent(db, "reload");
    writeFileSync(configPath, unmapped);
    await applied;
    writeFileSync(configPath, unmapped); // same bytes again
    // longer than the debounce, chokidar's throttle echo and two safety polls
    await Bun.sleep(400);
    expect(generations).toEqual([2]);
  });

  test("a reload by hand is not repeated by the watcher, and a save right after it still lands", async () => {
    await using dir = tempDir();
    const { db, configPath } = await setup(dir);
    await using _ = db;
    const generations: number[] = [];
    db.on("reload", (e) => generations.push(e.generation));
    writeFileSync(configPath, unmapped);
    expect(await db.reload()).toBe(2);
    // longer than the debounce, chokidar's throttle echo and two safety polls: the events of
    // that write bring the text already loaded
    await Bun.sleep(400);
    expect(generations).toEqual([2]);
    // a save back to the text the watcher last read, right after a reload by hand of another
    writeFileSync(configPath, mapped);
    expect(await db.reload()).toBe(3);
    saveAtomic(configPath, unmapped);
    await waitFor("routing to primary", () => db.explain({ chatId: CHAT }).source === "primary");
    expect(generations).toEqual([2, 3, 4]);
  });
});
