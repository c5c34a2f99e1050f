/**
 * PostgreSQL connection URLs, checked at config validation so that everything Bun's SQL client
 * would reject (or misread) is CONFIG_INVALID with the key path, from the constructor, a hot
 * reload and the CLI alike. No message here ever repeats the URL: it may hold a password.
 */

const ENCODE_HINT =
  "percent-encode reserved characters in the user and password (@ → %40, : → %3A, / → %2F, ? → %3F, # → %23, % → %25), or use password_env";

/** Why `url` is not a usable PostgreSQL URL; "" when it is. */
export function postgresUrlProblem(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `not a valid URL (${ENCODE_HINT})`;
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    return `expected a postgres:// or postgresql:// URL, got ${u.protocol}//`;
  }
  if (u.hash !== "") return `has a #fragment, which a connection URL never has (${ENCODE_HINT})`;
  for (const k of u.searchParams.keys()) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      return `a query parameter name is not a plain name (${ENCODE_HINT})`;
    }
  }
  for (const part of [u.username, u.password, u.pathname, u.search]) {
    try {
      decodeURIComponent(part);
    } catch {
      return `has a malformed %-escape (${ENCODE_HINT})`;
    }
  }
  // Whatever else the client refuses (it parses lazily: nothing connects here).
  try {
    new Bun.SQL({ url, adapter: "postgres", max: 1 }).close().catch(() => {});
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return `rejected by the PostgreSQL client${typeof code === "string" ? ` (${code})` : ""}`;
  }
  return "";
}

/** `url` with `password` as its user info's password (percent-encoded). */
export function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}
