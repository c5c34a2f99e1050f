/**
 * Conversions at the API boundary: argument checks that throw INVALID_ARGUMENT, and the
 * timestamp format shared with gromozeka (`YYYY-MM-DD HH:MM:SS[.mmm]`, UTC, like SQLite's
 * CURRENT_TIMESTAMP).
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
  if (typeof value === "string" && value.length > 0) return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return invalid(name, value, "a safe integer or a non-empty string");
}

export function optMessageId(value: unknown, name: string): string | null {
  return value === undefined || value === null ? null : messageId(value, name);
}

export function text(value: unknown, name: string): string {
  if (typeof value !== "string") invalid(name, value, "a string");
  return value as string;
}

export function optText(value: unknown, name: string): string | null {
  return value === undefined || value === null ? null : text(value, name);
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

/** Date → `YYYY-MM-DD HH:MM:SS[.mmm]` in UTC; the milliseconds only when non-zero. */
export function toDbTime(d: Date): string {
  const ms = d.getUTCMilliseconds();
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${ms ? `.${pad(ms, 3)}` : ""}`
  );
}

/** The current time in the stored format. */
export const nowDb = () => toDbTime(new Date());

/** Midnight UTC of the day, as chat_stats keys it. */
export const dayDb = (d: Date) => `${toDbTime(d).slice(0, 10)} 00:00:00`;

/**
 * Stored time → Date. Accepts SQLite's naive UTC text (with or without fraction), ISO-8601
 * with `T` and an offset (later gromozeka versions wrote those), epoch numbers, and Dates
 * (PostgreSQL returns those).
 */
export function fromDbTime(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  if (typeof v === "number") return new Date(v < 1e11 ? v * 1000 : v);
  const s = String(v);
  // naive text is UTC; text with an explicit zone keeps it
  const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/.test(s);
  return new Date(hasZone ? s : `${s.replace(" ", "T")}Z`);
}

export const toBool = (v: unknown): boolean => v === true || v === 1 || v === "1" || v === 1n;
export const toNum = (v: unknown): number => (typeof v === "number" ? v : Number(v));
export const toNumOrNull = (v: unknown): number | null =>
  v === null || v === undefined ? null : toNum(v);
export const toStrOrNull = (v: unknown): string | null =>
  v === null || v === undefined ? null : String(v);
