/**
 * Never harm the other bot. The reader runs as a different Unix user (setpriv) than the owner
 * of a WAL database: with the owner stopped, chatdb refuses (sidecar hint) and creates no
 * -wal/-shm, so the owner's next writes still work; with the owner running, chatdb reads and
 * the owner keeps writing without an error. Rollback-journal owners: busy errors are counted.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { LineProcess } from "../../scripts/soak/lines.ts";
import { runPhase } from "../../scripts/soak/live.ts";
import { seedDatabase, tempDir, waitFor } from "../helpers.ts";
import { AS_ROOT, asUser, noteOtherUserSkip, otherUserSpawn, otherUserTree } from "./other-user.ts";

noteOtherUserSkip("other-bot.test.ts");

/** The owner (daemon) writes for `ms`; resolves its last committed counter and error count. */
async function ownerWrites(db: string, ms: number) {
  const p = new LineProcess(
    asUser("daemon", join(otherUserTree().fixtures, "writer.ts"), [db, "wal", "5", String(ms)]),
    otherUserSpawn(),
  );
  const done = await p.line((l) => l.startsWith("done"), "owner done", ms + 20_000);
  await p.exited;
  const [, last, errors] = done.split(" ").map(Number) as [number, number, number];
  return { last, errors };
}

/** A chatdb reader as `nobody`: config own.db in `dir`, ext/ext.db readonly (fault-reader.ts). */
function reader(dir: string) {
  const p = new LineProcess(
    asUser("nobody", join(otherUserTree().fixtures, "fault-reader.ts"), [dir]),
    otherUserSpawn(),
  );
  let n = 0;
  return {
    ready: () => p.line((l) => l === "ready", "reader ready"),
    async ask() {
      const id = `q${++n}`;
      p.send(id);
      return JSON.parse(await p.line((l) => l.startsWith(`{"id":"${id}"`), `reply ${id}`)) as {
        ext: { ok: boolean; value?: string | null; code?: string; message?: string };
      };
    },
    async stop() {
      p.proc.stdin.end();
      return p.exited;
    },
  };
}

async function ownedWalDatabase(dir: string) {
  chmodSync(dir, 0o777); // the reader keeps its own database next to it
  const folder = join(dir, "ext");
  mkdirSync(folder);
  const path = join(folder, "ext.db");
  await seedDatabase(path, (d) => d.updateChatUser(5, 1, "@owner", "Owner"));
  Bun.spawnSync(["chown", "-R", "daemon:daemon", folder]);
  chmodSync(folder, 0o777); // writable by anyone: the case where a reader would create -wal/-shm
  return { folder, path };
}

describe.skipIf(!AS_ROOT)("never harm the other bot", () => {
  test("owner stopped: chatdb (another user) refuses with the sidecar hint, creates no -wal/-shm; the owner's writes then work", async () => {
    await using dir = tempDir();
    const { folder, path } = await ownedWalDatabase(dir.path);
    const r = reader(dir.path);
    await r.ready();
    const reply = await r.ask();
    expect(reply.ext).toMatchObject({ ok: false, code: "SOURCE_UNAVAILABLE" });
    expect(reply.ext.message).toContain("sidecar");
    expect(readdirSync(folder).sort()).toEqual(["ext.db"]);
    expect(await r.stop()).toBe(0);
    const owner = await ownerWrites(path, 300);
    expect(owner.errors).toBe(0);
    expect(owner.last).toBeGreaterThan(0);
  });

  test("owner running: chatdb (another user) reads it and the owner keeps writing without errors", async () => {
    await using dir = tempDir();
    const { path } = await ownedWalDatabase(dir.path);
    const owner = ownerWrites(path, 2500); // -wal and -shm exist while it runs, owned by daemon
    await waitFor(
      "the owner to be writing (-wal and -shm exist)",
      () => existsSync(`${path}-wal`) && existsSync(`${path}-shm`),
    );
    const r = reader(dir.path);
    await r.ready();
    let ok = 0;
    const failures: unknown[] = [];
    for (let i = 0; i < 40; i++) {
      const reply = await r.ask();
      if (reply.ext.ok && reply.ext.value === "@owner") ok++;
      else failures.push(reply.ext);
      await Bun.sleep(20);
    }
    expect(await r.stop()).toBe(0);
    const result = await owner;
    expect(failures).toEqual([]);
    expect(ok).toBe(40);
    expect(result.errors).toBe(0);
    expect(result.last).toBeGreaterThan(100);
    // the owner can still open and write its database afterwards
    const check = new Database(path);
    expect(check.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    check.close();
  });

  test("a rollback-journal owner committing 2,000 tx/s: 50 reading runs in a row without one reader error or torn read", async () => {
    for (let run = 0; run < 50; run++) {
      const r = await runPhase({ journal: "delete", durationMs: 100, withReader: true });
      expect({ run, errors: r.reader?.errors, torn: r.reader?.torn }).toEqual({
        run,
        errors: 0,
        torn: 0,
      });
      expect(r.reader?.reads).toBeGreaterThan(0);
    }
  }, 120_000);

  test("rollback-journal owner with chatdb reading: busy errors counted with and without busy_timeout", async () => {
    const withTimeout = await runPhase({
      journal: "delete",
      durationMs: 1500,
      withReader: true,
      busyTimeoutMs: 5000,
    });
    const without = await runPhase({
      journal: "delete",
      durationMs: 1500,
      withReader: true,
      busyTimeoutMs: 0,
    });
    // an owner that waits (busy_timeout 5 s) never fails; one that does not wait is reported
    expect(withTimeout.writer.errorExamples).toEqual([]);
    expect(withTimeout.writer.errors).toBe(0);
    expect(without.reader?.errors).toBe(0);
    expect(without.reader?.torn).toBe(0);
    if (process.env.CHATDB_REPORT)
      console.log(
        JSON.stringify({ busyTimeout5000: withTimeout.writer, busyTimeout0: without.writer }),
      );
  }, 30_000);
});
