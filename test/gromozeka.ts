/**
 * gromozeka's own code, for tests: its read methods' answers in the fixtures (and from
 * scripts/fixtures/gromozeka-read.py on any file), the chatdb call standing for each, and a
 * field-by-field comparison; and where python and gromozeka's source are, to run it.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseWrapper } from "../src/index.ts";

export const GROMOZEKA_FIXTURES = join(import.meta.dir, "fixtures", "gromozeka");

export interface Call {
  method: string;
  args: Record<string, unknown>;
  answer: unknown;
  errors: string[];
}
export interface Fixture {
  version: number;
  now: string;
  calls: Call[];
}

/** gromozeka methods chatdb does not have yet (its "every method" issue): not compared. */
export const NOT_IN_CHATDB = new Set<string>([]);
/** Arguments chatdb does not take yet (same issue): those calls are not compared. */
export const NOT_YET_ARGS = new Set<string>([]);

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const date = (v: unknown) => (typeof v === "string" ? new Date(v) : undefined);

/** One chatdb call standing for one of gromozeka's, with its arguments translated. */
export function call(db: DatabaseWrapper, c: Call, source: string): Promise<unknown> {
  const opts = { dataSource: source } as const;
  // biome-ignore lint/suspicious/noExplicitAny: the fixture's arguments, as gromozeka typed them
  const a = c.args as any;
  switch (c.method) {
    case "common.getSettings":
      return db.getSettings(opts);
    case "chatInfo.getChatInfo":
      return db.getChatInfo(a.chatId, opts);
    case "chatInfo.getChatTopics":
      return db.getChatTopics(a.chatId, opts);
    case "chatUsers.getChatUsers":
      return db.getChatUsers(a.chatId, {
        ...opts,
        ...(a.limit === undefined ? {} : { limit: a.limit }),
        ...(a.seenSince === undefined ? {} : { seenSince: date(a.seenSince) as Date }),
        ...(a.minMessages === undefined ? {} : { minMessages: a.minMessages }),
      });
    case "chatUsers.getChatUser":
      return db.getChatUser(a.chatId, a.userId, opts);
    case "chatUsers.getChatUserByUsername":
      return db.getChatUserByUsername(a.chatId, a.username, opts);
    case "chatUsers.getUserChats":
      return db.getUserChats(a.userId, opts);
    case "chatUsers.getAllGroupChats":
      return db.getAllGroupChats(opts);
    case "chatSettings.getChatSettings":
      return db.getChatSettings(a.chatId, opts);
    case "chatSettings.getChatSetting":
      return db.getChatSetting(a.chatId, a.setting, opts);
    case "chatMessages.getChatMessagesSince":
      return db.getChatMessagesSince(a.chatId, {
        ...opts,
        ...(a.sinceDateTime === undefined ? {} : { since: date(a.sinceDateTime) as Date }),
        ...(a.tillDateTime === undefined ? {} : { till: date(a.tillDateTime) as Date }),
        ...(a.threadId === undefined ? {} : { threadId: a.threadId }),
        ...(a.limit === undefined ? {} : { limit: a.limit }),
        ...(a.messageCategory === undefined ? {} : { categories: a.messageCategory }),
      });
    case "chatMessages.getChatMessageByMessageId":
      return db.getChatMessageByMessageId(a.chatId, a.messageId, opts);
    case "chatMessages.getChatMessagesByRootId":
      return db.getChatMessagesByRootId(a.chatId, a.rootMessageId, {
        ...opts,
        ...(a.threadId === undefined || a.threadId === null ? {} : { threadId: a.threadId }),
      });
    case "chatMessages.getChatMessagesByUser":
      return db.getChatMessagesByUser(a.chatId, a.userId, {
        ...opts,
        ...(a.limit === undefined ? {} : { limit: a.limit }),
      });
    case "spam.getSpamMessagesByText":
      return db.getSpamMessagesByText(a.text, opts);
    case "spam.getSpamMessages":
      return db.getSpamMessages(opts);
    case "spam.getSpamMessagesByUserId":
      return db.getSpamMessagesByUserId(a.chatId, a.userId, opts);
    case "cache.getCacheStorage":
      return db.getCacheStorage(opts);
    case "cache.getCacheEntry":
      return db.getCacheEntry(a.key, a.cacheType, {
        ...opts,
        ...(a.ttl === undefined ? {} : { ttl: a.ttl }),
      });
    case "chatSummarization.getChatSummarization":
      return db.getChatSummarization(
        {
          chatId: a.chatId,
          topicId: a.topicId,
          firstMessageId: a.firstMessageId,
          lastMessageId: a.lastMessageId,
          prompt: a.prompt,
        },
        opts,
      );
    case "delayedTasks.getPendingDelayedTasks":
      return db.getPendingDelayedTasks(opts);
    case "userData.getUserData":
      return db.getUserData(a.userId, a.chatId, opts);
    case "mediaAttachments.getMediaAttachment":
      return db.getMediaAttachment(a.mediaId, opts);
    case "mediaAttachments.getMediaAttachmentsByGroupId":
      return db.getMediaAttachmentsByGroupId(a.mediaGroupId, opts);
    case "chatMessages.getFirstChatMessageByMediaGroupId":
      return db.getFirstChatMessageByMediaGroupId(a.chatId, a.mediaGroupId, {
        ...opts,
        ...(a.threadId === undefined ? {} : { threadId: a.threadId }),
      });
    case "chatMessages.getMessageThread":
      return db.getMessageThread(a.chatId, a.messageId, opts);
  }
  throw new Error(`no chatdb call for ${c.method}`);
}

