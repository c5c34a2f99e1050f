/**
 * `chatdb archive` never harms a file it does not own: refusals leave every file byte-identical
 * and create none; many chats move in one crash-safe run.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadConfig } from "../../src/config/load.ts";
import { seedDatabase, tempDir, writeConfig } from "../helpers.ts";
import { chatdb, chatRows, seedChat } from "./cli-helpers.ts";
import { CLI } from "./sidecar-helpers.ts";

const TOML = `[database]
default_source = "primary"

[database.sources.primary]
path = "primary.db"

[database.sources.archive]
path = "archive.db"
readonly = true
immutable = true

[database.sources.cold]
path = "cold.db"

[database.sources.external]
path = "external.db"
readonly = true

[database.chat_mapping]
-300 = "external"
`;

const OLD = new Date("2020-03-01T10:00:00Z");
const MINE = -100;
const THEIRS = -300; // lives in another bot's live database
/** Timestamps of raw rows: from gromozeka's 013 on, created_at/updated_at have no default. */
const AT = "2020-01-01T00:00:00+00:00";

type Dir = ReturnType<typeof tempDir>;

/** primary with MINE, external (another bot's, live readonly) with THEIRS; no archive yet. */
async function fixture(dir: Dir) {
  await seedDatabase(dir.file("primary.db"), (db) => seedChat(db, MINE, 10));
  await seedDatabase(dir.file("external.db"), (db) => seedChat(db, THEIRS, 4));
  return writeConfig(dir.path, TOML);
}

/** Every file of the folder with its SHA-256: a refusal must leave this identical. */
function snapshot(dir: Dir): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir.path).sort()) {
    out[name] = createHash("sha256")
      .update(readFileSync(dir.file(name)))
      .digest("hex");
  }
  return out;
}

const archive = (config: string, ...args: string[]) => chatdb(["archive", config, ...args]);

describe("archive refuses targets this bot does not own", () => {
  test("--to a live readonly source: exit 1 before anything is opened; every file identical, no -wal/-shm", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const before = snapshot(dir);
    const r = archive(config, "--chat", String(MINE), "--to", "external", "--delete");
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      "error READONLY_SOURCE: archive: --to external is a readonly live source",
    );
    expect(r.err).toContain("immutable = true");
    expect(snapshot(dir)).toEqual(before); // external.db's SHA-256, bot.toml, no new file
    expect(readdirSync(dir.path).some((n) => n.endsWith("-wal") || n.endsWith("-shm"))).toBe(false);
  });

  test("a target another process writes (a lock, or a -wal with content) is refused", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    await seedDatabase(dir.file("cold.db"));
    // another process's write transaction: a rollback-journal lock
    const other = new Database(dir.file("cold.db"));
    try {
      other.run("PRAGMA journal_mode = DELETE");
      other.run("BEGIN IMMEDIATE");
      const locked = archive(config, "--chat", String(MINE), "--to", "cold");
      expect(locked.code).toBe(1);
      expect(locked.err).toContain("error SOURCE_UNAVAILABLE: archive: --to cold:");
      expect(locked.err).toContain("another process is writing it");
      other.run("ROLLBACK");
      // a WAL writer that keeps the file open: -wal holds its commits
      other.run("PRAGMA journal_mode = WAL");
      other.run(
        "INSERT INTO settings (key, value, created_at, updated_at) VALUES ('x', 'y', ?1, ?1)",
        [AT],
      );
      const before = snapshot(dir);
      const wal = archive(config, "--chat", String(MINE), "--to", "cold");
      expect(wal.code).toBe(1);
      expect(wal.err).toMatch(/cold\.db-wal holds \d+ bytes, so another process has the file open/);
      expect(snapshot(dir)).toEqual(before);
    } finally {
      other.close();
    }
    expect(readFileSync(config, "utf8")).toBe(TOML);
  });

  test("a target with another program's schema, or no database at all, is never migrated", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const foreign = new Database(dir.file("cold.db"));
    foreign.run("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)");
    foreign.run("INSERT INTO invoices (total) VALUES (9.5)");
    foreign.close();
    const before = snapshot(dir);
    const r = archive(config, "--chat", String(MINE), "--to", "cold");
    expect(r.code).toBe(1);
    expect(r.err).toContain("error SCHEMA_MISMATCH: archive: --to cold:");
    expect(r.err).toContain("has no chatdb schema");
    expect(snapshot(dir)).toEqual(before);

    writeFileSync(dir.file("cold.db"), "not a database, someone's notes\n");
    const notes = snapshot(dir);
    const r2 = archive(config, "--chat", String(MINE), "--to", "cold");
    expect(r2.code).toBe(1);
    expect(r2.err).toContain("is not a SQLite database");
    expect(snapshot(dir)).toEqual(notes);
  });

  test("a new (absent) writable target is created with chatdb's schema", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const r = archive(config, "--chat", String(MINE), "--to", "cold");
    expect(r.code).toBe(0);
    expect(chatRows(dir.file("cold.db"), MINE)).toBe(chatRows(dir.file("primary.db"), MINE));
  });
});

