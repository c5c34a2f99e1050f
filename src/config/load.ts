/**
 * Config text → smol-toml → alias folding → valibot → cross-field rules → frozen
 * {@link ResolvedConfig}. Every failure is a `DatabaseError` naming the file and key path.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import * as v from "valibot";
import { DatabaseError } from "../errors.ts";
import { parseChatIdKey } from "./chat-id.ts";
import {
  DATABASE_ALIASES,
  DatabaseSchema,
  KNOWN_KEYS,
  SOURCE_ALIASES,
  SyncTableSchema,
} from "./schema.ts";
import { canonicalPath, ENGINE_RESOLVERS, sourceConfig } from "./source-config.ts";
import type { ResolvedConfig, SourceConfig, SyncConfig } from "./types.ts";

/** Options of {@link parseConfig}. */
export interface ParseOptions {
  /** Folder relative paths are resolved against (the config file's folder). Default: cwd. */
  baseDir?: string;
  /** Name used in error messages. */
  file?: string;
}

type Table = Record<string, unknown>;

/**
 * Parses and validates config text (the `[database]` table of a TOML document, or a document
 * that is only that table's content). The result is frozen and has no optional fields.
 * Throws `CONFIG_PARSE` or `CONFIG_INVALID`.
 *
 * @example
 * ```ts
 * const config = parseConfig(await Bun.file("bot.toml").text(), { baseDir: "/srv/bot" });
 * const db = new DatabaseWrapper({ config });
 * ```
 */
export function parseConfig(text: string, options: ParseOptions = {}): ResolvedConfig {
  const where = options.file ?? "<config>";
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    if (e instanceof TomlError) {
      // The TOML error quotes the lines around the mistake, which may hold a password: the
      // cause keeps its reason, line and column, not that excerpt.
      const first = e.message.split("\n")[0] ?? e.message;
      throw new DatabaseError(
        "CONFIG_PARSE",
        `config ${where}:${e.line}:${e.column}: ${first.replace(/^Invalid TOML document: /, "")}`,
        { cause: Object.assign(new SyntaxError(first), { line: e.line, column: e.column }) },
      );
    }
    throw new DatabaseError("CONFIG_PARSE", `config ${where}: ${String(e)}`, { cause: e });
  }
  return resolveConfig(doc, { baseDir: options.baseDir ?? process.cwd(), file: options.file });
}

/**
 * Reads, parses and validates a TOML config file; relative paths resolve against its folder.
 * Throws `CONFIG_PARSE` (with line and column) or `CONFIG_INVALID` (with the key path).
 *
 * @example
 * ```ts
 * const config = loadConfig("bot.toml");
 * console.log(config.defaultSource, config.sources.map((s) => `${s.name}: ${s.mode}`));
 * await using db = new DatabaseWrapper({ config });
 * ```
 */
export function loadConfig(path: string): ResolvedConfig {
  return loadConfigFile(path).config;
}

/** {@link loadConfig}, with the text the config was parsed from. */
export function loadConfigFile(path: string): { config: ResolvedConfig; text: string } {
  const file = resolve(path);
  const text = readConfigFile(file);
  if (typeof text !== "string") throw text;
  return { config: parseConfigFile(text, file), text };
}

/** The config file's text, or the CONFIG_INVALID error saying why it cannot be read. */
export function readConfigFile(file: string): string | DatabaseError {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    return new DatabaseError("CONFIG_INVALID", `config ${file}: cannot read file (${errText(e)})`, {
      cause: e,
    });
  }
}

/**
 * {@link parseConfig} of the text read from `file`: relative paths resolve against its folder.
 * A hot reload parses what the watcher read this way, without reading the file again.
 */
export function parseConfigFile(text: string, file: string): ResolvedConfig {
  const abs = resolve(file);
  return parseConfig(text, { baseDir: dirname(abs), file: abs });
}

/** Validates an already-parsed TOML document (or an equivalent plain object). */
export function resolveConfig(
  doc: Table,
  options: { baseDir: string; file?: string | undefined },
): ResolvedConfig {
  const where = options.file ?? "<config>";
  const fail = (keyPath: string, message: string): never => {
    throw new DatabaseError("CONFIG_INVALID", `config ${where}: ${keyPath}: ${message}`);
  };

  // [database] inside a bot's larger config, or a file that is only the database table.
  // In the first case the other top-level tables belong to the bot and are not ours to judge.
  if (doc.database !== undefined && !isTable(doc.database)) fail("database", "expected a table");
  const nested = isTable(doc.database);
  const prefix = nested ? "database" : "";
  const dbRaw = nested ? (doc.database as Table) : omit(doc, "sync");
  const db = foldAliases(dbRaw, DATABASE_ALIASES, prefix, fail);
  if (isTable(db.sources)) {
    for (const [name, src] of Object.entries(db.sources)) {
      if (isTable(src)) {
        db.sources[name] = foldAliases(src, SOURCE_ALIASES, join2(prefix, `sources.${name}`), fail);
      }
    }
  }

  const parsed = v.safeParse(DatabaseSchema, db);
  if (!parsed.success) fail(...issueText(parsed.issues[0], prefix));
  const input = (parsed as v.SafeParseResult<typeof DatabaseSchema> & { success: true }).output;

  const sources: SourceConfig[] = [];
  const claimed = new Map<string, string>();
  for (const [name, s] of Object.entries(input.sources)) {
    const at = join2(prefix, `sources.${name}`);
    if (s.immutable && !s.readonly) fail(`${at}.immutable`, "immutable requires readonly = true");
    const own = ENGINE_RESOLVERS[s.type](s, { at, name, baseDir: options.baseDir, claimed, fail });
    sources.push(
      sourceConfig({
        name,
        ...own,
        readonly: s.readonly,
        immutable: s.immutable,
        timeout: s.timeout,
        maxConnections: s.max_connections,
      }),
    );
  }

  const names = sources.map((s) => s.name);
  let defaultSource = input.default_source;
  const defaultAt = join2(prefix, "default_source");
  if (defaultSource === undefined) {
    if (sources.length > 1)
      fail(defaultAt, `required when there is more than one source (${names.join(", ")})`);
    defaultSource = names[0] as string;
  } else if (!names.includes(defaultSource)) {
    fail(defaultAt, `"${defaultSource}" is not a configured source (${names.join(", ")})`);
  }

  const chatMapping = new Map<number, string>();
  for (const [key, target] of Object.entries(input.chat_mapping)) {
    const at = join2(prefix, `chat_mapping.${key}`);
    const id = parseChatIdKey(key);
    if (id === undefined) {
      fail(
        at,
        "chat id keys must be canonical integers (0, or -?[1-9][0-9]* with |id| <= 2^53 - 1: no spaces, signs or leading zeros)",
      );
    }
    if (!names.includes(target))
      fail(at, `"${target}" is not a configured source (${names.join(", ")})`);
    if (chatMapping.has(id as number)) fail(at, `chat ${id} is mapped twice`);
    chatMapping.set(id as number, target);
  }

  return Object.freeze({
    sources: Object.freeze(sources),
    defaultSource,
    chatMapping: frozenMap(chatMapping),
    sync: Object.freeze(resolveSync(doc.sync, options.baseDir, fail)),
    file: options.file,
  });
}

