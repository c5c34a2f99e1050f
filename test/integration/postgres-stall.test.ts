/**
 * PostgreSQL never stalls the bot either: another session's row lock is waited for at most the
 * source's timeout (lock_timeout on the server), then SOURCE_UNAVAILABLE; a server that is down
 * is asked again after a short backoff by one call at a time, the rest answered at once.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { CALM_CHAT, HIT_CHAT, pgConfig } from "../../scripts/stall/cases.ts";
import { DatabaseWrapper } from "../../src/index.ts";
import { expectCode, seedDatabase, tempDir, waitFor } from "../helpers.ts";
import { closePgAdmin, pgProxy, pgSchema, runPg } from "../pg.ts";

afterAll(closePgAdmin);

describe.skipIf(!runPg)("postgres: waits bounded, outages backed off", () => {
  test("a row lock held by another session: the write rejects SOURCE_UNAVAILABLE after timeout, other sources answer meanwhile", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("local.db"), (d) => d.updateChatUser(CALM_CHAT, 1, "@local", "L"));
    await using schema = await pgSchema();
    await using db = new DatabaseWrapper({ config: pgConfig(dir.path, schema.url) });
    await db.setChatSetting(HIT_CHAT, "k", "before");
    const other = new SQL({ url: schema.url, max: 1 });
    let onLocked!: () => void;
    const locked = new Promise<void>((r) => {
      onLocked = r;
    });
    const held = other.begin(async (tx) => {
      await tx.unsafe(
        `UPDATE chat_settings SET value = 'locked' WHERE chat_id = ${HIT_CHAT} AND key = 'k'`,
      );
      onLocked();
      await Bun.sleep(2500); // the scenario: the other session holds the row lock this long
    });
    await locked; // the other session holds the row before ours is sent
    const t0 = performance.now();
    const write = db.setChatSetting(HIT_CHAT, "k", "mine");
    let lag = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      lag = Math.max(lag, performance.now() - last - 5);
      last = performance.now();
    }, 5);
    expect((await db.getChatUser(CALM_CHAT, 1))?.username).toBe("@local");
    const e = await expectCode(write, "SOURCE_UNAVAILABLE");
    clearInterval(ticker);
    const ms = performance.now() - t0;
    expect(e.cause).toMatchObject({ errno: expect.stringMatching(/^(55P03|57014)$/) }); // a bounded wait
    expect(e.message).toContain("timeout = 1 s"); // names the setting that bounded it
    expect(ms).toBeGreaterThan(800);
    expect(ms).toBeLessThan(2300);
    expect(lag).toBeLessThan(250);
    await held;
    await other.close();
    // a lock wait is no outage: the source is still ok and the next write lands
    expect(db.health().sources[0]?.state).toBe("ok");
    expect(await db.setChatSetting(HIT_CHAT, "k", "after")).toBe(true);
    expect(await db.getChatSetting(HIT_CHAT, "k")).toBe("after");
  });

  test("a stopped server: calls are answered from a backoff, one probe at a time, and served again when it is back", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("local.db"));
    await using schema = await pgSchema();
    await using proxy = await pgProxy();
    const url = new URL(proxy.url);
    url.searchParams.set("search_path", schema.name);
    await using db = new DatabaseWrapper({ config: pgConfig(dir.path, url.toString()) });
    await db.setChatSetting(HIT_CHAT, "k", "v");
    await proxy.stop();
    await expectCode(db.getChatSetting(HIT_CHAT, "k"), "SOURCE_UNAVAILABLE");
    let fast = 0;
    let calls = 0;
    const until = performance.now() + 500;
    while (performance.now() < until) {
      const t0 = performance.now();
      await db.getChatSetting(HIT_CHAT, "k").catch(() => {});
      if (performance.now() - t0 < 1) fast++;
      calls++;
    }
    // nearly every call was answered from the backoff, without a connection attempt
    expect(fast / calls).toBeGreaterThan(0.9);
    await proxy.start();
    expect(
      await waitFor("served again", () => db.getChatSetting(HIT_CHAT, "k").catch(() => null)),
    ).toBe("v");
  });
});
