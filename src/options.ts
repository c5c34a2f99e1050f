/**
 * The constructor's accepted forms, checked once into what the wrapper needs: a resolved
 * config, a logger and the watch settings. Bad options are INVALID_ARGUMENT before anything
 * is opened.
 */
import { resolve } from "node:path";
import { frozenMap, loadConfigFile } from "./config/load.ts";
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT } from "./config/schema.ts";
import { sourceConfig } from "./config/source-config.ts";
import type { ResolvedConfig } from "./config/types.ts";
import { DatabaseError } from "./errors.ts";

/** Where log lines go; the library never prints. Every method is optional. */
export interface Logger {
  debug?(message: string, data?: Record<string, unknown>): void;
  info?(message: string, data?: Record<string, unknown>): void;
  warn?(message: string, data?: Record<string, unknown>): void;
  error?(message: string, data?: Record<string, unknown>): void;
}

interface CommonOptions {
  /** Where log lines go; nothing is logged by default. */
  logger?: Logger | undefined;
  /** Watch readonly/immutable source files and reopen them when replaced (default true). */
  watchSources?: boolean | undefined;
  /** Trailing debounce for config and source file events, ms (default 50). */
  debounceMs?: number | undefined;
  /** Safety poll period for missed file events, ms (default 1000; 0 disables). */
  pollMs?: number | undefined;
  /**
   * A call slower than this many ms emits `slowQuery` and a logger warning (default 50;
   * `Infinity` turns it off). On SQLite that is how long the call held the bot's thread.
   */
  slowMs?: number | undefined;
}

/**
 * The constructor's accepted forms: a legacy database path; `{ dbPath, maxConnections,
 * timeout }` (legacy, one writable source `default`); `{ configPath, watch }` (a TOML file;
 * `watch: true` turns hot reload on); `{ config }` (a resolved config from
 * {@link parseConfig}/{@link loadConfig}). `logger`, `watchSources`, `debounceMs` and `pollMs`
 * apply to every form.
 */
export type WrapperOptions =
  | string
  | (CommonOptions & { configPath: string; watch?: boolean | undefined })
  | (CommonOptions & { config: ResolvedConfig; watch?: boolean | undefined })
  | (CommonOptions & {
      dbPath: string;
      maxConnections?: number | undefined;
      timeout?: number | undefined;
    });

/** The options, checked and with their defaults. */
export interface WrapperSettings {
  config: ResolvedConfig;
  /** The text `config` was parsed from, when the wrapper read the file itself (`configPath`). */
  configText: string | undefined;
  logger: Logger;
  watch: boolean;
  watchSources: boolean;
  timing: { debounceMs: number; pollMs: number };
  slowMs: number;
}

const invalid = (message: string): never => {
  throw new DatabaseError("INVALID_ARGUMENT", `DatabaseWrapper: ${message}`);
};

/** A call holding the thread longer than this is reported by default (`slowMs`). */
export const DEFAULT_SLOW_MS = 50;

/** Checks the constructor's argument; throws INVALID_ARGUMENT (or the config's error). */
export function resolveOptions(options: WrapperOptions): WrapperSettings {
  if (typeof options === "string") options = { dbPath: options };
  if (typeof options !== "object" || options === null) {
    invalid("pass a path, { dbPath }, { config } or { configPath }");
  }
  let config: ResolvedConfig;
  let configText: string | undefined;
  if ("configPath" in options) {
    if (typeof options.configPath !== "string") invalid("configPath: expected a path");
    ({ config, text: configText } = loadConfigFile(options.configPath));
  } else if ("config" in options) {
    const c = options.config as Partial<ResolvedConfig> | null;
    if (!c || !Array.isArray(c.sources) || !(c.chatMapping instanceof Map)) {
      invalid("config: expected a resolved config from parseConfig() or loadConfig()");
    }
    config = options.config;
  } else if ("dbPath" in options) {
    config = legacyConfig(options.dbPath, options.maxConnections, options.timeout);
  } else {
    return invalid("pass a path, { dbPath }, { config } or { configPath }");
  }
  const watch = "watch" in options && options.watch === true;
  if (watch && config.file === undefined) {
    invalid("watch: true needs a config file ({ configPath } or loadConfig)");
  }
  const ms = (value: unknown, name: string, fallback: number, infinite = false) => {
    if (value === undefined) return fallback;
    const finite = Number.isFinite(value) || (infinite && value === Number.POSITIVE_INFINITY);
    if (typeof value !== "number" || !finite || value < 0) {
      invalid(`${name}: expected a number of ms >= 0`);
    }
    return value as number;
  };
  return {
    config,
    configText,
    logger: options.logger ?? {},
    watch,
    watchSources: options.watchSources !== false,
    timing: {
      debounceMs: ms(options.debounceMs, "debounceMs", 50),
      pollMs: ms(options.pollMs, "pollMs", 1000),
    },
    slowMs: ms(options.slowMs, "slowMs", DEFAULT_SLOW_MS, true),
  };
}

/** Legacy forms (a path, or {dbPath, maxConnections, timeout}) → one writable source `default`. */
export function legacyConfig(
  dbPath: string,
  maxConnections: number = DEFAULT_MAX_CONNECTIONS,
  timeout: number = DEFAULT_TIMEOUT,
): ResolvedConfig {
  if (typeof dbPath !== "string" || dbPath === "") invalid("dbPath: expected a non-empty path");
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
    invalid("maxConnections: expected an integer >= 1");
  }
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout < 0) {
    invalid("timeout: expected a number of seconds >= 0");
  }
  const source = sourceConfig({
    name: "default",
    type: "sqlite",
    path: dbPath === ":memory:" ? dbPath : resolve(dbPath),
    readonly: false,
    immutable: false,
    timeout,
    maxConnections,
  });
  return Object.freeze({
    sources: Object.freeze([source]),
    defaultSource: "default",
    chatMapping: frozenMap<number, string>([]),
    sync: Object.freeze([]),
    file: undefined,
  });
}
