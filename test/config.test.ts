import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, parseConfig, type SourceConfig } from "../src/index.ts";
import { expectCode, tempDir, writeConfig } from "./helpers.ts";

/** What a source opens: its file (SQLite) or its URL (PostgreSQL). */
const where = (s: SourceConfig | undefined) => (s?.type === "sqlite" ? s.path : s?.url);

/** Parses `toml` and expects CONFIG_INVALID whose message names `keyPath`; returns the message. */
async function rejects(toml: string, keyPath: string, baseDir = "/tmp"): Promise<string> {
  const e = await expectCode(
    () => parseConfig(toml, { baseDir, file: "bot.toml" }),
    "CONFIG_INVALID",
  );
  expect(e.message).toContain("bot.toml");
  expect(e.message).toContain(`${keyPath}:`);
  return e.message;
}

const ONE = `[database.sources.a]\npath = "a.db"\n`;

describe("config validation", () => {
  test("rejects unknown keys at every level, with a did-you-mean hint for typos", async () => {
    expect(await rejects(`${ONE}readonlyy = true\n`, "database.sources.a.readonlyy")).toContain(
      "did you mean readonly?",
    );
    expect(
      await rejects(`[database]\ndefualt_source = "a"\n${ONE}`, "database.defualt_source"),
    ).toContain("did you mean default_source?");
    expect(
      await rejects(`${ONE}[sync.x]\nfrom = "a"\nto = "b"\nintervall = 2\n`, "sync.x.intervall"),
    ).toContain("did you mean interval?");
    // a file that is only the database table: its top level is ours to judge
    const flat = await rejects(`frobnicate = 1\n[sources.a]\npath = "a.db"\n`, "frobnicate");
    expect(flat).toContain("unknown key");
    expect(flat).not.toContain("did you mean");
  });

  test("rejects values of the wrong type, naming the key path", async () => {
    expect(await rejects(`${ONE}readonly = "yes"\n`, "database.sources.a.readonly")).toContain(
      "boolean",
    );
    expect(await rejects(`${ONE}timeout = "30"\n`, "database.sources.a.timeout")).toContain(
      "number",
    );
    await rejects(`${ONE}timeout = -1\n`, "database.sources.a.timeout");
    await rejects(`${ONE}max_connections = 1.5\n`, "database.sources.a.max_connections");
    await rejects(`${ONE}max_connections = 0\n`, "database.sources.a.max_connections");
    await rejects(`${ONE}type = "mysql"\n`, "database.sources.a.type");
    await rejects(`[database]\nsources = 5\n`, "database.sources");
    await rejects(`database = 5\n`, "database");
    await rejects(`${ONE}[database.chat_mapping]\n5 = 7\n`, "database.chat_mapping.5");
  });

  test("rejects a default_source or mapping target that names no source", async () => {
    expect(
      await rejects(`[database]\ndefault_source = "b"\n${ONE}`, "database.default_source"),
    ).toContain('"b"');
    expect(
      await rejects(`${ONE}[database.chat_mapping]\n5 = "b"\n`, "database.chat_mapping.5"),
    ).toContain('"b"');
  });

  test("rejects chat id keys that are not safe integers", async () => {
    await rejects(`${ONE}[database.chat_mapping]\nabc = "a"\n`, "database.chat_mapping.abc");
    await rejects(`${ONE}[database.chat_mapping]\n"1e3" = "a"\n`, "database.chat_mapping.1e3");
    // a bare 1.5 is a dotted key in TOML: chat 1 → table {5 = "a"}
    expect(
      await rejects(`${ONE}[database.chat_mapping]\n1.5 = "a"\n`, "database.chat_mapping.1"),
    ).toContain("table");
    for (const key of ["9007199254740992", "9007199254740993", "-9007199254740992"]) {
      expect(
        await rejects(
          `${ONE}[database.chat_mapping]\n${key} = "a"\n`,
          `database.chat_mapping.${key}`,
        ),
      ).toContain("canonical integers");
    }
    // other spellings of an integer: one chat must have one key
    for (const key of [" 12", "007", "+7", "-0", "12 ", "0x1F", "1_000"]) {
      expect(
        await rejects(
          `${ONE}[database.chat_mapping]
"${key}" = "a"
`,
          `database.chat_mapping.${key}`,
        ),
      ).toContain("canonical integers");
    }
    // two spellings of one chat
    await rejects(
      `${ONE}[database.chat_mapping]\n5 = "a"\n"05" = "a"\n`,
      "database.chat_mapping.05",
    );
  });

  test("rejects immutable without readonly", async () => {
    await rejects(`${ONE}immutable = true\n`, "database.sources.a.immutable");
  });

  test("rejects two sources that resolve to the same file, however spelled", async () => {
    await using dir = tempDir();
    const two = (a: string, b: string) =>
      `[database]\ndefault_source = "a"\n[database.sources.a]\npath = "${a}"\n[database.sources.b]\npath = "${b}"\nreadonly = true\n`;
    expect(
      await rejects(two("bot.db", "./x/../bot.db"), "database.sources.b.path", dir.path),
    ).toContain("sources.a");
    await rejects(two("bot.db", dir.file("bot.db")), "database.sources.b.path", dir.path);

    // a symlinked folder, with the file present, absent, and in a folder not created yet
    mkdirSync(dir.file("real"));
    symlinkSync(dir.file("real"), dir.file("link"));
    await rejects(two("real/bot.db", "link/bot.db"), "database.sources.b.path", dir.path);
    await rejects(two("real/sub/bot.db", "link/sub/bot.db"), "database.sources.b.path", dir.path);
    writeConfig(dir.file("real"), "", "bot.db");
    await rejects(two("link/bot.db", "real/bot.db"), "database.sources.b.path", dir.path);

    // two :memory: sources are two databases
    const config = parseConfig(two(":memory:", ":memory:").replace("readonly = true", ""), {
      baseDir: dir.path,
    });
    expect(config.sources.map(where)).toEqual([":memory:", ":memory:"]);
  });

  test("rejects a sqlite source without a path, no sources, and several without a default", async () => {
    await rejects(`[database.sources.a]\nreadonly = true\n`, "database.sources.a.path");
    expect(await rejects(`[database.sources]\n`, "database.sources")).toContain(
      "at least one source",
    );
    expect(await rejects(`[database]\ndefault_source = "a"\n`, "database.sources")).toContain(
      "missing",
    );
    expect(
      await rejects(`${ONE}[database.sources.b]\npath = "b.db"\n`, "database.default_source"),
    ).toContain("a, b");
  });

  test("reports TOML syntax errors as CONFIG_PARSE with file, line and column", async () => {
    const text = `[database]\ndefault_source = "a"\n[database.sources.a]\npath = = "x"\n`;
    const e = await expectCode(() => parseConfig(text, { file: "bot.toml" }), "CONFIG_PARSE");
    expect(e.message).toContain("bot.toml:4:");
    expect(e.message).toMatch(/:4:\d+:/);
    expect(e.cause).toBeDefined();

    await using dir = tempDir();
    const path = writeConfig(dir.path, `[database\n`);
    const fromFile = await expectCode(() => loadConfig(path), "CONFIG_PARSE");
    expect(fromFile.message).toContain(`${path}:1:`);
  });
});