/** gromozeka's value of one field → chatdb's form of it (times as epoch ms). */
function normal(key: string, v: unknown): unknown {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "string" && /(_at|^date)$/.test(key)) return Date.parse(v);
  if (
    ["message_id", "reply_id", "root_message_id", "first_message_id", "last_message_id"].includes(
      key,
    )
  )
    return v === null ? null : String(v);
  return v;
}

/** Every field of gromozeka's row, as chatdb names and types it; "" where chatdb has no such field. */
function differences(where: string, want: Record<string, unknown>, got: unknown): string[] {
  if (got === null || typeof got !== "object") return [`${where}: chatdb returned ${String(got)}`];
  const record = got as Record<string, unknown>;
  const out: string[] = [];
  for (const [key, value] of Object.entries(want)) {
    const field = camel(key);
    if (!(field in record)) {
      out.push(`${where}.${key}: chatdb's record has no ${field}`);
      continue;
    }
    const b = normal(key, record[field]);
    // SQLite hands gromozeka a BOOLEAN column as 0/1; chatdb's record has the boolean
    const a =
      typeof b === "boolean" && (value === 0 || value === 1) ? value === 1 : normal(key, value);
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      out.push(`${where}.${key}: gromozeka ${JSON.stringify(a)}, chatdb ${JSON.stringify(b)}`);
    }
  }
  return out;
}

/** A key → value record as JSON, keys in order. */
const sorted = (o: unknown) =>
  JSON.stringify(
    Object.fromEntries(Object.entries(o as object).sort(([a], [b]) => a.localeCompare(b))),
  );

/** The same rows in any order (gromozeka's query has no ORDER BY there). */
const UNORDERED = new Set(["spam.getSpamMessages", "spam.getSpamMessagesByUserId"]);

