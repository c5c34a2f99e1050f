/**
 * The one error type chatdb throws. Tests and callers branch on {@link DatabaseError.code},
 * never on message text.
 */

/** Machine-readable reason for a {@link DatabaseError}. */
export type DatabaseErrorCode =
  /** TOML syntax error; the message carries file, line and column. */
  | "CONFIG_PARSE"
  /** The config parsed but breaks a rule; the message names the key path. */
  | "CONFIG_INVALID"
  /** An explicit `dataSource` names no configured source. */
  | "UNKNOWN_SOURCE"
  /** A write was routed to a readonly source; refused before any SQL ran. */
  | "READONLY_SOURCE"
  /** The source's file is missing or cannot be opened right now. */
  | "SOURCE_UNAVAILABLE"
  /** The source lacks a table or column the call needs, or its schema is newer than ours. */
  | "SCHEMA_MISMATCH"
  /** An argument is out of range: unsafe integer id, NaN, wrong type, unknown cache type. */
  | "INVALID_ARGUMENT"
  /** The wrapper (or source) was closed. */
  | "CLOSED"
  /** The engine rejected the statement for another reason; see `cause`. */
  | "QUERY_FAILED";

/** Extra context attached to a {@link DatabaseError}. */
export interface DatabaseErrorOptions {
  cause?: unknown;
  source?: string;
  chatId?: number;
}

/**
 * Every failure chatdb reports, with a stable `code`, the original error as `cause`,
 * and the `source` / `chatId` involved where there is one.
 *
 * @example
 * ```ts
 * try {
 *   await db.setChatSetting(chatId, "lang", "en");
 * } catch (e) {
 *   if (!(e instanceof DatabaseError) || e.code !== "READONLY_SOURCE") throw e;
 *   log(`chat ${e.chatId} is archived in ${e.source}`); // nothing was written
 * }
 * ```
 */
export class DatabaseError extends Error {
  override readonly name = "DatabaseError";
  /** What went wrong, machine-readable; see {@link DatabaseErrorCode}. */
  readonly code: DatabaseErrorCode;
  /** The source involved, when there is one. */
  readonly source: string | undefined;
  /** The chat the call was routed by, when there is one. */
  readonly chatId: number | undefined;

  constructor(code: DatabaseErrorCode, message: string, options: DatabaseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.source = options.source;
    this.chatId = options.chatId;
  }
}

/**
 * True when `e` is a {@link DatabaseError}, optionally with the given code.
 *
 * @example
 * ```ts
 * if (isDatabaseError(e, "SOURCE_UNAVAILABLE")) return reply("archive is offline, try later");
 * ```
 */
export function isDatabaseError(e: unknown, code?: DatabaseErrorCode): e is DatabaseError {
  return e instanceof DatabaseError && (code === undefined || e.code === code);
}