describe("config resolution", () => {
  test("accepts gromozeka's aliases: default, chatMapping, pool-size", () => {
    const config = parseConfig(
      `[database]\ndefault = "b"\n[database.sources.a]\npath = "a.db"\n[database.sources.b]\npath = "b.db"\npool-size = 9\n[database.chatMapping]\n42 = "a"\n`,
      { baseDir: "/srv" },
    );
    expect(config.defaultSource).toBe("b");
    expect(config.sources[1]?.maxConnections).toBe(9);
    expect([...config.chatMapping]).toEqual([[42, "a"]]);
  });

  test("rejects both spellings of one key at once", async () => {
    await rejects(
      `[database]\ndefault = "a"\ndefault_source = "a"\n${ONE}`,
      "database.default_source",
    );
    await rejects(
      `${ONE}[database.chat_mapping]\n1 = "a"\n[database.chatMapping]\n2 = "a"\n`,
      "database.chatMapping",
    );
    await rejects(
      `${ONE}pool-size = 3\nmax_connections = 3\n`,
      "database.sources.a.max_connections",
    );
  });

  test("resolves relative paths against the config file's folder, or baseDir", async () => {
    await using dir = tempDir();
    mkdirSync(dir.file("conf"));
    const toml = `[database]\ndefault_source = "a"\n[database.sources.a]\npath = "data/bot.db"\n[database.sources.b]\npath = "/abs/other.db"\n[database.sources.c]\npath = ":memory:"\n`;
    const loaded = loadConfig(writeConfig(dir.file("conf"), toml));
    expect(loaded.sources.map(where)).toEqual([
      join(dir.path, "conf", "data", "bot.db"),
      "/abs/other.db",
      ":memory:",
    ]);
    expect(loaded.file).toBe(join(dir.path, "conf", "bot.toml"));

    const parsed = parseConfig(toml, { baseDir: dir.path });
    expect(where(parsed.sources[0])).toBe(join(dir.path, "data", "bot.db"));
    expect(parsed.file).toBeUndefined();
  });

  test("converts chat id keys to numbers, Telegram-sized and negative ones included", () => {
    const config = parseConfig(
      `${ONE}[database.chat_mapping]\n-1001234567890 = "a"\n123456 = "a"\n"7" = "a"\n0 = "a"\n9007199254740991 = "a"\n-9007199254740991 = "a"\n`,
      { baseDir: "/srv" },
    );
    // (TOML key order is not kept: JS objects list integer-like keys first)
    expect([...config.chatMapping.keys()].sort((a, b) => a - b)).toEqual([
      -9007199254740991, -1001234567890, 0, 7, 123456, 9007199254740991,
    ]);
    expect(config.chatMapping.get(-1001234567890)).toBe("a");
  });

  test("reads [database] inside a bot config and ignores the bot's other tables", () => {
    const config = parseConfig(
      `[telegram]\ntoken = "x"\nunknown_to_us = true\n[database]\ndefault_source = "a"\n${ONE}[models.gpt]\nname = "y"\n`,
      { baseDir: "/srv" },
    );
    expect(config.sources.map((s) => s.name)).toEqual(["a"]);
  });

  test("reads a file that is only the database table", async () => {
    const config = parseConfig(
      `default_source = "b"\n[sources.a]\npath = "a.db"\nreadonly = true\n[sources.b]\npath = "b.db"\n[chat_mapping]\n-5 = "a"\n`,
      { baseDir: "/srv" },
    );
    expect(config.defaultSource).toBe("b");
    expect(config.sources.map((s) => [s.name, where(s), s.mode])).toEqual([
      ["a", "/srv/a.db", "readonly"],
      ["b", "/srv/b.db", "read-write"],
    ]);
    expect(config.chatMapping.get(-5)).toBe("a");
    // but a bot's own table in such a file is an unknown key
    expect(await rejects(`[sources.a]\npath = "a.db"\n[telegram]\nx = 1\n`, "telegram")).toContain(
      "telegram: unknown key",
    );
  });

  test("fills defaults and derives each source's mode", () => {
    const config = parseConfig(
      `[database]\ndefault_source = "rw"\n[database.sources.rw]\npath = "rw.db"\n[database.sources.ro]\npath = "ro.db"\nreadonly = true\ntimeout = 2.5\n[database.sources.im]\npath = "im.db"\nreadonly = true\nimmutable = true\n`,
      { baseDir: "/srv" },
    );
    expect(
      config.sources.map((s) => [s.name, s.type, s.mode, s.timeout, s.maxConnections]),
    ).toEqual([
      ["rw", "sqlite", "read-write", 30, 5],
      ["ro", "sqlite", "readonly", 2.5, 5],
      ["im", "sqlite", "immutable", 30, 5],
    ]);
  });

  test("parses [sync.NAME] tables, resolving paths and defaulting the interval", async () => {
    const config = parseConfig(
      `${ONE}[sync.ext]\nfrom = "/shared/other_bot.db"\nto = "snapshots/other_bot.db"\ninterval = 2.5\n[sync.two]\nfrom = "x.db"\nto = "y.db"\n`,
      { baseDir: "/srv" },
    );
    expect(config.sync).toEqual([
      {
        name: "ext",
        from: "/shared/other_bot.db",
        to: "/srv/snapshots/other_bot.db",
        interval: 2.5,
      },
      { name: "two", from: "/srv/x.db", to: "/srv/y.db", interval: 1 },
    ]);
    await rejects(`${ONE}[sync.x]\nfrom = "a.db"\n`, "sync.x.to");
    await rejects(`${ONE}[sync.x]\nfrom = "a.db"\nto = "./a.db"\n`, "sync.x.to");
    await rejects(`${ONE}[sync.x]\nfrom = "a.db"\nto = "b.db"\ninterval = 0\n`, "sync.x.interval");
  });

  test("returns a frozen config: sources, sync and the chat map cannot be changed", () => {
    const config = parseConfig(
      `${ONE}[database.chat_mapping]\n1 = "a"\n[sync.x]\nfrom = "a.db"\nto = "b.db"\n`,
      { baseDir: "/srv" },
    );
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sources)).toBe(true);
    expect(Object.isFrozen(config.sources[0])).toBe(true);
    expect(Object.isFrozen(config.sync)).toBe(true);
    expect(Object.isFrozen(config.sync[0])).toBe(true);
    const map = config.chatMapping as Map<number, string>;
    expect(() => map.set(2, "a")).toThrow(TypeError);
    expect(() => map.delete(1)).toThrow(TypeError);
    expect(() => map.clear()).toThrow(TypeError);
    expect([...config.chatMapping]).toEqual([[1, "a"]]);
    expect(() => {
      (config as { defaultSource: string }).defaultSource = "b";
    }).toThrow(TypeError);
  });
});

