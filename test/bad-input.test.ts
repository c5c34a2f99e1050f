/**
 * Bad input to every public data method, generated from test/api-table.ts: for each method,
 * each argument position (object fields included) and each bad value of that argument's kind,
 * the call rejects INVALID_ARGUMENT (UNKNOWN_SOURCE for a bad dataSource) and writes nothing.
 * Hostile but valid text (SQL metacharacters, NUL bytes, emoji, 1 MB) in every text argument of
 * every write is stored byte for byte; in every read it is just a value to look up.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../src/config/load.ts";
import { DatabaseError, DatabaseWrapper } from "../src/index.ts";
import { type Arg, type Kind, METHODS, type MethodSpec, validValue } from "./api-table.ts";
import { tempDir } from "./helpers.ts";

const PRIM = -1001000000000;

const NOT_INT = [
  Number.NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  -(2 ** 53),
  1.5,
  "5",
  "abc",
  5n,
  {},
  [],
  true,
  new Date(0),
  Symbol("s"),
];
const NOT_TEXT = [
  5,
  Number.NaN,
  5n,
  {},
  [],
  true,
  Symbol("s"),
  new String("boxed"),
  "a\uD800b",
  "\uDC00",
];
/** Bad values per kind; `null` and `undefined` are added below for required arguments. */
const BAD: Record<Kind, unknown[]> = {
  chat: NOT_INT,
  id: NOT_INT,
  optId: NOT_INT,
  msgId: [Number.NaN, Infinity, 2 ** 53, 1.5, -0.5, "", "a\uD800", 5n, {}, [], true],
  optMsgId: [Number.NaN, Infinity, 2 ** 53, 1.5, "", 5n, {}, true],
  text: NOT_TEXT,
  optText: NOT_TEXT,
  num: [Number.NaN, Infinity, -Infinity, "0.5", {}, 5n, true, [1]],
  bool: ["yes", "true", 1, 0, {}, []],
  date: [new Date(Number.NaN), "2025-01-01", 0, Date.now(), {}],
  optDate: [new Date(Number.NaN), "2025-01-01", 0, {}, null],
  limit: [-1, 1.5, Number.NaN, Infinity, "10", 2 ** 53, {}, null],
  cacheType: ["nope", "", "__proto__", "constructor", 5, {}],
  texts: ["abc", [5], [null], {}, 5, null],
  vector: ["abc", [], [Number.NaN], ["1"], [1, Infinity], {}, 5, true],
  jsonList: [5, {}, true, [5], [null], ["a"], "a\uD800", null],
  textInJson: NOT_TEXT,
  metric: ["1", {}, 5n, true, [1], null],
  dataSource: [5, {}, "", "nope", "__proto__", true],
};
/** Kinds whose argument may be null (besides optional ones, which may be undefined). */
const NULLABLE: Kind[] = ["optId", "optMsgId", "optText", "vector"];

interface Case {
  method: MethodSpec;
  /** "m.chatId" or "#1" */
  at: string;
  args: unknown[];
  kind: Kind | "object";
  value: unknown;
}

/** Every bad-value case: one argument (or field) replaced, all others valid. */
function* badCases(): Generator<Case> {
  for (const method of METHODS) {
    const valid = method.args.map((a) => validValue(a, PRIM));
    for (const [i, arg] of method.args.entries()) {
      const swap = (value: unknown): unknown[] => valid.map((v, j) => (j === i ? value : v));
      for (const [at, kind, value, place] of badValues(arg, `#${i}`)) {
        yield { method, at, kind, value, args: swap(place(valid[i], value)) };
      }
    }
  }
}

type Placement = (valid: unknown, bad: unknown) => unknown;
const self: Placement = (_valid, bad) => bad;

/** [where, kind, bad value, how to put it into the argument] for an argument and its fields. */
function* badValues(
  arg: Arg,
  at: string,
): Generator<[string, Kind | "object", unknown, Placement]> {
  if (arg.kind === "object") {
    // the object itself; an optional options object may be any non-object and is ignored, so
    // only required objects are checked here
    if (!arg.optional) {
      for (const v of [null, undefined, 5, "x", true]) yield [`${at}`, "object", v, self];
    }
    for (const f of arg.fields) {
      for (const [fat, kind, value] of badValues(f, `${at}.${f.name}`)) {
        yield [fat, kind, value, (valid, bad) => ({ ...(valid as object), [f.name]: bad })];
      }
    }
    return;
  }
  const values = [...BAD[arg.kind]];
  if (!arg.optional) values.push(undefined);
  if (!arg.optional && !NULLABLE.includes(arg.kind)) values.push(null);
  for (const v of values) yield [at, arg.kind, v, self];
}

const NASTY = [
  "'; DROP TABLE chat_messages; --",
  'quote " and \\ backslash % _ ? ?1 :name $x @y',
  "nul\u0000inside\u0000",
  "emoji 😀👍🏽 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, RTL \u202Eabc",
  " leading and trailing spaces ",
  "x".repeat(1024 * 1024),
];

