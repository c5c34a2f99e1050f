/**
 * Secrets out of everything chatdb prints or emits. A PostgreSQL URL is masked by parsing it
 * (WHATWG `URL`, the parser Bun's SQL client uses), never by pattern: a password holding
 * `@ : / % #` is found exactly where the client finds it. Config validation rejects URLs this
 * cannot parse, so the fallback below is only ever reached by hand-built configs.
 */
import type { ResolvedConfig, SourceConfig } from "../config/types.ts";

/** Shown instead of a URL that cannot be parsed (its password cannot be located). */
export const UNPARSABLE_URL = "<unparsable url>";

/** A query parameter name that is a plain identifier (everything PostgreSQL accepts). */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Parameters whose value is a secret. */
const SECRET_KEY = /pass|secret|token|key/i;

/**
 * `url` with the password of its user info and any secret query parameter replaced by `***`,
 * the fragment dropped (an unencoded `#` in a password starts one). A query whose keys are not
 * plain names (an unencoded `?` in a password starts a query) is shown as `?***`.
 *
 * @example
 * ```ts
 * redactUrl("postgres://bot:p%40ss@db:5432/x"); // "postgres://bot:***@db:5432/x"
 * ```
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return UNPARSABLE_URL;
  }
  if (u.password !== "") u.password = "***";
  u.hash = "";
  const keys = [...u.searchParams.keys()];
  if (keys.some((k) => !PLAIN_KEY.test(k))) u.search = "?***";
  else for (const k of keys) if (SECRET_KEY.test(k)) u.searchParams.set(k, "***");
  // URLSearchParams encodes "*" as %2A; show the mask as written
  return u.toString().replaceAll("%2A%2A%2A", "***");
}

/** A source's config with its URL redacted (SQLite sources are returned as they are). */
export function redactSource(s: SourceConfig): SourceConfig {
  return s.type === "postgres" ? Object.freeze({ ...s, url: redactUrl(s.url) }) : s;
}

/**
 * The config with every PostgreSQL URL redacted: what the `reload` event and the logger carry.
 * Everything else (routing, paths, sync) is kept as is.
 */
export function redactConfig(config: ResolvedConfig): ResolvedConfig {
  if (config.sources.every((s) => s.type !== "postgres")) return config;
  return Object.freeze({ ...config, sources: Object.freeze(config.sources.map(redactSource)) });
}
