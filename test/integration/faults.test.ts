/**
 * Faults on external sources, each while the other sources keep serving: the faulty source
 * answers with its last committed data or a typed error, health shows it, and it serves
 * again once the file is good. A reader loop runs through every fault and checks that the
 * primary and the immutable archive never fail and that nothing ever returns wrong data.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { chmodSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LineProcess } from "../../scripts/soak/lines.ts";
import { DatabaseError, DatabaseWrapper } from "../../src/index.ts";
import { expectCode, nextEvent, seedDatabase, tempDir, waitFor, writeConfig } from "../helpers.ts";
import { AS_ROOT, asUser, noteOtherUserSkip, otherUserSpawn, otherUserTree } from "./other-user.ts";

noteOtherUserSkip("faults.test.ts");

const EXT = 5;
const ARCH = 6;
const PRIM = 7;
const FIXTURES = join(import.meta.dir, "fixtures");

async function setup(journal: "wal" | "delete" = "wal") {
  const dir = tempDir();
  const ext = dir.file("ext.db");
  await seedDatabase(ext, (d) => d.updateChatUser(EXT, 1, "@ext-v1", "E"));
  if (journal === "delete") {
    const raw = new Database(ext);
    raw.run("PRAGMA journal_mode = DELETE");
    raw.close();
  }
  await seedDatabase(dir.file("arch.db"), async (d) => {
    await d.updateChatUser(ARCH, 1, "@arch", "A");
    await d.updateChatInfo(ARCH, { type: "group", title: "arch" });
  });
  const configPath = writeConfig(
    dir.path,
    `[database]
default_source = "primary"
[database.sources.primary]
path = "primary.db"
[database.sources.ext]
path = "ext.db"
readonly = true
timeout = 0.5
[database.sources.arch]
path = "arch.db"
readonly = true
immutable = true
[database.chat_mapping]
${EXT} = "ext"
${ARCH} = "arch"
`,
  );
  const db = new DatabaseWrapper({ configPath, pollMs: 100, debounceMs: 10 });
  await db.watch();
  await db.updateChatUser(PRIM, 1, "@prim", "P");
  await db.updateChatInfo(PRIM, { type: "group", title: "prim" });

  /** Every username ext ever held: a read of anything else is wrong data. */
  const valid = new Set(["@ext-v1"]);
  const stats = {
    loops: 0,
    extOk: 0,
    extErrors: {} as Record<string, number>,
    otherFailures: [] as string[],
    wrong: [] as string[],
    untyped: [] as string[],
    maxOtherMs: 0,
  };
  let stop = false;
  const load = (async () => {
    while (!stop) {
      stats.loops++;
      const t0 = performance.now();
      try {
        const p = await db.getChatUser(PRIM, 1);
        const a = await db.getChatUser(ARCH, 1);
        stats.maxOtherMs = Math.max(stats.maxOtherMs, performance.now() - t0);
        const groups = (await db.getAllGroupChats()).map((c) => c.chatId);
        if (p?.username !== "@prim" || a?.username !== "@arch")
          stats.otherFailures.push(`read ${p?.username} ${a?.username}`);
        if (!groups.includes(PRIM) || !groups.includes(ARCH))
          stats.otherFailures.push(`groups ${groups}`);
      } catch (e) {
        stats.otherFailures.push(String(e));
      }
      try {
        const u = await db.getChatUser(EXT, 1);
        if (u !== null && !valid.has(u.username)) stats.wrong.push(u.username);
        stats.extOk++;
      } catch (e) {
        if (e instanceof DatabaseError)
          stats.extErrors[e.code] = (stats.extErrors[e.code] ?? 0) + 1;
        else stats.untyped.push(String(e));
      }
      await Bun.sleep(2);
    }
  })();

  /** Publishes version `v` of ext the way its owner or a sidecar would: temp file + rename. */
  const publish = async (v: number) => {
    const tmp = dir.file(`ext.v${v}.tmp`);
    await seedDatabase(tmp, (d) => d.updateChatUser(EXT, 1, `@ext-v${v}`, "E"));
    valid.add(`@ext-v${v}`);
    renameSync(tmp, ext);
  };
  const state = () => db.health().sources.find((s) => s.name === "ext");
  const recover = async (v: number) => {
    await publish(v);
    await waitFor(`ext to serve v${v}`, async () => {
      try {
        return state()?.state === "ok" && (await db.getChatUser(EXT, 1))?.username === `@ext-v${v}`;
      } catch {
        return false;
      }
    });
  };
  return {
    db,
    dir,
    ext,
    state,
    publish,
    recover,
    stats,
    /** Resolves once the background read load has made a few rounds over every source. */
    loadRunning: () => waitFor("the read load to run", () => stats.loops > 2),
    async [Symbol.asyncDispose]() {
      stop = true;
      await load;
      await db.close();
      dir[Symbol.dispose]();
    },
    /** Stops the load and checks the invariants of every fault. */
    async finish() {
      // the invariants are about a load that ran through the fault: let it make its rounds
      const at = stats.loops;
      await waitFor(
        "the read load to go on after the fault",
        () => stats.loops > Math.max(5, at + 2),
      );
      stop = true;
      await load;
      expect(stats.otherFailures).toEqual([]);
      expect(stats.wrong).toEqual([]);
      expect(stats.untyped).toEqual([]);
      expect(stats.loops).toBeGreaterThan(5);
      return stats;
    },
  };
}

