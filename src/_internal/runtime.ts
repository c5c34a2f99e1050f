/**
 * The lowest Bun chatdb was verified on (package.json `engines.bun`; a test keeps the two
 * equal). Older Buns lack what chatdb uses — Bun 1.1 has no `Bun.SQL`, so a PostgreSQL source
 * would die with a raw TypeError — so the wrapper refuses to start on them with a typed error.
 */
import { DatabaseError } from "../errors.ts";

export const MIN_BUN = "1.3.0";

/** Throws SOURCE_UNAVAILABLE naming {@link MIN_BUN} when this Bun is older; returns `value`. */
export function requireBun<T>(value: T, what = "chatdb", version = Bun.version): T {
  if (Bun.semver.order(version, MIN_BUN) < 0) {
    throw new DatabaseError(
      "SOURCE_UNAVAILABLE",
      `${what} needs Bun >= ${MIN_BUN}; this is Bun ${version} (upgrade Bun: npm install bun@latest, or bun upgrade)`,
    );
  }
  return value;
}