describe("postgres url or parts", () => {
  test("url together with host/port/user/password/database is CONFIG_INVALID naming the part", async () => {
    for (const part of [
      'host = "h"',
      "port = 5433",
      'user = "u"',
      'password = "p"',
      'database = "d"',
    ]) {
      const text = `[database.sources.pg]\ntype = "postgres"\nurl = "postgres://x@h/db"\n${part}\n`;
      const error = await expectCode(() => parseConfig(text), "CONFIG_INVALID");
      expect(error.message).toContain(`database.sources.pg.${part.split(" ")[0]}`);
    }
  });
});

describe("postgres urls and passwords", () => {
  const pg = (lines: string) => `[database.sources.pg]\ntype = "postgres"\n${lines}\n`;
  const SECRET = "Pw@:/%#?x";

  test("a URL Bun's client cannot parse or would misread is CONFIG_INVALID naming the key, never echoing it", async () => {
    for (const url of [
      `postgres://bot:${SECRET}@db/x`, // unencoded: '/' ends the authority
      "postgres://bot:ab#cd@db/x", // '#' starts a fragment: the password would be dropped
      "postgres://bot:ab?cd@db/x", // '?' starts a query
      "postgres://bot:%zz@db/x", // a malformed escape
      "postgres://db:99999/x", // port out of range
      "mysql://bot@db/x",
      "not a url",
    ]) {
      const message = await rejects(pg(`url = ${JSON.stringify(url)}`), "database.sources.pg.url");
      expect(message).not.toContain(url);
      for (const part of ["ab", "cd", "zz", SECRET]) expect(message).not.toContain(`${part}@`);
    }
    // the parts form is checked the same way (host is where a bad one shows)
    await rejects(pg('host = "db/x?y"\nuser = "bot"'), "database.sources.pg.host");
  });

  test("a percent-encoded password, or one given as a part, survives intact", () => {
    const enc = encodeURIComponent(SECRET);
    const viaUrl = where(parseConfig(pg(`url = "postgres://bot:${enc}@db:5432/x"`)).sources[0]);
    expect(decodeURIComponent(new URL(viaUrl as string).password)).toBe(SECRET);
    const viaParts = where(
      parseConfig(pg(`host = "db"\nuser = "bot"\npassword = ${JSON.stringify(SECRET)}`)).sources[0],
    );
    expect(decodeURIComponent(new URL(viaParts as string).password)).toBe(SECRET);
  });

  test("password_env reads the password from the environment, so the file holds none", async () => {
    process.env.CHATDB_TEST_PG_PASSWORD = SECRET;
    try {
      for (const lines of [
        'url = "postgres://bot@db:5432/x"\npassword_env = "CHATDB_TEST_PG_PASSWORD"',
        'host = "db"\nuser = "bot"\npassword_env = "CHATDB_TEST_PG_PASSWORD"',
      ]) {
        const url = where(parseConfig(pg(lines)).sources[0]) as string;
        expect(decodeURIComponent(new URL(url).password)).toBe(SECRET);
        expect(new URL(url).username).toBe("bot");
      }
      await rejects(
        pg('url = "postgres://bot:pw@db/x"\npassword_env = "CHATDB_TEST_PG_PASSWORD"'),
        "database.sources.pg.password_env",
      );
      await rejects(
        pg('host = "db"\npassword = "pw"\npassword_env = "CHATDB_TEST_PG_PASSWORD"'),
        "database.sources.pg.password_env",
      );
      expect(
        await rejects(
          pg('url = "postgres://bot@db/x"\npassword_env = "CHATDB_TEST_UNSET_VAR"'),
          "database.sources.pg.password_env",
        ),
      ).toContain("environment variable CHATDB_TEST_UNSET_VAR is not set");
      await rejects(
        pg('host = "db"\npassword_env = "not a name"'),
        "database.sources.pg.password_env",
      );
      await rejects(`${ONE}password_env = "X"\n`, "database.sources.a.password_env");
    } finally {
      delete process.env.CHATDB_TEST_PG_PASSWORD;
    }
  });

  test("a password of the wrong type is reported by its type, not its value", async () => {
    const message = await rejects(
      pg('host = "db"\npassword = 918273645'),
      "database.sources.pg.password",
    );
    expect(message).not.toContain("918273645");
  });
});
