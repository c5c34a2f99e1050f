/**
 * Conversions at the API boundary: argument checks that throw INVALID_ARGUMENT, and the
 * timestamp format shared with gromozeka (Python's `isoformat()` of the UTC instant,
 * `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`; older files' naive `YYYY-MM-DD HH:MM:SS` reads too).
 */
import { DatabaseError } from "../errors.ts";

const invalid = (name: string, value: unknown, want: string): never => {
  throw new DatabaseError("INVALID_ARGUMENT", `${name}: expected ${want}, got ${describe(value)}`);
};

function describe(v: unknown): string {
  if (typeof v === "string")
    return v.length > 40 ? `string of length ${v.length}` : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  return v === null ? "null" : typeof v;
}

/** A chat, user or topic id: a safe integer (Telegram ids fit; above 2^53 SQLite would round). */
export function id(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    invalid(name, value, "a safe integer");
  return value as number;
}

/** Like {@link id}, but null/undefined pass through as null. */
export function optId(value: unknown, name: string): number | null {
  return value === undefined || value === null ? null : id(value, name);
}

/** Message ids are `number | string` and stored as TEXT, as gromozeka does. */
export function messageId(value: unknown, name = "messageId"): string {
  if (typeof value === "string" && value.length > 0) return text(value, name);
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return invalid(name, value, "a safe integer or a non-empty string");
}

export function optMessageId(value: unknown, name: string): string | null {
  return value === undefined || value === null ? null : messageId(value, name);
}

/**
 * A string, well-formed UTF-16: SQLite stores UTF-8, where a lone surrogate becomes U+FFFD, so
 * "a\uD800" would be stored as "a\uFFFD" and collide with it and with "a\uDC00" as a key.
 */
export function text(value: unknown, name: string): string {
  if (typeof value !== "string") invalid(name, value, "a string");
  if (!(value as string).isWellFormed())
    invalid(name, value, "a well-formed string (it has a lone surrogate)");
  return value as string;
}

export function optText(value: unknown, name: string): string | null {
  return value === undefined || value === null ? null : text(value, name);
}

/** An object argument (a message, a key, fields to set): not null, not a primitive. */
export function record<T>(value: T, name: string): NonNullable<T> {
  if (typeof value !== "object" || value === null) invalid(name, value, "an object");
  return value as NonNullable<T>;
}

/** A list of strings (message categories). */
export function texts(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) invalid(name, value, "an array of strings");
  return (value as unknown[]).map((v) => text(v, `${name}[]`));
}

/** A non-empty array of finite numbers (a vector). */
export function nums(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.length === 0)
    invalid(name, value, "a non-empty array of numbers");
  return (value as unknown[]).map((v, i) => num(v, `${name}[${i}]`));
}

export function num(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) invalid(name, value, "a finite number");
  return value as number;
}

export function bool(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") invalid(name, value, "a boolean");
  return value as boolean;
}

/** A row limit: a non-negative safe integer. */
export function limit(value: unknown, fallback: number, name = "limit"): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    invalid(name, value, "a non-negative integer");
  }
  return value as number;
}

