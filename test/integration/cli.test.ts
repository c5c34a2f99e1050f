import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { DatabaseWrapper } from "../../src/index.ts";
import { seedDatabase, tempDir, writeConfig } from "../helpers.ts";
import { closePgAdmin, pgSchema, runPg } from "../pg.ts";
import { chatdb, chatRows, seedChat } from "./cli-helpers.ts";

const TOML = `# bot config — keep this comment
[database]
default_source = "primary"   # where new chats go

[database.sources.primary]
path = "primary.db"

[database.sources.archive]
path = "archive.db"   # written only by chatdb archive
readonly = true
immutable = true

[database.sources.external]
path = "external.db"
readonly = true

[database.chat_mapping]
# chats moved by hand
-1001000000001 = "archive"   # 2023 chat

[sync.external]
from = "external.db"
to = "snap/external.db"
interval = 0.5
`;

const ARCHIVED = -1001000000001;
const MOVED = -1001000000042;
const STAYS = -1001000000043;

/** A folder with the three sources seeded: primary (writable), archive and external (readonly). */
async function fixture(dir: { path: string; file: (n: string) => string }) {
  await seedDatabase(dir.file("primary.db"), async (db) => {
    await seedChat(db, MOVED, 40);
    await seedChat(db, STAYS, 5);
  });
  await seedDatabase(dir.file("archive.db"), (db) => seedChat(db, ARCHIVED, 3));
  await seedDatabase(dir.file("external.db"));
  return writeConfig(dir.path, TOML);
}

describe("chatdb check / status / explain", () => {
  test("check lists every source with mode, schema version and row counts, and exits 0", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const r = chatdb(["check", config]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/primary\s+read-write\s+ok\s+yes\s+18\s+45/);
    expect(r.out).toMatch(/archive\s+immutable\s+ok\s+yes\s+18\s+3/);
    const j = chatdb(["check", config, "--json"]).json();
    expect(j.ok).toBe(true);
    expect(j.sources.map((s: { name: string }) => s.name)).toEqual([
      "primary",
      "archive",
      "external",
    ]);
    expect(j.sources[0].counts.chat_messages).toBe(45);
    expect(j.sources[1].schemaVersion).toBe(18);
  });

  test("check exits 1 with the typed error for an invalid config, in text and JSON", async () => {
    await using dir = tempDir();
    const config = writeConfig(dir.path, `[database.sources.a]\npath = "a.db"\nreadonlyy = true\n`);
    const r = chatdb(["check", config]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error CONFIG_INVALID:");
    expect(r.err).toContain("readonlyy: unknown key (did you mean readonly?)");
    const j = chatdb(["check", config, "--json"]);
    expect(j.code).toBe(1);
    expect(j.json().error.code).toBe("CONFIG_INVALID");
    const broken = writeConfig(dir.path, `[database\n`, "broken.toml");
    expect(chatdb(["check", broken, "--json"]).json().error.code).toBe("CONFIG_PARSE");
  });

  test("check and status exit 1 when a readonly source's file is missing", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const { rmSync } = await import("node:fs");
    rmSync(dir.file("external.db"));
    const r = chatdb(["check", config]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("external: SOURCE_UNAVAILABLE: file");
    const s = chatdb(["status", config, "--json"]);
    expect(s.code).toBe(1);
    const ext = s.json().sources.find((x: { name: string }) => x.name === "external");
    expect(ext.state).toBe("unavailable");
    expect(existsSync(dir.file("external.db"))).toBe(false); // inspection never creates files
  });

  test("check on a FIFO at a source path exits 1 at once, naming it (no blocking header read)", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const { rmSync } = await import("node:fs");
    rmSync(dir.file("external.db"));
    expect(Bun.spawnSync(["mkfifo", dir.file("external.db")]).exitCode).toBe(0);
    const r = chatdb(["check", config, "--json"]);
    expect(r.code).toBe(1);
    const ext = r.json().sources.find((x: { name: string }) => x.name === "external");
    expect(ext.problems).toEqual([expect.stringContaining("is a FIFO, not a regular file")]);
  });

  test("status reports health of each source and the sync snapshot", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const r = chatdb(["status", config]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/primary\s+read-write\s+ok\s+wal/);
    expect(r.out).toMatch(/external\s+missing/);
    const j = chatdb(["status", config, "--json"]).json();
    expect(j.ok).toBe(true);
    expect(j.sync[0].toExists).toBe(false);
  });

  test("explain says where a call goes and why; a refused write exits 1", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const mapped = chatdb(["explain", config, "--chat", String(ARCHIVED), "--json"]);
    expect(mapped.code).toBe(0);
    expect(mapped.json()).toMatchObject({
      ok: true,
      source: "archive",
      rule: "chatMapping",
      mode: "immutable",
    });
    const def = chatdb(["explain", config, "--chat", "-5"]);
    expect(def.code).toBe(0);
    expect(def.out).toContain("read for chat -5 → primary");
    expect(def.out).toContain("is not in chat_mapping");
    const write = chatdb(["explain", config, "--chat", String(ARCHIVED), "--write"]);
    expect(write.code).toBe(1);
    expect(write.out).toContain("refused: READONLY_SOURCE");
    const explicit = chatdb(["explain", config, "--source", "external", "--json"]).json();
    expect(explicit).toMatchObject({ source: "external", rule: "dataSource", mode: "readonly" });
    const unknown = chatdb(["explain", config, "--source", "nope", "--json"]);
    expect(unknown.code).toBe(1);
    expect(unknown.json().error.code).toBe("UNKNOWN_SOURCE");
  });

  test("usage errors exit 2", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    expect(chatdb([]).code).toBe(2);
    expect(chatdb(["frobnicate", config]).code).toBe(2);
    expect(chatdb(["check"]).code).toBe(2);
    expect(chatdb(["check", config, "--chat", "1"]).code).toBe(2);
    expect(chatdb(["explain", config, "--chat", "12abc"]).code).toBe(2);
    expect(chatdb(["explain", config, "--chat", "99999999999999999999"]).code).toBe(2);
    expect(chatdb(["archive", config, "--chat", "1"]).err).toContain("archive needs --to SOURCE");
    expect(chatdb(["--help"]).code).toBe(0);
  });
});

