/**
 * Malformed and hostile configs applied as hot reloads while a reader keeps reading: each is
 * rejected with a pinpoint CONFIG_PARSE (line:column) or CONFIG_INVALID (key path), the last
 * good config stays in force, and no read fails. Byte-level fuzz that happens to stay valid is
 * counted apart, and routing must then follow it.
 */

import { describe, expect, test } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { prng } from "../../scripts/bench/dataset.ts";
import { parseConfig } from "../../src/config/load.ts";
import { DatabaseError, DatabaseWrapper } from "../../src/index.ts";
import { seedDatabase, tempDir, writeConfig } from "../helpers.ts";

const CHATS = { primary: 100, archive: 200, external: 300 } as const;

const BASE = `# the bot's database config
[database]
default_source = "primary"

[database.sources.primary]
path = "primary.db"
timeout = 5.0

[database.sources.archive]
path = "archive.db"
readonly = true
immutable = true

[database.sources.external]
path = "external.db"
readonly = true
max_connections = 2

[database.chat_mapping]
${CHATS.archive} = "archive"
${CHATS.external} = "external"
`;

/** Byte-level mutations of BASE: flips, truncations, insertions, deletions, line swaps. */
function fuzzed(count: number, seed: number): { name: string; text: string }[] {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = Buffer.from(BASE);
  const out: { name: string; text: string }[] = [];
  const interesting = [..."[]{}=\"'#.\n\\,0-+ \t", "\u0000", "\u00ff"];
  for (let i = 0; i < count; i++) {
    const b = Buffer.from(bytes);
    const kind = i % 5;
    let text: string;
    if (kind === 0) {
      const at = int(b.length);
      b[at] = (b[at] as number) ^ (1 << int(8)); // one bit flip
      text = b.toString("latin1");
    } else if (kind === 1) {
      text = BASE.slice(0, int(BASE.length)); // truncation
    } else if (kind === 2) {
      const at = int(BASE.length);
      const c = interesting[int(interesting.length)] as string;
      text = BASE.slice(0, at) + c + BASE.slice(at); // insertion
    } else if (kind === 3) {
      const at = int(BASE.length);
      text = BASE.slice(0, at) + BASE.slice(at + 1 + int(8)); // deletion
    } else {
      const lines = BASE.split("\n");
      const x = int(lines.length);
      const y = int(lines.length);
      [lines[x], lines[y]] = [lines[y] as string, lines[x] as string]; // two lines swapped
      text = lines.join("\n");
    }
    out.push({
      name: `fuzz #${i} (${["flip", "truncate", "insert", "delete", "swap"][kind]})`,
      text,
    });
  }
  return out;
}

const src = (name: string, body: string) => `[database.sources.${name}]\n${body}\n`;
const head = '[database]\ndefault_source = "primary"\n';