export function date(value: unknown, name: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    invalid(name, value, "a valid Date");
  return value as Date;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/**
 * Date → the stored form, as gromozeka writes it today: Python's `isoformat()` of the UTC
 * instant, `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00` (the fraction only when non-zero). gromozeka's
 * own SQL compares these as text, so chatdb's rows must sort among its rows.
 */
export function toDbTime(d: Date): string {
  const ms = d.getUTCMilliseconds();
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${ms ? `.${pad(ms * 1000, 6)}` : ""}+00:00`
  );
}

/** The current time in the stored format. */
export const nowDb = () => toDbTime(new Date());

/** Midnight UTC of the day, as gromozeka keys chat_stats and chat_user_stats. */
export const dayDb = (d: Date) => `${toDbTime(d).slice(0, 10)}T00:00:00+00:00`;

/**
 * Stored time → Date. Accepts SQLite's naive UTC text (with or without fraction), ISO-8601
 * with `T` and an offset (later gromozeka versions wrote those), epoch numbers, and Dates
 * (PostgreSQL returns those).
 */
export function fromDbTime(v: unknown): Date | null {
  if (typeof v === "string") {
    // Every row read carries one or two timestamps, so the stored format gets a fast path:
    // char codes and integer arithmetic cost ≈ 25 ns, Date's string parser ≈ 250 ns.
    // gromozeka's (and chatdb's) `…+00:00` is the naive text of the same UTC instant
    const ms = naiveUtcMs(v, v.endsWith("+00:00") ? v.length - 6 : v.length);
    return ms === undefined ? parseDateText(v) : new Date(ms);
  }
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  if (typeof v === "number") return new Date(v < 1e11 ? v * 1000 : v);
  return parseDateText(String(v));
}

/** Any other text: naive text is UTC; text with an explicit zone keeps it. */
function parseDateText(s: string): Date {
  const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/.test(s);
  return new Date(hasZone ? s : `${s.replace(" ", "T")}Z`);
}

/** Two decimal digits at `at` as a number, or -1 when either is not a digit. */
function twoDigits(s: string, at: number): number {
  const hi = s.charCodeAt(at) - 48;
  const lo = s.charCodeAt(at + 1) - 48;
  return hi >= 0 && hi <= 9 && lo >= 0 && lo <= 9 ? hi * 10 + lo : -1;
}

/** Days before each month (1-based) in a common year. */
const DAYS_BEFORE_MONTH = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
/** Leap days in years 1..y (proleptic Gregorian). */
const leapDays = (y: number) => Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400);
const LEAP_DAYS_BEFORE_1970 = leapDays(1969);

/**
 * Epoch ms of `YYYY-MM-DD HH:MM:SS[.f…]` (space or `T`, 1–9 fraction digits, no zone: UTC), or
 * undefined for any other shape or an impossible date (Feb 30, hour 24…), which then take the
 * general path and get exactly what Date's own parser makes of them. Plain integer arithmetic:
 * Date.UTC alone costs more than the rest of this function.
 */
function naiveUtcMs(s: string, n: number): number | undefined {
  if (n < 19 || n > 29 || n === 20) return undefined;
  const sep = s.charCodeAt(10);
  if (
    s.charCodeAt(4) !== 45 || // -
    s.charCodeAt(7) !== 45 ||
    (sep !== 32 && sep !== 84) || // space or T
    s.charCodeAt(13) !== 58 || // :
    s.charCodeAt(16) !== 58 ||
    (n > 19 && s.charCodeAt(19) !== 46) // .
  ) {
    return undefined;
  }
  const century = twoDigits(s, 0);
  const yy = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (century < 0 || yy < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return undefined;
  if (second < 0 || second > 59 || month < 1 || month > 12 || day < 1) return undefined;
  const year = century * 100 + yy;
  const leap = month === 2 && isLeap(year) ? 1 : 0;
  if (day > (DAYS_IN_MONTH[month] as number) + leap) return undefined;
  // milliseconds are the fraction's first three digits (Date's parser truncates the rest too)
  let millis = 0;
  for (let i = 20, scale = 100; i < n; i++, scale /= 10) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    if (scale >= 1) millis += d * scale;
  }
  const days =
    (year - 1970) * 365 +
    leapDays(year - 1) -
    LEAP_DAYS_BEFORE_1970 +
    (DAYS_BEFORE_MONTH[month] as number) +
    (month > 2 && isLeap(year) ? 1 : 0) +
    day -
    1;
  return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis;
}

export const toBool = (v: unknown): boolean => v === true || v === 1 || v === "1" || v === 1n;
export const toNum = (v: unknown): number => (typeof v === "number" ? v : Number(v));
export const toNumOrNull = (v: unknown): number | null =>
  v === null || v === undefined ? null : toNum(v);
export const toStrOrNull = (v: unknown): string | null =>
  v === null || v === undefined ? null : String(v);

/**
 * An options object's keys checked against the names the method takes: a typo in an option is
 * a bug (`{ lastActiveDay: 7 }` would otherwise return every row, unfiltered), so an unknown
 * name is INVALID_ARGUMENT naming it. Anything but an object is left alone (an absent options
 * object is `undefined`). Returns `value` for chaining.
 */
export function options<T>(value: T, allowed: readonly string[], name = "opts"): T {
  if (typeof value !== "object" || value === null) return value;
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new DatabaseError(
        "INVALID_ARGUMENT",
        `${name}: unknown option "${key}" (known: ${allowed.join(", ") || "none"})`,
      );
    }
  }
  return value;
}