describe("archive needs --force for a chat with no rows or one read from a live readonly source", () => {
  test("a chat with no rows in --from: exit 1 and nothing changes; --force maps it", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const before = snapshot(dir);
    const r = archive(config, "--chat", "-1009", "--to", "archive");
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      "error INVALID_ARGUMENT: archive: chat -1009 has no rows in primary: nothing to archive (a mistyped id?)",
    );
    expect(snapshot(dir)).toEqual(before);
    const forced = archive(config, "--chat", "-1009", "--to", "archive", "--force");
    expect(forced.code).toBe(0);
    expect(loadConfig(config).chatMapping.get(-1009)).toBe("archive");
  });

  test("moving a chat off a live readonly source: exit 1 saying what would no longer be seen; --force copies without touching it", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const before = snapshot(dir);
    const r = archive(config, "--chat", String(THEIRS), "--to", "archive");
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `error INVALID_ARGUMENT: archive: chat ${THEIRS} routes to external, a readonly live source`,
    );
    expect(r.err).toContain("will no longer be seen. Pass --force");
    expect(snapshot(dir)).toEqual(before);

    const rows = chatRows(dir.file("external.db"), THEIRS);
    const forced = archive(config, "--chat", String(THEIRS), "--to", "archive", "--force");
    expect(forced.code).toBe(0);
    expect(chatRows(dir.file("archive.db"), THEIRS)).toBe(rows);
    expect(loadConfig(config).chatMapping.get(THEIRS)).toBe("archive");
    expect(snapshot(dir)["external.db"]).toBe(before["external.db"] as string);
  });

  test("--delete --vacuum gives the freed pages back; without --vacuum the reclaimable size is printed", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("primary.db"), async (db) => {
      await seedChat(db, MINE, 2000);
      await seedChat(db, -101, 2000);
    });
    const config = writeConfig(dir.path, TOML);
    const hint = archive(config, "--chat", String(MINE), "--to", "cold", "--delete");
    expect(hint.code).toBe(0);
    const free = Number(/primary: (\d+) bytes \(/.exec(hint.out)?.[1]);
    expect(free).toBeGreaterThan(0);
    expect(hint.out).toContain("give them back with --vacuum");
    const vac = archive(config, "--chat", "-101", "--to", "cold", "--delete", "--vacuum");
    expect(vac.code).toBe(0);
    expect(vac.out).toContain("vacuumed primary: 0 bytes still free");
  });
});

const scriptBin = Bun.which("script"); // util-linux: runs a command on a pseudo-terminal

describe.skipIf(scriptBin === null)("archive progress on a terminal", () => {
  test("one bar over rows: it moves batch by batch through copy and delete, up to 100 %", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("primary.db"), (db) => seedChat(db, MINE, 1));
    const db = new Database(dir.file("primary.db"));
    const insert = db.prepare(
      "INSERT INTO chat_messages (chat_id, message_id, date, user_id, message_text, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?3)",
    );
    db.transaction(() => {
      for (let i = 1; i < 30_000; i++) insert.run(MINE, `x${i}`, AT, 7, "m");
    })();
    insert.finalize();
    db.close();
    const config = writeConfig(dir.path, TOML);
    const command = [
      process.execPath,
      CLI,
      "archive",
      config,
      "--chat",
      String(MINE),
      "--to",
      "cold",
      "--delete",
    ]
      .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
      .join(" ");
    const r = Bun.spawnSync([scriptBin as string, "-qec", command, "/dev/null"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = r.stdout.toString();
    expect(r.exitCode).toBe(0);
    const percents = [...out.matchAll(/\] +(\d+)% (copy|delete) rows/g)].map((m) => Number(m[1]));
    expect(percents.length).toBeGreaterThanOrEqual(10); // 60k rows copied + deleted in 5k batches
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(out).toContain(`deleted 30007 rows of chat ${MINE} from primary`);
    expect(out).toContain("100% delete rows 60014/60014");
  }, 30_000);
});