afterAll(closePgAdmin);

describe.skipIf(!runPg)("chatdb check / status on PostgreSQL sources", () => {
  const pgToml = (url: string) =>
    `[database.sources.pg]\ntype = "postgres"\nurl = "${url}"\ntimeout = 2\n`;

  test("a reachable schema is inspected (never migrated): state, schema version, row counts; exit 0", async () => {
    await using dir = tempDir();
    await using schema = await pgSchema();
    const config = writeConfig(dir.path, pgToml(schema.url));
    const fresh = chatdb(["check", config, "--json"]);
    expect(fresh.code).toBe(0);
    const [before] = fresh.json().sources;
    expect(before).toMatchObject({
      name: "pg",
      type: "postgres",
      state: "ok",
      schemaVersion: null,
    });
    expect(before.notes.join()).toContain("`chatdb migrate` (or the next open) upgrades it");
    // check opened it readonly: still no table in the schema
    const probe = chatdb(["status", config, "--json"]).json().sources[0];
    expect(probe.schemaVersion).toBeNull();

    {
      await using db = new DatabaseWrapper({ configPath: config });
      await seedChat(db, STAYS, 3);
    }
    const r = chatdb(["check", config]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/pg\s+read-write\s+ok\s+yes\s+18\s+3\s+1\s+1/);
    const s = chatdb(["status", config, "--json"]);
    expect(s.code).toBe(0);
    expect(s.json().sources[0]).toMatchObject({ state: "ok", reason: "", schemaVersion: 18 });
  });

  test("an unreachable server is unavailable with the reason, password redacted; exit 1", async () => {
    await using dir = tempDir();
    const config = writeConfig(dir.path, pgToml("postgres://postgres:s3cret@127.0.0.1:1/x"));
    for (const command of ["check", "status"]) {
      const r = chatdb([command, config]);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/pg\s+read-write\s+unavailable/);
      expect(r.out).toContain(
        "pg: SOURCE_UNAVAILABLE: source pg (postgres://postgres:***@127.0.0.1:1/x)",
      );
      expect(r.out + r.err).not.toContain("s3cret");
      const j = chatdb([command, config, "--json"]);
      expect(j.code).toBe(1);
      expect(j.json().ok).toBe(false);
      expect(j.json().sources[0]).toMatchObject({ state: "unavailable" });
      expect(j.json().sources[0].reason).toContain("SOURCE_UNAVAILABLE");
    }
  });
});

describe("chatdb migrate / sync", () => {
  test("migrate brings writable sources to the latest schema step by step, then is a no-op", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("ro.db"));
    const config = writeConfig(
      dir.path,
      `[database]\ndefault_source = "main"\n[database.sources.main]\npath = "data/main.db"\n[database.sources.ro]\npath = "ro.db"\nreadonly = true\n`,
    );
    const first = chatdb(["migrate", config]);
    expect(first.code).toBe(0);
    expect(first.out).toContain("main: applied 1 (initial schema)");
    expect(first.out).toContain("main: applied 7 (chat_messages.markup, chat_messages.metadata)");
    expect(first.out).toContain("main: applied 18 (message_embeddings (chat_id, model) index)");
    expect(first.out).toContain("main: version none → 18");
    expect(first.out).toContain("ro: skipped (readonly: never migrated)");
    const again = chatdb(["migrate", config]);
    expect(again.out).toContain("main: up to date (version 18)");
  });

  test("sync --once publishes each target once; a config without [sync] exits 1", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const r = chatdb(["sync", config, "--once"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("published external");
    expect(readdirSync(dir.file("snap"))).toEqual(["external.db"]);
    const none = writeConfig(dir.path, `[database.sources.a]\npath = "a.db"\n`, "none.toml");
    const n = chatdb(["sync", none]);
    expect(n.code).toBe(1);
    expect(n.err).toContain("error CONFIG_INVALID: sync: the config has no [sync.NAME] tables");
  });
});

