import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import {
  DatabaseWrapper,
  parseConfig,
  type ResolvedConfig,
  type SqliteSourceConfig,
} from "../src/index.ts";
import { SqliteSource } from "../src/sources/sqlite-source.ts";
import { CHATS, expectCode, multiSourceToml, seedDatabase, tempDir } from "./helpers.ts";

/** The multi-source config in `dir`, the archive immutable or not. */
const multi = (dir: string, archiveImmutable = false): ResolvedConfig =>
  parseConfig(multiSourceToml({ archiveImmutable }), { baseDir: dir });

/** One pragma's value on a source's own connection. */
const pragma = (source: SqliteSource, name: string): unknown =>
  Object.values(source._connection().query(`PRAGMA ${name}`).get() as object)[0];

const openFds = () => readdirSync("/proc/self/fd").length;

describe("readonly and immutable sources", () => {
  for (const immutable of [false, true]) {
    const mode = immutable ? "immutable" : "readonly";
    const a = immutable ? "an" : "a";

    test(`${a} ${mode} source never creates a missing file and recovers when it appears`, async () => {
      await using dir = tempDir();
      await seedDatabase(dir.file("external.db"));
      const config = multi(dir.path, immutable);
      await using db = new DatabaseWrapper({ config });
      const archive = db.health().sources.find((s) => s.name === "archive");
      expect(archive).toMatchObject({ mode, state: "unavailable", schemaVersion: null });
      expect(archive?.reason).toContain("does not exist");

      const e = await expectCode(db.getChatUser(CHATS.archived, 1), "SOURCE_UNAVAILABLE");
      expect(e.source).toBe("archive");
      await expectCode(db.getChatInfo(1, { dataSource: "archive" }), "SOURCE_UNAVAILABLE");
      expect(existsSync(dir.file("archive.db"))).toBe(false);
      // the others are unaffected
      expect(db.health().sources.find((s) => s.name === "primary")?.state).toBe("ok");
      expect(await db.getChatUser(CHATS.primary, 1)).toBeNull();

      await seedDatabase(dir.file("archive.db"), (w) =>
        w.updateChatUser(CHATS.archived, 1, "@back", "Back"),
      );
      expect((await db.getChatUser(CHATS.archived, 1))?.username).toBe("@back");
      expect(db.health().sources.find((s) => s.name === "archive")).toMatchObject({
        state: "ok",
        schemaVersion: 18,
      });
    });

    test(`${a} ${mode} source opens an existing file without changing it`, async () => {
      await using dir = tempDir();
      await seedDatabase(dir.file("archive.db"), (w) => w.setChatSetting(CHATS.archived, "k", "v"));
      await seedDatabase(dir.file("external.db"));
      const before = readFileSync(dir.file("archive.db"));
      {
        await using db = new DatabaseWrapper({ config: multi(dir.path, immutable) });
        expect(await db.getChatSetting(CHATS.archived, "k")).toBe("v");
        expect(db.health().sources.find((s) => s.name === "archive")?.schemaVersion).toBe(18);
      }
      expect(readFileSync(dir.file("archive.db")).equals(before)).toBe(true);
    });

    test(`${a} ${mode} source over a non-database file is unavailable, not fatal`, async () => {
      await using dir = tempDir();
      writeFileSync(dir.file("archive.db"), "this is not a database, just some bytes".repeat(200));
      await seedDatabase(dir.file("external.db"));
      await using db = new DatabaseWrapper({ config: multi(dir.path, immutable) });
      expect(db.health().sources.find((s) => s.name === "archive")?.state).toBe("unavailable");
      await expectCode(db.getChatUser(CHATS.archived, 1), "SOURCE_UNAVAILABLE");
    });
  }

  test("readonly connections have query_only on and never wait inside SQLite (busy_timeout 0)", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("ro.db"));
    const config = parseConfig(
      `[database.sources.ro]\npath = "ro.db"\nreadonly = true\ntimeout = 1.5\n`,
      { baseDir: dir.path },
    );
    const source = new SqliteSource(config.sources[0] as SqliteSourceConfig);
    try {
      expect(pragma(source, "query_only")).toBe(1);
      expect(pragma(source, "busy_timeout")).toBe(0);
    } finally {
      await source.close();
    }
  });
});