describe("archive --inactive-days", () => {
  test("20 chats: exactly the inactive ones move and map, the readonly one is skipped, a killed run reruns, no row lost", async () => {
    await using dir = tempDir();
    const inactive = Array.from({ length: 12 }, (_, i) => -2000 - i);
    const active = Array.from({ length: 7 }, (_, i) => -3000 - i);
    await seedDatabase(dir.file("primary.db"), async (db) => {
      for (const id of inactive) await seedChat(db, id, 5 + (id % 7) * -3, OLD);
      for (const id of active) await seedChat(db, id, 6);
    });
    await seedDatabase(dir.file("external.db"), (db) => seedChat(db, THEIRS, 4, OLD));
    const config = writeConfig(dir.path, TOML);
    const all = [...inactive, ...active];
    const rowsBefore = new Map(all.map((id) => [id, chatRows(dir.file("primary.db"), id)]));
    const external = snapshot(dir)["external.db"];
    const args = ["--inactive-days", "30", "--to", "archive", "--delete"];

    // Killed after the 5th chat's copy: the archive is built aside, so nothing changed.
    const original = readFileSync(config, "utf8");
    const killed = chatdb(["archive", config, ...args], {
      CHATDB_ARCHIVE_KILL_AT: "chat-copied:5",
    });
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.out).toContain("copied"); // it was mid-run: chats had been copied
    expect(readFileSync(config, "utf8")).toBe(original);
    for (const id of all)
      expect(chatRows(dir.file("primary.db"), id)).toBe(rowsBefore.get(id) as number);

    // Killed in the 3rd chat's delete: mapped, two chats deleted, the third rolled back.
    const midDelete = chatdb(["archive", config, ...args], {
      CHATDB_ARCHIVE_KILL_AT: "mid-delete:3",
    });
    expect(midDelete.signal).toBe("SIGKILL");
    const mapped = loadConfig(config).chatMapping;
    for (const id of inactive) expect(mapped.get(id)).toBe("archive");
    for (const id of inactive) {
      const left = chatRows(dir.file("primary.db"), id);
      expect([0, rowsBefore.get(id)]).toContain(left);
      expect(chatRows(dir.file("archive.db"), id)).toBe(rowsBefore.get(id) as number);
    }

    // The rerun finishes the rest.
    const done = chatdb(["archive", config, ...args]);
    expect(done.code).toBe(0);
    expect(done.err).toBe(""); // no progress lines when not a terminal
    expect(done.out).toContain(
      `chat ${THEIRS}: skipped: it routes to external, a readonly live source`,
    );
    expect(done.out).toContain("bytes (");
    const final = loadConfig(config).chatMapping;
    expect(
      [...final.entries()]
        .filter(([, s]) => s === "archive")
        .map(([id]) => id)
        .sort(),
    ).toEqual([...inactive].sort());
    expect(final.get(THEIRS)).toBe("external");
    for (const id of inactive) {
      expect(chatRows(dir.file("primary.db"), id)).toBe(0);
      expect(chatRows(dir.file("archive.db"), id)).toBe(rowsBefore.get(id) as number);
    }
    for (const id of active) {
      expect(chatRows(dir.file("primary.db"), id)).toBe(rowsBefore.get(id) as number);
      expect(chatRows(dir.file("archive.db"), id)).toBe(0);
    }
    expect(snapshot(dir)["external.db"]).toBe(external as string);
    expect(readdirSync(dir.path).filter((n) => n.includes(".tmp-"))).toEqual([]);

    // Nothing left to do: a fourth run changes nothing.
    const again = chatdb(["archive", config, ...args]);
    expect(again.code).toBe(0);
    expect(again.out).toContain("nothing to archive");
  }, 30_000);

  test("usage: --chat or --inactive-days (one of them), --vacuum only with --delete", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const before = snapshot(dir);
    expect(archive(config, "--chat", "1", "--inactive-days", "3", "--to", "cold").code).toBe(2);
    expect(archive(config, "--inactive-days", "x", "--to", "cold").code).toBe(2);
    expect(archive(config, "--chat", "1", "--to", "cold", "--vacuum").code).toBe(2);
    expect(snapshot(dir)).toEqual(before);
  });

  test("a list of chats moves in one run with one config edit", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("primary.db"), async (db) => {
      for (const id of [-11, -12, -13]) await seedChat(db, id, 3);
    });
    const config = writeConfig(dir.path, TOML);
    const r = archive(config, "--chat", "-11,-12", "--chat", "-13", "--to", "cold");
    expect(r.code).toBe(0);
    expect(r.out).toContain("mapped 3 chats to cold");
    expect(readFileSync(config, "utf8")).toBe(`${TOML}-11 = "cold"\n-12 = "cold"\n-13 = "cold"\n`);
  });
});