function resolveSync(
  raw: unknown,
  baseDir: string,
  fail: (p: string, m: string) => never,
): SyncConfig[] {
  if (raw === undefined) return [];
  const parsed = v.safeParse(SyncTableSchema, raw);
  if (!parsed.success) fail(...issueText(parsed.issues[0], "sync"));
  const out: SyncConfig[] = [];
  for (const [name, s] of Object.entries(
    (parsed as { output: v.InferOutput<typeof SyncTableSchema> }).output,
  )) {
    const from = canonicalPath(resolve(baseDir, s.from));
    const to = canonicalPath(resolve(baseDir, s.to));
    if (from === to) fail(`sync.${name}.to`, "must differ from `from`");
    out.push(Object.freeze({ name, from, to, interval: s.interval }));
  }
  return out;
}

/** Renames alias keys to their canonical spelling; both spellings at once is an error. */
function foldAliases(
  table: Table,
  aliases: Readonly<Record<string, string>>,
  at: string,
  fail: (p: string, m: string) => never,
): Table & { sources?: Table } {
  const out: Table = {};
  for (const [key, value] of Object.entries(table)) {
    const canonical = aliases[key] ?? key;
    if (canonical in out)
      fail(join2(at, key), `duplicates ${canonical} (an alias of the same key)`);
    out[canonical] = value;
  }
  return out;
}

/** "a.b.c: message" from the first valibot issue, with a did-you-mean hint for typos. */
function issueText(issue: v.BaseIssue<unknown> | undefined, prefix: string): [string, string] {
  if (issue === undefined) return [prefix || "<root>", "invalid"];
  const keys = (issue.path ?? []).map((p) => String(p.key));
  const keyPath = join2(prefix, keys.join("."));
  // strictObject reports a missing required key with the same issue type as an unknown one
  if (issue.type === "strict_object" && issue.received === "undefined") {
    return [keyPath, "required key is missing"];
  }
  if (issue.type === "strict_object") {
    const key = keys[keys.length - 1] ?? "";
    const family =
      keys.length >= 3 && keys[0] === "sources"
        ? KNOWN_KEYS.source
        : prefix === "sync"
          ? KNOWN_KEYS.sync
          : KNOWN_KEYS.database;
    const hint = closest(key, family);
    return [keyPath, `unknown key${hint ? ` (did you mean ${hint}?)` : ""}`];
  }
  // smol-toml tables have a null prototype, which valibot describes as "null"
  // a wrong-typed url or password is a secret all the same: say its type, not its value
  const secret = /^(?:url|password)$/.test(keys[keys.length - 1] ?? "");
  const got =
    issue.received === "undefined"
      ? "missing"
      : isTable(issue.input)
        ? "got a table"
        : secret
          ? `got a ${typeof issue.input}`
          : `got ${issue.received}`;
  const msg = issue.message.startsWith("Invalid")
    ? `expected ${issue.expected ?? "a valid value"}, ${got}`
    : issue.message;
  return [keyPath || "<root>", msg];
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** Map mutators that throw: Object.freeze does not reach a Map's entries. */
class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]>) {
    super();
    for (const [k, v] of entries) Map.prototype.set.call(this, k, v);
    Object.freeze(this);
  }
  override set(): never {
    throw new TypeError("the resolved config is frozen");
  }
  override delete(): never {
    throw new TypeError("the resolved config is frozen");
  }
  override clear(): never {
    throw new TypeError("the resolved config is frozen");
  }
}

/** A read-only copy of `entries`, as the resolved config holds its chat map. */
export const frozenMap = <K, V>(entries: Iterable<readonly [K, V]>): ReadonlyMap<K, V> =>
  new FrozenMap(entries);

const isTable = (x: unknown): x is Table =>
  typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Date);
const join2 = (a: string, b: string) => (a && b ? `${a}.${b}` : a || b);
const omit = (t: Table, key: string): Table =>
  Object.fromEntries(Object.entries(t).filter(([k]) => k !== key));
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