function setup() {
  const dir = tempDir();
  const config = parseConfig(
    '[database]\ndefault_source = "primary"\n[database.sources.primary]\npath = "primary.db"\n',
    { baseDir: dir.path },
  );
  const db = new DatabaseWrapper({ config });
  const raw = new Database(dir.file("primary.db"));
  const tables = (
    raw
      .query("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'settings'")
      .all() as {
      name: string;
    }[]
  ).map((t) => t.name);
  const columns = new Map(
    tables.map((t) => [
      t,
      (raw.query(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name),
    ]),
  );
  return {
    db,
    raw,
    /** rows in every table but settings (which holds the migration version) */
    rows: () =>
      tables.reduce(
        (n, t) => n + (raw.query(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n,
        0,
      ),
    clear: () => {
      for (const t of tables) raw.run(`DELETE FROM ${t}`);
      raw.run("DELETE FROM settings WHERE key NOT LIKE 'db-%'");
    },
    /** tables.columns holding exactly `s` (byte equality, BINARY collation) */
    whereStored: (s: string) => {
      const found: string[] = [];
      for (const [t, cols] of [...columns, ["settings", ["key", "value"]] as const]) {
        for (const c of cols) {
          if (raw.query(`SELECT 1 FROM ${t} WHERE ${c} = ? LIMIT 1`).get(s))
            found.push(`${t}.${c}`);
        }
      }
      return found;
    },
    async [Symbol.asyncDispose]() {
      raw.close();
      await db.close();
      dir[Symbol.dispose]();
    },
  };
}

const call = (db: DatabaseWrapper, c: { method: MethodSpec; args: unknown[] }) =>
  (db[c.method.name] as (...xs: unknown[]) => Promise<unknown>)(...c.args);

describe("bad input to every public data method", () => {
  test("every bad value in every argument position rejects with a typed error and writes nothing", async () => {
    await using fx = setup();
    const wrong: string[] = [];
    let cases = 0;
    for (const c of badCases()) {
      cases++;
      let error: unknown;
      try {
        await call(fx.db, c);
      } catch (e) {
        error = e;
      }
      const want =
        c.kind === "dataSource" ? ["INVALID_ARGUMENT", "UNKNOWN_SOURCE"] : ["INVALID_ARGUMENT"];
      const code = error instanceof DatabaseError ? error.code : undefined;
      if (code === undefined || !want.includes(code)) {
        const shown =
          typeof c.value === "symbol"
            ? "Symbol"
            : typeof c.value === "bigint"
              ? `${c.value}n`
              : JSON.stringify(c.value);
        wrong.push(
          `${c.method.name} ${c.at} = ${shown} (${c.kind}): ${error === undefined ? "resolved" : String(error)}`,
        );
      }
    }
    expect(wrong).toEqual([]);
    expect(cases).toBeGreaterThan(1000);
    expect(fx.rows()).toBe(0);
    if (process.env.CHATDB_REPORT) console.log(JSON.stringify({ badValueCases: cases }));
  });

  test("hostile text in every text argument: writes store it byte for byte, reads look it up", async () => {
    await using fx = setup();
    const wrong: string[] = [];
    let cases = 0;
    const prepare = async () => {
      fx.clear();
      // the rows update-only methods need, under the table's valid keys
      for (const m of METHODS.filter(
        (m) => /^(add|save|set|update)/.test(m.name) && m.route.endsWith("w"),
      )) {
        await call(fx.db, { method: m, args: m.args.map((a) => validValue(a, PRIM)) });
      }
    };
    for (const method of METHODS) {
      const valid = method.args.map((a) => validValue(a, PRIM));
      const positions: [string, (s: string) => unknown[]][] = [];
      for (const [i, arg] of method.args.entries()) {
        if (arg.kind === "text" || arg.kind === "optText" || arg.kind === "msgId") {
          positions.push([`#${i}`, (s) => valid.map((v, j) => (j === i ? s : v))]);
        } else if (arg.kind === "object") {
          for (const f of arg.fields) {
            if (
              f.kind === "text" ||
              f.kind === "optText" ||
              f.kind === "msgId" ||
              f.kind === "optMsgId"
            ) {
              positions.push([
                `#${i}.${f.name}`,
                (s) => valid.map((v, j) => (j === i ? { ...(v as object), [f.name]: s } : v)),
              ]);
            }
          }
        }
      }
      for (const [at, make] of positions) {
        for (const s of NASTY) {
          cases++;
          const where = `${method.name} ${at} = ${JSON.stringify(s.slice(0, 30))}${s.length > 30 ? "…" : ""}`;
          const write = method.route.endsWith("w");
          if (write) await prepare();
          try {
            const result = await call(fx.db, { method, args: make(s) });
            if (write && result === true && fx.whereStored(s).length === 0)
              wrong.push(`${where}: not stored verbatim`);
          } catch (e) {
            wrong.push(`${where}: ${e}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(cases).toBeGreaterThan(300);
    if (process.env.CHATDB_REPORT) console.log(JSON.stringify({ hostileTextCases: cases }));
  }, 60_000);
});
