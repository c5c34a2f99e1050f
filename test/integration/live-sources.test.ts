import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseWrapper } from "../../src/index.ts";
import {
  CHATS,
  expectCode,
  nextEvent,
  seedDatabase,
  tempDir,
  waitFor,
  writeConfig,
} from "../helpers.ts";
import { AS_ROOT, asUser, noteOtherUserSkip, otherUserSpawn, otherUserTree } from "./other-user.ts";

noteOtherUserSkip("live-sources.test.ts");

const BUN = process.execPath;
const WRITER = join(import.meta.dir, "fixtures", "writer.ts");
const OTHER_CHAT = 555;

/** Runs the writer process against `path`; resolves its "done" line. */
function startWriter(path: string, journal: "wal" | "delete", ms: number) {
  const proc = Bun.spawn([BUN, WRITER, path, journal, String(OTHER_CHAT), String(ms)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const output = new Response(proc.stdout).text();
  return {
    proc,
    done: output.then((text) => {
      const m = /done (\d+) (\d+)/.exec(text);
      if (!m) throw new Error(`writer printed no result: ${text}`);
      return { last: Number(m[1]), errors: Number(m[2]) };
    }),
  };
}

describe("a live external database written by another process", () => {
  for (const journal of ["wal", "delete"] as const) {
    test(`every read is consistent and new commits are seen without reopening (${journal})`, async () => {
      await using dir = tempDir();
      const external = dir.file("other.db");
      await seedDatabase(external, (db) =>
        db.setChatSetting(OTHER_CHAT, "a", "0").then(() => db.setChatSetting(OTHER_CHAT, "b", "0")),
      );
      // the other bot's journal mode is its own choice, made before we ever open the file
      const raw = new Database(external);
      raw.run(`PRAGMA journal_mode = ${journal === "wal" ? "WAL" : "DELETE"}`);
      raw.close();
      const configPath = writeConfig(
        dir.path,
        `[database]\ndefault_source = "primary"\n[database.sources.primary]\npath = "bot.db"\n[database.sources.other]\npath = "other.db"\nreadonly = true\ntimeout = 5\n[database.chat_mapping]\n${OTHER_CHAT} = "other"\n`,
      );
      await using db = new DatabaseWrapper({ configPath });
      let reopened = 0;
      db.on("sourceReopened", () => reopened++);

      const writer = startWriter(external, journal, 1500);
      let reads = 0;
      let torn = 0;
      let lastSeen = 0;
      let finished = false;
      const result = writer.done.finally(() => {
        finished = true;
      });
      while (!finished) {
        const s = await db.getChatSettings(OTHER_CHAT);
        reads++;
        if (s.a !== s.b) torn++;
        const v = Number(s.a);
        expect(v).toBeGreaterThanOrEqual(lastSeen); // never goes back in time
        lastSeen = v;
        if (reads % 20 === 0) await Bun.sleep(1);
      }
      const { last, errors } = await result;
      // after the writer's last commit, the very next read sees it
      const final = await db.getChatSettings(OTHER_CHAT);
      expect(final).toMatchObject({ a: String(last), b: String(last) });
      expect(torn).toBe(0);
      expect(errors).toBe(0);
      expect(reads).toBeGreaterThan(50);
      expect(lastSeen).toBeGreaterThan(0);
      expect(reopened).toBe(0);
      expect(db.health().sources.find((s) => s.name === "other")?.state).toBe("ok");
    });
  }
});

describe("an immutable archive replaced, deleted and restored", () => {
  test("is reopened on rename, unavailable while missing, served again when back; others keep answering", async () => {
    await using dir = tempDir();
    const archive = dir.file("archive.db");
    await seedDatabase(archive, (db) => db.updateChatUser(CHATS.archived, 1, "@v1", "Version 1"));
    const configPath = writeConfig(
      dir.path,
      `[database]\ndefault_source = "primary"\n[database.sources.primary]\npath = "bot.db"\n[database.sources.archive]\npath = "archive.db"\nreadonly = true\nimmutable = true\n[database.chat_mapping]\n${CHATS.archived} = "archive"\n`,
    );
    await using db = new DatabaseWrapper({ configPath, pollMs: 200, debounceMs: 10 });
    await db.watch();
    await db.updateChatUser(CHATS.primary, 1, "@p", "Primary");
    expect((await db.getChatUser(CHATS.archived, 1))?.username).toBe("@v1");

    // publish a new version the way the sidecar does: write a temp file, rename it over
    const next = dir.file(".archive.tmp");
    await seedDatabase(next, (d) => d.updateChatUser(CHATS.archived, 1, "@v2", "Version 2"));
    const reopened = nextEvent<{ source: string; reason: string }>(db, "sourceReopened");
    renameSync(next, archive);
    expect(await reopened).toMatchObject({ source: "archive", reason: "file replaced" });
    expect((await db.getChatUser(CHATS.archived, 1))?.username).toBe("@v2");

    // deleted → SOURCE_UNAVAILABLE, the primary still answers
    const failed = nextEvent<{ source: string; error: { code: string } }>(db, "sourceError");
    rmSync(archive);
    expect((await failed).error.code).toBe("SOURCE_UNAVAILABLE");
    await expectCode(db.getChatUser(CHATS.archived, 1), "SOURCE_UNAVAILABLE");
    expect(db.health().sources.find((s) => s.name === "archive")?.state).toBe("unavailable");
    expect((await db.getChatUser(CHATS.primary, 1))?.username).toBe("@p");

    // restored → served again
    const back = nextEvent<{ source: string; reason: string }>(db, "sourceReopened");
    await seedDatabase(next, (d) => d.updateChatUser(CHATS.archived, 1, "@v3", "Version 3"));
    renameSync(next, archive);
    await back;
    expect((await db.getChatUser(CHATS.archived, 1))?.username).toBe("@v3");
    expect(db.health().sources.find((s) => s.name === "archive")?.state).toBe("ok");
  });

  test("a missing readonly file is never created and is opened when it appears", async () => {
    await using dir = tempDir();
    const configPath = writeConfig(
      dir.path,
      `[database]\ndefault_source = "primary"\n[database.sources.primary]\npath = "bot.db"\n[database.sources.late]\npath = "late.db"\nreadonly = true\n`,
    );
    await using db = new DatabaseWrapper({ configPath, pollMs: 100, debounceMs: 10 });
    await db.watch();
    await expectCode(db.getChatUser(1, 1, { dataSource: "late" }), "SOURCE_UNAVAILABLE");
    expect(readdirSync(dir.path).filter((f) => f.startsWith("late"))).toEqual([]);
    await seedDatabase(dir.file("late.tmp"), (d) => d.updateChatUser(1, 1, "@late", "Late"));
    renameSync(dir.file("late.tmp"), dir.file("late.db"));
    await waitFor(
      "late source to open",
      () => db.health().sources.find((s) => s.name === "late")?.state === "ok",
    );
    expect((await db.getChatUser(1, 1, { dataSource: "late" }))?.username).toBe("@late");
  });

  test("a corrupt read reopens once and serves the replaced file", async () => {
    await using dir = tempDir();
    const archive = dir.file("archive.db");
    await seedDatabase(archive, (db) => db.updateChatUser(CHATS.archived, 1, "@v1", "V1"));
    const configPath = writeConfig(
      dir.path,
      `[database]\ndefault_source = "primary"\n[database.sources.primary]\npath = "bot.db"\n[database.sources.archive]\npath = "archive.db"\nreadonly = true\n[database.chat_mapping]\n${CHATS.archived} = "archive"\n`,
    );
    await using db = new DatabaseWrapper({ configPath, watchSources: false });
    expect((await db.getChatUser(CHATS.archived, 1))?.username).toBe("@v1");
    // overwrite the file in place with garbage: the open connection now reads a corrupt file
    writeFileSync(archive, Buffer.alloc(8192, 0x5a));
    const e = await expectCode(db.getChatUser(CHATS.archived, 2), "SOURCE_UNAVAILABLE");
    expect(e.source).toBe("archive");
    expect(await db.getChatUser(CHATS.primary, 1)).toBeNull();
    await seedDatabase(dir.file("new.db"), (d) => d.updateChatUser(CHATS.archived, 1, "@v2", "V2"));
    renameSync(dir.file("new.db"), archive);
    expect((await db.getChatUser(CHATS.archived, 1))?.username).toBe("@v2");
  });
});

describe("reopen hygiene", () => {
  test("after 1,000 reopen cycles the open file descriptors are back where they started", async () => {
    await using dir = tempDir();
    const archive = dir.file("archive.db");
    await seedDatabase(archive, (db) => db.updateChatUser(CHATS.archived, 1, "@v", "V"));
    const configPath = writeConfig(
      dir.path,
      `[database]\ndefault_source = "primary"\n[database.sources.primary]\npath = "bot.db"\n[database.sources.archive]\npath = "archive.db"\nreadonly = true\nimmutable = true\n[database.chat_mapping]\n${CHATS.archived} = "archive"\n`,
    );
    await using db = new DatabaseWrapper({ configPath, watchSources: false });
    const fds = () => readdirSync("/proc/self/fd").length;
    // warm up: prepare the statements once so the baseline includes steady-state fds
    await db.getChatUser(CHATS.archived, 1);
    const before = fds();
    const copy = dir.file("copy.db");
    for (let i = 0; i < 1000; i++) {
      // replace the file (new inode) and let the source notice it, as the watcher would
      writeFileSync(copy, await Bun.file(archive).bytes());
      renameSync(copy, archive);
      (db as unknown as { gen: { sources: Map<string, { check(): string }> } }).gen.sources
        .get("archive")
        ?.check();
      expect((await db.getChatUser(CHATS.archived, 1))?.username).toBe("@v");
      await db.getUserChats(1);
    }
    expect(fds()).toBe(before);
  });
});

describe("the permission hazard of reading another user's WAL database", () => {
  test.skipIf(!AS_ROOT)(
    "is refused with an error pointing to the sidecar, creating no files",
    async () => {
      await using dir = tempDir();
      const path = dir.file("owner.db");
      const owner = new Database(path, { create: true, readwrite: true });
      owner.run("PRAGMA journal_mode = WAL");
      owner.run("CREATE TABLE t (x)");
      owner.close(); // removes -wal and -shm: the state in which a foreign reader would create them
      Bun.spawnSync(["chown", "-R", "nobody:nogroup", dir.path]);
      Bun.spawnSync(["chmod", "777", dir.path]);
      const script = dir.file("reader.ts");
      writeFileSync(
        script,
        `import { DatabaseWrapper } from ${JSON.stringify(join(otherUserTree().src, "index.ts"))};
       const db = new DatabaseWrapper({ config: (await import(${JSON.stringify(join(otherUserTree().src, "config", "load.ts"))})).parseConfig('[database]\\ndefault_source = "own"\\n[database.sources.own]\\npath = ":memory:"\\n[database.sources.other]\\npath = ${JSON.stringify(path)}\\nreadonly = true\\n', { baseDir: "/" }), watchSources: false });
       try { await db.getChatUser(1, 1, { dataSource: "other" }); console.log("OPENED"); }
       catch (e) { console.log(e.code + " " + e.message); }
       await db.close();`,
      );
      Bun.spawnSync(["chmod", "644", script]);
      const run = Bun.spawnSync(asUser("daemon", script), otherUserSpawn());
      const out = run.stdout.toString();
      expect(out).toStartWith("SOURCE_UNAVAILABLE");
      expect(out).toContain("sidecar");
      expect(readdirSync(dir.path).sort()).toEqual(["owner.db", "reader.ts"]);
    },
  );
});