/** Hand-written hostile configs: every one must be rejected. */
const HOSTILE: { name: string; text: string }[] = [
  { name: "empty file", text: "" },
  { name: "only a comment", text: "# nothing\n" },
  { name: "binary garbage", text: "\u0000\u0001\u0002SQLite format 3\u0000" },
  { name: "unknown top key", text: `${BASE}\ncolour = "blue"\n` },
  {
    name: "unknown source key",
    text: BASE.replace("timeout = 5.0", "timeout = 5.0\nreadonyl = true"),
  },
  {
    name: "unknown key in chat_mapping table",
    text: BASE.replace(`${CHATS.archive} = "archive"`, `${CHATS.archive} = { to = "archive" }`),
  },
  { name: "timeout as string", text: BASE.replace("timeout = 5.0", 'timeout = "5"') },
  { name: "timeout negative", text: BASE.replace("timeout = 5.0", "timeout = -1.0") },
  { name: "timeout NaN", text: BASE.replace("timeout = 5.0", "timeout = nan") },
  { name: "timeout infinite", text: BASE.replace("timeout = 5.0", "timeout = inf") },
  {
    name: "readonly as string",
    text: BASE.replace("readonly = true\nimmutable", 'readonly = "yes"\nimmutable'),
  },
  { name: "path as number", text: BASE.replace('path = "primary.db"', "path = 5") },
  { name: "path empty", text: BASE.replace('path = "primary.db"', 'path = ""') },
  { name: "path as array", text: BASE.replace('path = "primary.db"', 'path = ["a.db"]') },
  {
    name: "max_connections zero",
    text: BASE.replace("max_connections = 2", "max_connections = 0"),
  },
  {
    name: "max_connections float",
    text: BASE.replace("max_connections = 2", "max_connections = 2.5"),
  },
  {
    name: "type unknown",
    text: BASE.replace('path = "primary.db"', 'type = "mysql"\npath = "primary.db"'),
  },
  { name: "sources as string", text: `${head}sources = "primary"\n` },
  { name: "no sources", text: head },
  { name: "database as array", text: "database = [1, 2]\n" },
  {
    name: "default names no source",
    text: BASE.replace('default_source = "primary"', 'default_source = "nope"'),
  },
  { name: "mapping to missing source", text: `${BASE}400 = "nope"\n` },
  { name: "mapping target empty", text: `${BASE}400 = ""\n` },
  { name: "mapping target a number", text: `${BASE}400 = 5\n` },
  { name: "mapping key not a number", text: `${BASE}abc = "archive"\n` },
  { name: "mapping key unsafe integer", text: `${BASE}9007199254740993 = "archive"\n` },
  { name: "mapping key float", text: `${BASE}"1.5" = "archive"\n` },
  {
    name: "mapping key mapped twice (+1 and 1)",
    text: `${BASE}"+1" = "archive"\n"1" = "external"\n`,
  },
  { name: "duplicate TOML key", text: `${BASE}${CHATS.archive} = "external"\n` },
  { name: "duplicate table", text: `${BASE}[database.sources.primary]\npath = "x.db"\n` },
  { name: "two sources, one file", text: `${BASE}${src("again", 'path = "./primary.db"')}` },
  {
    name: "two sources, one file via ..",
    text: `${BASE}${src("again", 'path = "sub/../archive.db"\nreadonly = true')}`,
  },
  {
    name: "alias and canonical at once",
    text: BASE.replace(
      'default_source = "primary"',
      'default_source = "primary"\ndefault = "primary"',
    ),
  },
  {
    name: "immutable without readonly",
    text: BASE.replace("timeout = 5.0", "timeout = 5.0\nimmutable = true"),
  },
  { name: ":memory: readonly", text: BASE.replace('path = "external.db"', 'path = ":memory:"') },
  { name: "source name with a space", text: `${BASE}${src('"my source"', 'path = "z.db"')}` },
  {
    name: "postgres key on sqlite",
    text: BASE.replace("timeout = 5.0", 'timeout = 5.0\nhost = "db"'),
  },
  { name: "sync without to", text: `${BASE}[sync.x]\nfrom = "external.db"\n` },
  { name: "sync to itself", text: `${BASE}[sync.x]\nfrom = "external.db"\nto = "external.db"\n` },
  { name: "unterminated string", text: BASE.replace('"primary.db"', '"primary.db') },
  { name: "unterminated table header", text: `${BASE}[database.sync\n` },
  { name: "NUL byte in a string", text: BASE.replace("primary.db", "prim\u0000ary.db") },
  {
    name: "deeply nested arrays (100k)",
    text: `${BASE}x = ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`,
  },
  {
    name: "deeply nested inline tables (50k)",
    text: `${BASE}x = ${"{a=".repeat(50_000)}1${"}".repeat(50_000)}\n`,
  },
  { name: "deeply dotted key (5k)", text: `${BASE}${Array(5000).fill("a").join(".")} = 1\n` },
  {
    name: "huge string value (4 MB) in an unknown key",
    text: `${BASE}\nnote = "${"x".repeat(4 << 20)}"\n`,
  },
  {
    name: "huge mapping (100k) with one bad target",
    text: `${BASE}${Array.from({ length: 100_000 }, (_, i) => `${1000 + i} = "${i === 77_777 ? "nope" : "archive"}"`).join("\n")}\n`,
  },
  { name: "huge mapping key (1,000 digits)", text: `${BASE}${"9".repeat(1000)} = "archive"\n` },
  {
    name: "writable source in a path that cannot be opened (a directory)",
    text: BASE.replace('path = "primary.db"', 'path = "."'),
  },
  {
    name: "writable source on /dev/null",
    text: BASE.replace('path = "primary.db"', 'path = "/dev/null"'),
  },
  {
    name: "writable source under /proc",
    text: BASE.replace('path = "primary.db"', 'path = "/proc/chatdb/x.db"'),
  },
];

/** A pinpoint message: `config FILE:LINE:COL: …` for syntax, `config FILE: KEY.PATH: …` otherwise. */
function expectPinpoint(e: DatabaseError, file: string) {
  if (e.code === "CONFIG_PARSE")
    expect(e.message).toMatch(new RegExp(`^config ${file}:\\d+:\\d+: \\S`));
  else expect(e.message).toMatch(new RegExp(`^config ${file}: [^:\\n]+: \\S`));
}

