/**
 * Time bounds on SQLite text timestamps, right for both encodings a gromozeka file holds:
 * naive `2025-11-28 09:12:00[.fff]` (chatdb, gromozeka before migration 013, SQLite's
 * CURRENT_TIMESTAMP) and aware ISO `2025-11-28T09:12:00[.ffffff]+00:00` (gromozeka today,
 * always UTC). As text the two sort by day correctly, but within one day every `T` row sorts
 * after every ` ` row; compared to one text bound, a whole day comes out wrong.
 *
 * The rows after an instant B, as text ranges: `(space(B), ∞)` minus the ISO rows of B's day
 * up to B, `[day(B) + "T", iso(B)]`. One range the index walks, less a slice of one day; the
 * same holds mirrored for "before" and for the inclusive forms. PostgreSQL stores timestamptz
 * and compares instants: it needs none of this.
 */

import { toDbTime } from "./values.ts";

export interface TimeBound {
  /** `YYYY-MM-DD HH:MM:SS[.fff]`: chatdb's stored form. */
  space: string;
  /** `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`: Python's `isoformat()` of the UTC instant. */
  iso: string;
  /** `YYYY-MM-DDT`: where B's day's ISO rows begin. */
  isoDay: string;
}

export function timeBound(d: Date): TimeBound {
  // the ISO form is what chatdb stores; the naive one is its date and time, milliseconds only
  const iso = toDbTime(d);
  const ms = d.getUTCMilliseconds();
  return {
    space: `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms).padStart(3, "0")}` : ""}`,
    iso,
    isoDay: iso.slice(0, 11),
  };
}

/** Which side of the bound, and whether the bound itself is in. */
export type BoundOp = ">" | ">=" | "<" | "<=";

/** A placeholder in {@link sqliteTimeParts}: which of the bound's three texts goes there. */
export interface BoundSlot {
  readonly slot: keyof TimeBound;
}

const at = (slot: keyof TimeBound): BoundSlot => ({ slot });

/**
 * The SQLite condition `col op B` over both encodings, as SQL text and the slots where the
 * bound's three texts go (see {@link TimeBound}).
 */
export function sqliteTimeParts(col: string, op: BoundOp): (string | BoundSlot)[] {
  const [space, iso, day] = [at("space"), at("iso"), at("isoDay")];
  switch (op) {
    case ">": // (space, ∞) minus [isoDay, iso]
      return [`(${col} > `, space, ` AND NOT (${col} >= `, day, ` AND ${col} <= `, iso, "))"];
    case ">=": // [space, ∞) minus [isoDay, iso)
      return [`(${col} >= `, space, ` AND NOT (${col} >= `, day, ` AND ${col} < `, iso, "))"];
    case "<": // (−∞, iso) minus [space, isoDay)
      return [`(${col} < `, iso, ` AND NOT (${col} >= `, space, ` AND ${col} < `, day, "))"];
    case "<=": // (−∞, iso] minus (space, isoDay)
      return [`(${col} <= `, iso, ` AND NOT (${col} > `, space, ` AND ${col} < `, day, "))"];
  }
}

/** The same as text, each slot replaced by the SQL given for it (placeholders, literals). */
export function sqliteTimeCondition(
  col: string,
  op: BoundOp,
  p: Record<keyof TimeBound, string>,
): string {
  return sqliteTimeParts(col, op)
    .map((part) => (typeof part === "string" ? part : p[part.slot]))
    .join("");
}

/** A call's parameters for one time bound named `name`: its three texts (see {@link TimeBound}). */
export function boundParams<N extends string>(
  name: N,
  d: Date | null,
): Record<N | `${N}Iso` | `${N}Day`, string | null> {
  const b = d === null ? null : timeBound(d);
  return {
    [name]: b?.space ?? null,
    [`${name}Iso`]: b?.iso ?? null,
    [`${name}Day`]: b?.isoDay ?? null,
  } as Record<N | `${N}Iso` | `${N}Day`, string | null>;
}
