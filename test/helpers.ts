/** Shared test fixtures: temp folders, seeded databases, configs, error assertions, waits. */
import { Database } from "bun:sqlite";
import { expect } from "bun:test";
import type { EventEmitter } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseError, type DatabaseErrorCode } from "../src/errors.ts";
import { DatabaseWrapper } from "../src/index.ts";

/** A fresh temp folder, removed by `await using` / `using`. */
export function tempDir(prefix = "chatdb-test-") {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name: string) => join(path, name),
    [Symbol.dispose]() {
      rmSync(path, { recursive: true, force: true });
    },
    async [Symbol.asyncDispose]() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * Creates a database file with chatdb's schema (through a writable wrapper) and lets `fill`
 * put data in it; the file can then be configured as a readonly or immutable source.
 */
export async function seedDatabase(
  path: string,
  fill?: (db: DatabaseWrapper) => Promise<unknown>,
): Promise<void> {
  const db = new DatabaseWrapper(path);
  try {
    await fill?.(db);
  } finally {
    await db.close();
  }
}

/** Writes a TOML config file and returns its path. */
export function writeConfig(dir: string, toml: string, name = "bot.toml"): string {
  const path = join(dir, name);
  writeFileSync(path, toml);
  return path;
}

/** Asserts that `p` rejects (or `fn` throws) a DatabaseError with `code`; returns it. */
export async function expectCode(
  p: Promise<unknown> | (() => unknown),
  code: DatabaseErrorCode,
): Promise<DatabaseError> {
  let error: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DatabaseError);
  expect((error as DatabaseError).code).toBe(code);
  return error as DatabaseError;
}

/** Polls `check` until it returns truthy, failing with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  everyMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** Waits for one emission of `event` on `emitter`, failing with a message after `timeoutMs`. */
export function nextEvent<T>(emitter: EventEmitter, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`)),
      timeoutMs,
    );
    emitter.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** The config used by the multi-source tests: primary, a mapped archive, a readonly external bot. */
export function multiSourceToml(opts: { archiveImmutable?: boolean; extra?: string } = {}): string {
  return `
[database]
default_source = "primary"

[database.sources.primary]
path = "primary.db"

[database.sources.archive]
path = "archive.db"
readonly = true
${opts.archiveImmutable ? "immutable = true" : ""}

[database.sources.external]
path = "external.db"
readonly = true

[database.chat_mapping]
-1001000000001 = "archive"
${opts.extra ?? ""}
`;
}

/** Chat ids used with {@link multiSourceToml}. */
export const CHATS = {
  /** unmapped → primary */
  primary: -1001000000000,
  /** mapped → archive (readonly) */
  archived: -1001000000001,
} as const;

/**
 * A file at chatdb's schema holding `rows` messages in one chat and none of chatdb's indexes:
 * what another bot's large file looks like (or a chatdb file from before its indexes).
 */
export async function bigUnindexedFile(path: string, chatId: number, rows: number): Promise<void> {
  await seedDatabase(path);
  const db = new Database(path, { readwrite: true });
  try {
    const names = db
      .query("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'chatdb_%'")
      .all() as { name: string }[];
    for (const { name } of names) db.run(`DROP INDEX ${name}`);
    db.run("DELETE FROM settings WHERE key = 'chatdb-index-version'");
    const at = "2024-01-01T00:00:00+00:00";
    db.run(
      "INSERT INTO chat_info (chat_id, title, type, created_at, updated_at) VALUES (?, 'big', 'group', ?, ?)",
      [chatId, at, at],
    );
    db.run(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
       INSERT INTO chat_messages (chat_id, message_id, date, user_id, thread_id, message_text,
         message_type, message_category, created_at)
       SELECT ?, CAST(i AS TEXT), datetime(1700000000 + i * 7, 'unixepoch'), 100 + i % 50, 0,
         'message ' || i, 'text', 'user', datetime(1700000000 + i * 7, 'unixepoch') FROM n`,
      [chatId],
    );
  } finally {
    db.close();
  }
}
