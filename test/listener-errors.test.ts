import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { loadConfig } from "../src/config/load.ts";
import { DatabaseWrapper, Sidecar } from "../src/index.ts";
import { tempDir, waitFor, writeConfig } from "./helpers.ts";

/** A logger that keeps what it was given, for assertions. */
function recorder() {
  const errors: string[] = [];
  return { errors, logger: { error: (m: string) => void errors.push(m) } };
}

describe("listener errors are the listener's, not chatdb's", () => {
  test("a throwing reload listener is logged as a listener error; reload() still resolves", async () => {
    await using dir = tempDir();
    const configPath = writeConfig(dir.path, `[database.sources.main]\npath = "a.db"\n`);
    const { errors, logger } = recorder();
    await using db = new DatabaseWrapper({ configPath, logger });
    let later = 0;
    db.on("reload", () => {
      throw new Error("bug in the bot's listener");
    });
    db.on("reload", () => void later++);
    writeFileSync(configPath, `[database.sources.main]\npath = "a.db"\ntimeout = 2\n`);
    expect(await db.reload()).toBe(2);
    expect(later).toBe(1); // the listener after the throwing one still ran
    expect(errors).toEqual([`chatdb: a "reload" listener threw: bug in the bot's listener`]);
    expect(await db.updateChatUser(1, 2, "@a", "A")).toBe(true);
  });

  test("a rejecting async listener is logged, not an unhandled rejection", async () => {
    await using dir = tempDir();
    const configPath = writeConfig(dir.path, `[database.sources.main]\npath = "a.db"\n`);
    const { errors, logger } = recorder();
    await using db = new DatabaseWrapper({ configPath, logger });
    db.on("reload", async () => {
      throw new Error("async bug");
    });
    await db.reload();
    await waitFor("the listener error logged", () => errors.length > 0);
    expect(errors).toEqual([`chatdb: a "reload" listener threw: async bug`]);
  });

  test("a sidecar whose published listener throws keeps publishing, emits no QUERY_FAILED, and has no error listener", async () => {
    await using dir = tempDir();
    const from = dir.file("live.db");
    {
      await using live = new DatabaseWrapper(from);
      await live.updateChatUser(1, 2, "@a", "A");
    }
    const configPath = writeConfig(
      dir.path,
      `[database.sources.main]\npath = "own.db"\n\n[sync.live]\nfrom = "live.db"\nto = "snap.db"\ninterval = 0.01\n`,
    );
    const { errors, logger } = recorder();
    await using sidecar = new Sidecar(loadConfig(configPath).sync, { pollMs: 5, logger });
    let published = 0;
    sidecar.on("published", () => {
      published++;
      throw new Error("log is not defined");
    });
    sidecar.start(); // no "error" listener: must not throw or kill the process
    await waitFor("a first publish", () => published >= 1);
    {
      await using live = new DatabaseWrapper(from);
      await live.updateChatUser(1, 3, "@b", "B");
    }
    await waitFor("a second publish after the change", () => published >= 2);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(
      errors.every((m) => m === `chatdb: a "published" listener threw: log is not defined`),
    ).toBe(true);
    expect(errors.some((m) => m.includes("QUERY_FAILED"))).toBe(false);
  });
});