describe("read-write sources", () => {
  test("open in WAL mode, migrated, writable, never waiting inside SQLite (busy_timeout 0)", async () => {
    await using dir = tempDir();
    const config = parseConfig(`[database.sources.rw]\npath = "sub/dir/rw.db"\ntimeout = 2.5\n`, {
      baseDir: dir.path,
    });
    const source = new SqliteSource(config.sources[0] as SqliteSourceConfig);
    try {
      expect(existsSync(dir.file("sub/dir/rw.db"))).toBe(true);
      expect(pragma(source, "journal_mode")).toBe("wal");
      expect(pragma(source, "busy_timeout")).toBe(0);
      expect(pragma(source, "query_only")).toBe(0);
      expect(source.health()).toMatchObject({ state: "ok", mode: "read-write", schemaVersion: 18 });
    } finally {
      await source.close();
    }
  });

  test("four processes opening one fresh file at once all open it (they wait, not fail)", async () => {
    await using dir = tempDir();
    const path = dir.file("shared.db");
    const script = `const { DatabaseWrapper } = await import(${JSON.stringify(`${import.meta.dir}/../src/index.ts`)});
      const db = new DatabaseWrapper(${JSON.stringify(path)});
      await db.setSetting("p" + process.pid, "1");
      await db.close();`;
    const procs = [1, 2, 3, 4].map(() =>
      Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "pipe" }),
    );
    const codes = await Promise.all(procs.map((p) => p.exited));
    const errors = await Promise.all(procs.map((p) => new Response(p.stderr).text()));
    expect([codes, errors.filter(Boolean)]).toEqual([[0, 0, 0, 0], []]);
    await using db = new DatabaseWrapper(path);
    const keys = Object.keys(await db.getSettings()).filter((k) => k.startsWith("p"));
    expect(keys).toHaveLength(4);
  });

  test("a :memory: source works without a file", async () => {
    await using db = new DatabaseWrapper(":memory:");
    expect(await db.setSetting("k", "v")).toBe(true);
    expect(await db.getSetting("k")).toBe("v");
  });
});

describe("closing", () => {
  test("finalizes statements and closes files: 200 open/close cycles leak no descriptors", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("archive.db"), (w) => w.setChatSetting(CHATS.archived, "k", "v"));
    await seedDatabase(dir.file("external.db"));
    const config = multi(dir.path);
    const cycle = async () => {
      const db = new DatabaseWrapper({ config });
      // prepared statements on every source, including a failing one
      await db.setChatSetting(CHATS.primary, "k", "v");
      await db.getChatSetting(CHATS.primary, "k");
      await db.getChatSetting(CHATS.archived, "k");
      await db.getChatSettings(CHATS.primary, { dataSource: "external" });
      await db.getAllGroupChats();
      await db.saveChatMessage({ date: new Date(), chatId: 1, userId: 1, messageId: 1 });
      await db.close();
    };
    await cycle();
    const before = openFds();
    for (let i = 0; i < 200; i++) await cycle();
    // bun itself may open a descriptor or two meanwhile; a leak would be ≥ 200
    expect(openFds() - before).toBeLessThan(5);
  });

  test("a closed source rejects CLOSED instead of reopening", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("ro.db"));
    const config = parseConfig(`[database.sources.ro]\npath = "ro.db"\nreadonly = true\n`, {
      baseDir: dir.path,
    });
    const source = new SqliteSource(config.sources[0] as SqliteSourceConfig);
    await source.close();
    await expectCode(() => source._connection(), "CLOSED");
  });
});
