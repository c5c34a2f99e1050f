/**
 * Time bounds over both text encodings: every condition is checked against the instants it
 * stands for, on rows of both encodings around the bound (same second, same day, the days
 * before and after, fractions), in a real SQLite table.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { type BoundOp, sqliteTimeCondition, timeBound } from "../../src/_internal/time-bounds.ts";

const iso = (d: Date) => timeBound(d).iso;
const space = (d: Date) => timeBound(d).space;

describe("time bounds over both encodings", () => {
  const bound = new Date("2025-11-28T09:14:00.500Z");
  const offsets = [
    -86_400_000 - 1,
    -3_600_000,
    -1000,
    -500,
    -1,
    0,
    1,
    250,
    1000,
    3_600_000,
    86_400_000,
  ];
  const instants = [
    ...offsets.map((o) => new Date(bound.getTime() + o)),
    new Date("2025-11-28T00:00:00Z"),
    new Date("2025-11-28T23:59:59.999Z"),
  ];
  const db = new Database(":memory:");
  db.run("CREATE TABLE t (at TEXT, ms INTEGER)");
  for (const d of instants) {
    db.run("INSERT INTO t VALUES (?, ?)", [space(d), d.getTime()]);
    db.run("INSERT INTO t VALUES (?, ?)", [iso(d), d.getTime()]);
  }
  const b = timeBound(bound);
  const ops: [BoundOp, (ms: number) => boolean][] = [
    [">", (ms) => ms > bound.getTime()],
    [">=", (ms) => ms >= bound.getTime()],
    ["<", (ms) => ms < bound.getTime()],
    ["<=", (ms) => ms <= bound.getTime()],
  ];
  for (const [op, want] of ops) {
    test(`at ${op} bound: exactly the rows whose instant is ${op} it, in either encoding`, () => {
      const where = sqliteTimeCondition("at", op, { space: "?1", iso: "?2", isoDay: "?3" });
      const got = db
        .query(`SELECT at, ms FROM t WHERE ${where} ORDER BY at`)
        .all(b.space, b.iso, b.isoDay) as {
        at: string;
        ms: number;
      }[];
      const expected = (db.query("SELECT at, ms FROM t ORDER BY at").all() as typeof got).filter(
        (r) => want(r.ms),
      );
      expect(got).toEqual(expected);
      // and the plain text comparison chatdb used to make is wrong on this data
      const naive = db
        .query(`SELECT at, ms FROM t WHERE at ${op} ? ORDER BY at`)
        .all(b.space) as typeof got;
      expect(naive).not.toEqual(expected);
    });
  }

  test("an index on the column is used: one range, not a scan", () => {
    db.run("CREATE INDEX t_at ON t (at)");
    const where = sqliteTimeCondition("at", ">", { space: "?1", iso: "?2", isoDay: "?3" });
    const plan = db
      .query(`EXPLAIN QUERY PLAN SELECT ms FROM t WHERE ${where}`)
      .all(b.space, b.iso, b.isoDay) as {
      detail: string;
    }[];
    expect(plan.map((p) => p.detail).join("\n")).toContain("SEARCH t USING INDEX t_at (at>?)");
  });

  test("the ISO form is Python's isoformat() of the UTC instant", () => {
    expect(timeBound(new Date("2025-11-28T09:14:00Z")).iso).toBe("2025-11-28T09:14:00+00:00");
    expect(timeBound(new Date("2025-11-28T10:03:33.750Z")).iso).toBe(
      "2025-11-28T10:03:33.750000+00:00",
    );
    expect(timeBound(new Date("2025-11-28T10:03:33.750Z")).space).toBe("2025-11-28 10:03:33.750");
  });
});