describe("hostile and fuzzed configs as hot reloads under read load", () => {
  test("every invalid one is rejected with a pinpoint error, the last good config kept, 0 failed reads", async () => {
    await using dir = tempDir();
    await seedDatabase(dir.file("archive.db"), (d) =>
      d.updateChatUser(CHATS.archive, 1, "@archive", "A"),
    );
    await seedDatabase(dir.file("external.db"), (d) =>
      d.updateChatUser(CHATS.external, 1, "@external", "E"),
    );
    const configPath = writeConfig(dir.path, BASE);
    await using db = new DatabaseWrapper({ configPath, pollMs: 0 });
    await db.updateChatUser(CHATS.primary, 1, "@primary", "P");
    const expected = {
      [CHATS.primary]: "@primary",
      [CHATS.archive]: "@archive",
      [CHATS.external]: "@external",
    };

    // the reader: while a base generation is in force, every read must succeed and route right
    const baseGenerations = new Set([db.generation]);
    let stop = false;
    const failures: string[] = [];
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        for (const [chat, name] of Object.entries(expected)) {
          const gen = db.generation;
          if (!baseGenerations.has(gen)) continue; // a valid fuzzed config routes elsewhere
          try {
            const u = await db.getChatUser(Number(chat), 1);
            if (u?.username !== name) failures.push(`gen ${gen} chat ${chat}: ${u?.username}`);
          } catch (e) {
            failures.push(`gen ${gen} chat ${chat}: ${e}`);
          }
          reads++;
        }
        await Bun.sleep(0);
      }
    })();

    const apply = async (text: string) => {
      writeFileSync(`${configPath}.tmp`, text);
      renameSync(`${configPath}.tmp`, configPath);
      return db.reload();
    };
    const cases = [
      ...HOSTILE.map((c) => ({ ...c, hostile: true })),
      ...fuzzed(200, 0xc0ffee).map((c) => ({ ...c, hostile: false })),
    ];
    const tally = {
      rejected: 0,
      parse: 0,
      invalid: 0,
      validFuzz: 0,
      hostileAccepted: [] as string[],
    };
    let reloadErrors = 0;
    db.on("reloadError", () => reloadErrors++);
    for (const c of cases) {
      const before = db.generation;
      const routes = Object.keys(expected).map(
        (chat) => db.explain({ chatId: Number(chat) }).source,
      );
      let error: unknown;
      try {
        await apply(c.text);
      } catch (e) {
        error = e;
      }
      if (error === undefined) {
        // a fuzzed config that is still valid: routing must follow it
        if (c.hostile) tally.hostileAccepted.push(c.name);
        tally.validFuzz++;
        const cfg = parseConfig(c.text, { baseDir: dir.path });
        for (const chat of [
          ...Object.values(CHATS),
          400,
          ...[...cfg.chatMapping.keys()].slice(0, 3),
        ]) {
          expect([c.name, chat, db.explain({ chatId: chat }).source]).toEqual([
            c.name,
            chat,
            cfg.chatMapping.get(chat) ?? cfg.defaultSource,
          ]);
        }
        baseGenerations.add(await apply(BASE));
        continue;
      }
      expect(error).toBeInstanceOf(DatabaseError);
      const e = error as DatabaseError;
      expect([c.name, e.code]).toEqual([c.name, expect.stringMatching(/^CONFIG_(PARSE|INVALID)$/)]);
      expectPinpoint(e, configPath);
      tally.rejected++;
      if (e.code === "CONFIG_PARSE") tally.parse++;
      else tally.invalid++;
      // the last good config is still in force, unchanged
      expect(db.generation).toBe(before);
      expect(
        Object.keys(expected).map((chat) => db.explain({ chatId: Number(chat) }).source),
      ).toEqual(routes);
      await Bun.sleep(0);
    }
    stop = true;
    await reader;

    expect(tally.hostileAccepted).toEqual([]);
    expect(tally.rejected).toBeGreaterThanOrEqual(100);
    expect(reloadErrors).toBe(tally.rejected);
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(cases.length);
    // the base config is back in force and everything still reads
    for (const [chat, name] of Object.entries(expected))
      expect((await db.getChatUser(Number(chat), 1))?.username).toBe(name);
    if (process.env.CHATDB_REPORT)
      console.log(JSON.stringify({ cases: cases.length, ...tally, reads }));
  }, 60_000);

  test("a huge valid mapping (100k chats) is applied, and routes every chat", async () => {
    await using dir = tempDir();
    const configPath = writeConfig(dir.path, BASE);
    await seedDatabase(dir.file("archive.db"));
    await seedDatabase(dir.file("external.db"));
    await using db = new DatabaseWrapper({ configPath, pollMs: 0 });
    const huge = `${BASE}${Array.from({ length: 100_000 }, (_, i) => `${-1001000000000 - i} = "${i % 2 ? "archive" : "external"}"`).join("\n")}\n`;
    writeFileSync(configPath, huge);
    const t0 = performance.now();
    expect(await db.reload()).toBe(2);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(5000);
    expect(db.explain({ chatId: -1001000000000 - 99_999 }).source).toBe("archive");
    expect(db.explain({ chatId: -1001000000000 - 4 }).source).toBe("external");
    expect(db.explain({ chatId: 1 }).source).toBe("primary");
  });
});