describe("faults on an external source while the others keep serving", () => {
  test("deleted: SOURCE_UNAVAILABLE and unavailable in health; served again when restored", async () => {
    await using fx = await setup();
    await fx.loadRunning();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(fx.ext + suffix, { force: true });
    await waitFor("ext unavailable", () => fx.state()?.state === "unavailable");
    expect(fx.state()?.reason).toContain("missing");
    await expectCode(fx.db.getChatUser(EXT, 1), "SOURCE_UNAVAILABLE");
    // the background load meets it too (typed, counted), before the file comes back
    await waitFor(
      "the load to meet the missing file",
      () => (fx.stats.extErrors.SOURCE_UNAVAILABLE ?? 0) > 0,
    );
    await fx.recover(2);
    const s = await fx.finish();
    expect(s.extErrors.SOURCE_UNAVAILABLE).toBeGreaterThan(0);
  });

  test("replaced by rename: reopened and serving the new file, no error", async () => {
    await using fx = await setup();
    await fx.loadRunning();
    const reopened = nextEvent<{ source: string; reason: string }>(fx.db, "sourceReopened");
    await fx.publish(2);
    expect(await reopened).toEqual({ source: "ext", reason: "file replaced" });
    expect((await fx.db.getChatUser(EXT, 1))?.username).toBe("@ext-v2");
    const s = await fx.finish();
    expect(s.extErrors).toEqual({});
  });

  for (const [what, size] of [
    ["to half its size", (n: number) => Math.floor(n / 2)],
    ["to 0 bytes", () => 0],
  ] as const) {
    test(`truncated ${what}: a typed error and not ok in health; served again when restored`, async () => {
      await using fx = await setup();
      await fx.loadRunning();
      truncateSync(fx.ext, size(statSync(fx.ext).size));
      await waitFor("ext not ok", () => fx.state()?.state !== "ok");
      const e = await expectCode(
        fx.db.getChatUser(EXT, 1),
        size(2) === 0 ? "SCHEMA_MISMATCH" : "SOURCE_UNAVAILABLE",
      );
      expect(e.source).toBe("ext");
      await fx.recover(2);
      await fx.finish();
    });
  }

  test("overwritten in place with garbage: unavailable, never its old cached pages for long", async () => {
    await using fx = await setup();
    await fx.loadRunning();
    writeFileSync(fx.ext, Buffer.alloc(statSync(fx.ext).size, 0x5a));
    await waitFor("ext unavailable", () => fx.state()?.state === "unavailable");
    await expectCode(fx.db.getChatUser(EXT, 1), "SOURCE_UNAVAILABLE");
    await fx.recover(2);
    await fx.finish();
  });

  test("locked exclusively by another process for 2 s: SOURCE_UNAVAILABLE after its timeout, then served", async () => {
    await using fx = await setup("delete");
    await fx.loadRunning();
    const holder = new LineProcess([
      process.execPath,
      join(FIXTURES, "lock-holder.ts"),
      fx.ext,
      "2000",
    ]);
    await holder.line((l) => l === "locked", "lock holder to lock");
    const t0 = performance.now();
    const e = await expectCode(fx.db.getChatUser(EXT, 1), "SOURCE_UNAVAILABLE");
    const waited = performance.now() - t0;
    expect(e.cause).toMatchObject({ code: expect.stringMatching(/^SQLITE_BUSY/) }); // a lock, not a bad file
    // the call waited for the configured timeout (0.5 s), not until the 2 s lock was released
    expect(waited).toBeGreaterThan(400);
    expect(waited).toBeLessThan(1800);
    await holder.line((l) => l === "released", "lock holder to release");
    expect(await holder.exited).toBe(0);
    expect((await fx.db.getChatUser(EXT, 1))?.username).toBe("@ext-v1");
    const s = await fx.finish();
    expect(s.extErrors.SOURCE_UNAVAILABLE).toBeGreaterThan(0);
    // the wait was off the thread: the other sources kept answering at their normal pace
    expect(s.maxOtherMs).toBeLessThan(100);
  });

  test("migrated by its owner: a dropped column is SCHEMA_MISMATCH naming it, degraded; ok when back", async () => {
    await using fx = await setup();
    await fx.loadRunning();
    const owner = new Database(fx.ext, { readwrite: true });
    owner.run("ALTER TABLE chat_users DROP COLUMN full_name");
    await waitFor("ext degraded", () => fx.state()?.state === "degraded");
    expect(fx.state()?.reason).toContain("chat_users.full_name");
    const e = await expectCode(fx.db.getChatUser(EXT, 1), "SCHEMA_MISMATCH");
    expect(e.message).toContain("full_name");
    // what does not need the column keeps working on that source
    expect(await fx.db.getChatSettings(EXT)).toEqual({});
    owner.run("ALTER TABLE chat_users ADD COLUMN full_name TEXT NOT NULL DEFAULT 'back'");
    owner.close();
    await waitFor("ext ok", () => fx.state()?.state === "ok");
    expect(await fx.db.getChatUser(EXT, 1)).toMatchObject({
      username: "@ext-v1",
      fullName: "back",
    });
    const s = await fx.finish();
    expect(s.extErrors.SCHEMA_MISMATCH).toBeGreaterThan(0);
  });

  test.skipIf(!AS_ROOT)(
    "folder made unreadable (chmod 000, reader running as daemon): unavailable naming EACCES; back after chmod 755",
    async () => {
      // root ignores file modes, so the reader runs as another user (setpriv)
      await using dir = tempDir();
      chmodSync(dir.path, 0o755);
      const folder = dir.file("ext");
      await seedDatabase(join(folder, "ext.db"), (d) => d.updateChatUser(EXT, 1, "@ext-v1", "E"));
      Bun.spawnSync(["chown", "-R", "daemon:daemon", dir.path]);
      const reader = new LineProcess(
        asUser("daemon", join(otherUserTree().fixtures, "fault-reader.ts"), [dir.path]),
        otherUserSpawn(),
      );
      await reader.line((l) => l === "ready", "reader ready");
      let n = 0;
      type Reply = {
        ext: { ok: boolean; value?: string; code?: string; message?: string };
        primary: { ok: boolean; value?: string };
        health: { state: string; reason: string };
      };
      const ask = async (): Promise<Reply> => {
        const id = `q${++n}`;
        reader.send(id);
        return JSON.parse(
          (await reader.line((l) => l.startsWith(`{"id":"${id}"`), `reply ${id}`)) as string,
        ) as Reply;
      };
      expect((await ask()).ext).toEqual({ ok: true, value: "@ext-v1" });
      chmodSync(folder, 0o000);
      const blocked = await waitFor("ext unavailable", async () => {
        const r = await ask();
        return r.health.state === "unavailable" ? r : undefined;
      });
      expect(blocked?.health.reason).toContain("EACCES");
      const after = await ask();
      expect(after.ext).toMatchObject({ ok: false, code: "SOURCE_UNAVAILABLE" });
      expect(after.primary).toEqual({ ok: true, value: "@own" });
      chmodSync(folder, 0o755);
      await waitFor("ext back", async () => (await ask()).ext.value === "@ext-v1");
      expect((await ask()).health.state).toBe("ok");
      reader.proc.stdin.end();
      expect(await reader.exited).toBe(0);
    },
  );
});
