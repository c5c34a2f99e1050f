/**
 * The wrapper's lifecycle at its edges: listeners that throw, constructors that fail, and
 * reload or close while an aggregated read is waiting on PostgreSQL.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SQL } from "bun";
import { type DatabaseError, DatabaseWrapper } from "../../src/index.ts";
import { expectCode, seedDatabase, tempDir, writeConfig } from "../helpers.ts";
import { closePgAdmin, pgSchema, runPg, waitForLockWait } from "../pg.ts";

afterAll(closePgAdmin);

describe("lifecycle", () => {
  test("a reload listener that throws neither fails an applied reload nor turns it into a reloadError", async () => {
    await using dir = tempDir();
    const configPath = writeConfig(dir.path, '[database.sources.a]\npath = "a.db"\n');
    await using db = new DatabaseWrapper({ configPath });
    const reloadErrors: unknown[] = [];
    db.on("reloadError", (e) => reloadErrors.push(e));
    db.on("reload", () => {
      throw new Error("listener bug");
    });
    writeConfig(
      dir.path,
      '[database.sources.a]\npath = "a.db"\n[database.chat_mapping]\n5 = "a"\n',
    );
    expect(await db.reload()).toBe(2);
    expect(db.generation).toBe(2);
    expect(reloadErrors).toEqual([]);
  });

  test("bad constructor options are INVALID_ARGUMENT and leave nothing open behind", async () => {
    await using dir = tempDir();
    for (const bad of [
      null,
      123,
      {},
      { configPath: 5 },
      { config: {} },
      { dbPath: "x.db", timeout: Number.NaN },
      { dbPath: "x.db", maxConnections: 0 },
    ]) {
      await expectCode(() => new DatabaseWrapper(bad as never), "INVALID_ARGUMENT");
    }
    // watch: true without a file fails before any source or watcher is opened: the process exits
    await seedDatabase(dir.file("ro.db"));
    const script = dir.file("ctor.ts");
    await Bun.write(
      script,
      `import { DatabaseWrapper, parseConfig } from ${JSON.stringify(join(import.meta.dir, "../../src/index.ts"))};
       const config = parseConfig('[database]\\ndefault_source = "own"\\n[database.sources.own]\\npath = ":memory:"\\n[database.sources.ro]\\npath = "ro.db"\\nreadonly = true\\n', { baseDir: ${JSON.stringify(dir.path)} });
       try { new DatabaseWrapper({ config, watch: true }); } catch (e) { console.log(e.code); }`,
    );
    const child = Bun.spawn([process.execPath, script], { stdout: "pipe" });
    const exited = await Promise.race([
      child.exited,
      Bun.sleep(10_000).then(() => "still running"),
    ]);
    if (exited === "still running") child.kill();
    expect(exited).toBe(0);
    expect((await new Response(child.stdout).text()).trim()).toBe("INVALID_ARGUMENT");
  });
});

describe.skipIf(!runPg)("calls in flight across a reload or close (PostgreSQL)", () => {
  /** A Postgres primary whose chat_info is locked by another session until `release()`. */
  async function setup(dir: ReturnType<typeof tempDir>, schema: { url: string; name: string }) {
    await seedDatabase(dir.file("a.db"), (d) =>
      d.updateChatInfo(-7, { type: "group", title: "in a" }),
    );
    const toml = (withA: boolean) => `[database]
default_source = "pg"
[database.sources.pg]
type = "postgres"
url = "${schema.url}"
${withA ? '[database.sources.a]\npath = "a.db"\nreadonly = true\n' : ""}`;
    const configPath = writeConfig(dir.path, toml(true));
    const db = new DatabaseWrapper({ configPath, watchSources: false });
    await db.updateChatInfo(-5, { type: "group", title: "in pg" });
    const locker = new SQL({ url: schema.url, max: 1 });
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const locked = new Promise<void>((onLocked) => {
      void locker.begin(async (tx) => {
        await tx.unsafe(`LOCK TABLE ${schema.name}.chat_info IN ACCESS EXCLUSIVE MODE`);
        onLocked();
        await released;
      });
    });
    await locked;
    return { db, configPath, toml, release, locker };
  }

  test("a reload that removes a source waits for the aggregate reading it", async () => {
    await using dir = tempDir();
    await using schema = await pgSchema();
    const { db, configPath, toml, release, locker } = await setup(dir, schema);
    const errors: DatabaseError[] = [];
    db.on("sourceError", (e) => errors.push(e.error));
    const pending = db.getAllGroupChats(); // waits on the lock in pg, then reads a
    await waitForLockWait(schema.name, "chat_info");
    writeConfig(dir.path, toml(false));
    expect(await db.reload()).toBe(2);
    release();
    const rows = await pending;
    expect(rows.map((r) => [r.chatId, r.dataSource])).toEqual([
      [-7, "a"],
      [-5, "pg"],
    ]);
    expect(errors).toEqual([]);
    expect(db.health().sources.map((s) => s.name)).toEqual(["pg"]);
    await db.close();
    await locker.close();
    void configPath;
  });

  test("close waits for an aggregate in flight, and later calls reject CLOSED", async () => {
    await using dir = tempDir();
    await using schema = await pgSchema();
    const { db, release, locker } = await setup(dir, schema);
    const pending = db.getAllGroupChats();
    await waitForLockWait(schema.name, "chat_info");
    const closed = db.close();
    await expectCode(db.getChatInfo(-5), "CLOSED");
    release();
    expect((await pending).length).toBe(2);
    await closed;
    await locker.close();
  });
});
