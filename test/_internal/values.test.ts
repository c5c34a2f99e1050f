import { describe, expect, test } from "bun:test";
import { fromDbTime, toDbTime } from "../../src/_internal/values.ts";

/** What Date's own parser makes of stored text: the reference the fast path must match. */
const slowParse = (s: string) =>
  new Date(/(?:Z|[+-]\d\d:?\d\d)$/.test(s) ? s : `${s.replace(" ", "T")}Z`).getTime();

describe("fromDbTime", () => {
  test("reads SQLite's naive UTC text, with or without a fraction", () => {
    expect(fromDbTime("2024-01-03 12:34:56")?.toISOString()).toBe("2024-01-03T12:34:56.000Z");
    expect(fromDbTime("2024-01-03 12:34:56.5")?.toISOString()).toBe("2024-01-03T12:34:56.500Z");
    expect(fromDbTime("2024-01-03 12:34:56.123456")?.toISOString()).toBe(
      "2024-01-03T12:34:56.123Z",
    );
    expect(fromDbTime("2024-01-03T12:34:56")?.toISOString()).toBe("2024-01-03T12:34:56.000Z");
  });

  test("keeps an explicit zone, and reads epoch numbers and Dates", () => {
    expect(fromDbTime("2024-01-03T12:34:56+03:00")?.toISOString()).toBe("2024-01-03T09:34:56.000Z");
    expect(fromDbTime("2024-01-03 12:34:56Z")?.toISOString()).toBe("2024-01-03T12:34:56.000Z");
    expect(fromDbTime(1_704_285_296)?.toISOString()).toBe("2024-01-03T12:34:56.000Z");
    const d = new Date();
    expect(fromDbTime(d)).toBe(d);
    expect(fromDbTime(null)).toBeNull();
  });

  test("agrees with Date's parser on odd and malformed text", () => {
    const odd = [
      "2024-02-29 00:00:00",
      "2023-02-29 00:00:00",
      "2024-04-31 00:00:00",
      "2024-13-01 00:00:00",
      "2024-01-00 00:00:00",
      "2024-01-01 24:00:00",
      "2024-01-01 23:60:00",
      "0000-02-29 00:00:00",
      "0099-01-01 00:00:00",
      "2024-01-03 12:34:56.",
      "2024-01-03 12:34:5x",
      "2024-01-03 12:34:56.12a",
      "2024-01-03",
      "9999-12-31 23:59:59.999999999",
    ];
    for (const s of odd) expect([s, fromDbTime(s)?.getTime()]).toEqual([s, slowParse(s)]);
  });

  test("round-trips toDbTime over four centuries", () => {
    for (let ms = Date.UTC(1900, 0, 1); ms < Date.UTC(2300, 0, 1); ms += 7_919_999_937) {
      const d = new Date(ms);
      expect(fromDbTime(toDbTime(d))?.getTime()).toBe(ms);
    }
  });
});
