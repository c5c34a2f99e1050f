/**
 * A resolved source: built in one place ({@link sourceConfig}), and per engine the check of a
 * `[database.sources.NAME]` table's engine keys into that engine's fields.
 */
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { postgresUrlProblem, withPassword } from "./postgres-url.ts";
import { ENGINES, type SourceInput, type SourceType } from "./schema.ts";
import type { SourceConfig, SourceMode } from "./types.ts";

/** The fields a resolved source is built from: all of it but `mode`, which follows from the flags. */
export type SourceFields = WithoutMode<SourceConfig>;
type WithoutMode<S> = S extends unknown ? Omit<S, "mode"> : never;

/**
 * A resolved source, frozen: the one place one is built (the config file's tables, the legacy
 * `{ dbPath }` form, the CLI's read-only views of a source).
 */
export function sourceConfig<T extends SourceType>(
  fields: SourceFields & { type: T },
): Extract<SourceConfig, { type: T }> {
  const { name, type, readonly, immutable, timeout, maxConnections, ...where } = fields;
  const mode: SourceMode = immutable ? "immutable" : readonly ? "readonly" : "read-write";
  // `where` is the engine's own fields (path, url); `mode` is recomputed, never copied
  const { mode: _, ...own } = where as typeof where & { mode?: unknown };
  return Object.freeze({
    name,
    type,
    ...own,
    readonly,
    immutable,
    mode,
    timeout,
    maxConnections,
  }) as Extract<SourceConfig, { type: T }>;
}

/** What an engine's resolver is given besides the source's table. */
export interface EngineContext {
  /** The source's key path, for messages ("database.sources.main"). */
  at: string;
  name: string;
  baseDir: string;
  /** File or database → the source naming it: two sources may not open the same one. */
  claimed: Map<string, string>;
  fail: (keyPath: string, message: string) => never;
}

/** Each engine's own fields of a resolved source (those the others lack), `type` included. */
type EngineFields = {
  [T in SourceType]: Omit<Extract<SourceConfig, { type: T }>, Exclude<keyof SourceConfig, "type">>;
};

/** Per engine: its keys of a source table checked and turned into its resolved fields. */
export const ENGINE_RESOLVERS: {
  [T in SourceType]: (s: SourceInput, c: EngineContext) => EngineFields[T];
} = {
  sqlite(s, { at, name, baseDir, claimed, fail }) {
    for (const k of Object.keys(ENGINES.postgres.keys) as (keyof typeof ENGINES.postgres.keys)[]) {
      if (s[k] !== undefined) fail(`${at}.${k}`, `only valid for type = "postgres"`);
    }
    if (s.path === undefined) fail(`${at}.path`, "required for a sqlite source");
    const path =
      s.path === ":memory:" ? ":memory:" : canonicalPath(resolve(baseDir, s.path as string));
    if (path === ":memory:" && s.readonly) {
      fail(`${at}.readonly`, "a :memory: source cannot be readonly (it would always be empty)");
    }
    const other = claimed.get(path);
    if (path !== ":memory:" && other !== undefined) {
      fail(`${at}.path`, `resolves to the same file as sources.${other} (${path})`);
    }
    claimed.set(path, name);
    return { type: "sqlite", path };
  },
  postgres(s, { at, name, claimed, fail }) {
    if (s.path !== undefined) fail(`${at}.path`, `not valid for type = "postgres" (use url)`);
    if (s.immutable) fail(`${at}.immutable`, `only valid for type = "sqlite"`);
    if (s.url !== undefined) {
      for (const k of ["host", "port", "user", "password", "database"] as const) {
        if (s[k] !== undefined) fail(`${at}.${k}`, "give either url or its parts, not both");
      }
    }
    let url = s.url ?? postgresUrl(s);
    if (url === "") fail(at, 'type = "postgres" needs url or host');
    const urlAt = s.url === undefined ? `${at}.host` : `${at}.url`;
    const problem = postgresUrlProblem(url);
    if (problem !== "") fail(urlAt, problem);
    if (s.password_env !== undefined) {
      const envAt = `${at}.password_env`;
      if (s.password !== undefined) fail(envAt, "give either password or password_env, not both");
      if (new URL(url).password !== "") {
        fail(envAt, "the url has a password too; give it in one place");
      }
      const password = process.env[s.password_env];
      if (password === undefined) {
        fail(envAt, `environment variable ${s.password_env} is not set`);
      }
      url = withPassword(url, password as string);
    }
    if (claimed.has(url)) fail(`${at}.url`, `same database as sources.${claimed.get(url)}`);
    claimed.set(url, name);
    return { type: "postgres", url };
  },
};

function postgresUrl(s: {
  host?: string | undefined;
  port?: number | undefined;
  user?: string | undefined;
  password?: string | undefined;
  database?: string | undefined;
}): string {
  if (s.host === undefined) return "";
  const auth =
    s.user === undefined
      ? ""
      : `${encodeURIComponent(s.user)}${s.password === undefined ? "" : `:${encodeURIComponent(s.password)}`}@`;
  return `postgres://${auth}${s.host}${s.port === undefined ? "" : `:${s.port}`}/${encodeURIComponent(s.database ?? "postgres")}`;
}

/**
 * Resolves symlinks in the folder part (macOS /var vs /private/var; gromozeka's tests tripped
 * on it) so two spellings of one file compare equal, without requiring the file to exist.
 */
export function canonicalPath(abs: string): string {
  if (!isAbsolute(abs)) return abs;
  // Resolve the deepest part that exists: a read-write source's folders may not exist yet.
  let head = abs;
  const tail: string[] = [];
  while (!existsSync(head)) {
    const parent = dirname(head);
    if (parent === head) return abs;
    tail.unshift(basename(head));
    head = parent;
  }
  try {
    return join(realpathSync(head), ...tail);
  } catch {
    return abs;
  }
}
