/**
 * Crash safety: a bot writing through chatdb is killed with SIGKILL at random points, 20
 * times over the same database. After each kill the file passes `PRAGMA integrity_check`
 * and every write the bot saw resolve is there.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";

const WRITER = join(import.meta.dir, "fixtures", "crash-writer.ts");
const CRASH_CHAT = -1001000000777;

describe("crash safety", () => {
  test("SIGKILL at 20 random points: integrity_check ok, every resolved write present", async () => {
    await using dir = tempDir();
    const path = dir.file("bot.db");
    let seed = 20251126;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let next = 1;
    let confirmed = 0;
    const report: number[] = [];
    for (let round = 0; round < 20; round++) {
      const proc = Bun.spawn([process.execPath, WRITER, path, String(next)], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const output = new Response(proc.stdout).text();
      // kill anywhere: during start-up and migration in the first rounds, mid-write later
      await Bun.sleep(Math.floor(rand() * 500) + (round < 3 ? 0 : 100));
      proc.kill("SIGKILL");
      await proc.exited;
      const printed = (await output).split("\n").filter((l) => /^[msu]\d+$/.test(l));
      // killed before it created the file: nothing can have resolved
      if (!existsSync(path)) {
        expect(printed).toEqual([]);
        continue;
      }

      const db = new Database(path, { readwrite: true }); // recovers the WAL like the bot would
      expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
      const msg = db.prepare(
        "SELECT message_text FROM chat_messages WHERE chat_id = ? AND message_id = ?",
      );
      const setting = db.prepare("SELECT value FROM chat_settings WHERE chat_id = ? AND key = ?");
      const meta = db.query("SELECT metadata FROM chat_users WHERE chat_id = ? AND user_id = 1");
      let lastMeta = 0;
      for (const line of printed) {
        const i = Number(line.slice(1));
        if (line[0] === "m")
          expect([line, msg.get(CRASH_CHAT, String(i))]).toEqual([
            line,
            { message_text: `message ${i}` },
          ]);
        else if (line[0] === "s")
          expect([line, setting.get(CRASH_CHAT, `k${i}`)]).toEqual([line, { value: String(i) }]);
        else lastMeta = i;
        next = Math.max(next, i + 1);
      }
      if (lastMeta > 0) {
        // a later metadata write may also have landed before the kill, never an older one
        const stored = (meta.get(CRASH_CHAT) as { metadata: string }).metadata;
        expect(Number(stored.split(":")[0])).toBeGreaterThanOrEqual(lastMeta);
        expect(stored.length).toBe(`${stored.split(":")[0]}:`.length + 64 * 1024);
      }
      msg.finalize();
      setting.finalize();
      db.close();
      confirmed += printed.length;
      report.push(printed.length);
      next += 1000; // ids of writes that may have landed unseen are never reused
    }
    expect(confirmed).toBeGreaterThan(100);
    if (process.env.CHATDB_REPORT)
      console.log(JSON.stringify({ rounds: 20, confirmed, perRound: report }));
  }, 60_000);
});