describe("chatdb archive", () => {
  test("killed mid-copy, after mapping and mid-delete, reruns finish with no row lost and comments kept", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const original = readFileSync(config, "utf8");
    const before = chatRows(dir.file("primary.db"), MOVED);
    expect(before).toBeGreaterThan(40);
    const args = ["archive", config, "--chat", String(MOVED), "--to", "archive", "--delete"];

    // 1. Killed inside the copy transaction: nothing committed, nothing mapped.
    const midCopy = chatdb(args, { CHATDB_ARCHIVE_KILL_AT: "mid-copy" });
    expect(midCopy.signal).toBe("SIGKILL");
    expect(readFileSync(config, "utf8")).toBe(original);
    expect(chatRows(dir.file("archive.db"), MOVED)).toBe(0);
    expect(chatRows(dir.file("primary.db"), MOVED)).toBe(before);

    // 2. Killed after mapping, before deleting: rows in both, chat routes to the full archive.
    const mapped = chatdb(args, { CHATDB_ARCHIVE_KILL_AT: "mapped" });
    expect(mapped.signal).toBe("SIGKILL");
    expect(chatRows(dir.file("archive.db"), MOVED)).toBe(before);
    expect(chatRows(dir.file("primary.db"), MOVED)).toBe(before);
    const edited = readFileSync(config, "utf8");
    expect(edited).toBe(
      original.replace(
        '-1001000000001 = "archive"   # 2023 chat\n',
        `-1001000000001 = "archive"   # 2023 chat\n${MOVED} = "archive"\n`,
      ),
    );

    // 3. Killed inside the delete transaction: rolled back.
    const midDelete = chatdb(args, { CHATDB_ARCHIVE_KILL_AT: "mid-delete" });
    expect(midDelete.signal).toBe("SIGKILL");
    expect(chatRows(dir.file("primary.db"), MOVED)).toBe(before);

    // 4. The rerun finishes: the source learned from the archive's log, rows deleted.
    const done = chatdb(args);
    expect(done.code).toBe(0);
    expect(done.out).toContain(`chat ${MOVED} was already mapped to archive`);
    expect(done.out).toMatch(/chat_messages\s+40\s+40/);
    expect(done.out).toContain(`deleted ${before} rows of chat ${MOVED} from primary`);
    expect(chatRows(dir.file("primary.db"), MOVED)).toBe(0);
    expect(chatRows(dir.file("primary.db"), STAYS)).toBeGreaterThan(5);
    expect(readFileSync(config, "utf8")).toBe(edited);
    // No temp files left beside the archive or the config.
    expect(readdirSync(dir.path).filter((n) => n.includes(".tmp-"))).toEqual([]);

    // The bot, reading through the edited config, finds the chat in the archive.
    await using db = new DatabaseWrapper({ configPath: config });
    const messages = await db.getChatMessagesByUser(MOVED, 7, { limit: 1000 });
    expect(messages.length).toBe(40);
    expect(messages.every((m) => m.dataSource === "archive")).toBe(true);
    expect((await db.getChatInfo(ARCHIVED))?.dataSource).toBe("archive"); // earlier archive kept
  }, 20_000);

  test("without --delete it copies and maps, leaving the source rows; a table is created when absent", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("primary.db"), (db) => seedChat(db, MOVED, 3));
    const config = writeConfig(
      dir.path,
      `# no mapping yet\n[database]\ndefault_source = "primary"\n[database.sources.primary]\npath = "primary.db"\n[database.sources.cold]\npath = "cold/cold.db"\nreadonly = true\nimmutable = true\n`,
    );
    const r = chatdb(["archive", config, "--chat", String(MOVED), "--to", "cold"]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(""); // the progress bar is drawn on a terminal only
    const text = readFileSync(config, "utf8");
    expect(text.startsWith("# no mapping yet\n")).toBe(true);
    expect(text).toContain(`[database.chat_mapping]\n${MOVED} = "cold"\n`);
    expect(chatRows(dir.file("cold/cold.db"), MOVED)).toBe(chatRows(dir.file("primary.db"), MOVED));
  });

  test("refuses a --from that is not where the chat routes, and names unknown targets", async () => {
    await using dir = tempDir();
    const config = await fixture(dir);
    const ro = chatdb([
      "archive",
      config,
      "--chat",
      "5",
      "--to",
      "archive",
      "--from",
      "external",
      "--delete",
    ]);
    expect(ro.code).toBe(1);
    expect(ro.err).toContain("error INVALID_ARGUMENT");
    const unknown = chatdb(["archive", config, "--chat", String(MOVED), "--to", "nowhere"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("error UNKNOWN_SOURCE");
  });
});