export function compare(c: Call, got: unknown): string[] {
  const where = `${c.method}(${JSON.stringify(c.args)})`;
  const want = c.answer;
  if (want === null || want === undefined)
    return got === null ? [] : [`${where}: chatdb found ${JSON.stringify(got)}`];
  if (c.method === "chatSettings.getChatSettings") {
    // gromozeka: key → [value, updated_by]; chatdb: key → value (updated_by is written, not read)
    const values = Object.fromEntries(
      Object.entries(want as Record<string, [string, number]>).map(([k, v]) => [k, v[0]]),
    );
    return JSON.stringify(values) === JSON.stringify(got)
      ? []
      : [`${where}: ${JSON.stringify(got)}`];
  }
  if (c.method === "chatMessages.getMessageThread") {
    // gromozeka: { root_message, target_message, thread_messages }; chatdb: the same, camelCase
    const w = want as Record<string, unknown>;
    const g = got as Record<string, unknown> | null;
    if (g === null) return [`${where}: chatdb returned null`];
    const part = (key: string, field: string) =>
      compare({ ...c, method: `${c.method}.${key}`, answer: w[key] }, g[field]);
    return [
      ...part("root_message", "rootMessage"),
      ...part("target_message", "targetMessage"),
      ...part("thread_messages", "threadMessages"),
    ];
  }
  if (typeof want !== "object")
    return want === got ? [] : [`${where}: gromozeka ${want}, chatdb ${String(got)}`];
  if (!Array.isArray(want)) {
    const isRecord =
      Object.values(want).some((v) => typeof v !== "string") || "chat_id" in want || "key" in want;
    if (
      !isRecord ||
      !(
        "chat_id" in want ||
        "key" in want ||
        "csid" in want ||
        "id" in want ||
        "file_unique_id" in want
      )
    )
      return sorted(want) === sorted(got)
        ? []
        : [`${where}: gromozeka ${JSON.stringify(want)}, chatdb ${JSON.stringify(got)}`];
    return differences(where, want as Record<string, unknown>, got);
  }
  const rows = got as unknown[];
  if (!Array.isArray(rows) || rows.length !== want.length)
    return [
      `${where}: gromozeka ${want.length} rows, chatdb ${Array.isArray(rows) ? rows.length : String(rows)}`,
    ];
  const key = (r: Record<string, unknown>) =>
    JSON.stringify([
      r.chat_id ?? r.chatId,
      r.user_id ?? r.userId,
      String(r.message_id ?? r.messageId),
    ]);
  const a = UNORDERED.has(c.method)
    ? [...(want as Record<string, unknown>[])].sort((x, y) => key(x).localeCompare(key(y)))
    : want;
  const b = UNORDERED.has(c.method)
    ? [...(rows as Record<string, unknown>[])].sort((x, y) => key(x).localeCompare(key(y)))
    : rows;
  return (a as Record<string, unknown>[]).flatMap((row, i) =>
    differences(`${where}[${i}]`, row, b[i]),
  );
}

/** python ≥ 3.12 with aiosqlite and dateutil, and gromozeka's source tree — or why not. */
export function findGromozeka(): { python: string; src: string } | string {
  const src = [process.env.GROMOZEKA_SRC, "/tmp/gromozeka-src", "/tmp/gzall"].find(
    (d) => d && existsSync(join(d, "internal", "database")),
  );
  if (!src) return "no gromozeka source (set GROMOZEKA_SRC; see test/fixtures/gromozeka/README.md)";
  const pyenv = join(process.env.HOME ?? "/root", ".pyenv", "versions");
  const candidates = [
    process.env.GROMOZEKA_PYTHON,
    "python3.12",
    "python3",
    ...(existsSync(pyenv)
      ? readdirSync(pyenv)
          .filter((v) => /^3\.(1[2-9]|[2-9]\d)\./.test(v))
          .map((v) => join(pyenv, v, "bin", "python3"))
      : []),
  ].filter((p): p is string => !!p);
  const check =
    "import sys, aiosqlite, dateutil; sys.exit(0 if sys.version_info >= (3, 12) else 1)";
  for (const python of candidates) {
    try {
      if (Bun.spawnSync([python, "-c", check], { stderr: "ignore" }).exitCode === 0)
        return { python, src };
    } catch {
      // not installed
    }
  }
  return `no python >= 3.12 with aiosqlite and python-dateutil among ${candidates.join(", ")} (set GROMOZEKA_PYTHON)`;
}

/** gromozeka's own read methods on `db` (scripts/fixtures/gromozeka-read.py with `plan`). */
export function gromozekaReads(
  g: { python: string; src: string },
  db: string,
  plan: { method: string; args: Record<string, unknown> }[],
  now: string,
  dir: string,
): Call[] {
  const planFile = join(dir, "plan.json");
  Bun.write(planFile, JSON.stringify(plan));
  const script = join(import.meta.dir, "..", "scripts", "fixtures", "gromozeka-read.py");
  const r = Bun.spawnSync([g.python, script, db, "--now", now, "--plan", planFile], {
    env: { ...process.env, GROMOZEKA_SRC: g.src },
  });
  if (r.exitCode !== 0) throw new Error(`gromozeka-read.py: ${r.stderr.toString()}`);
  return (JSON.parse(r.stdout.toString()) as { calls: Call[] }).calls;
}
