/**
 * No password in any output. Runs every path that prints or emits config (the logger, every
 * event, health(), explain(), every CLI command in text and --json, and every error a bad or
 * unreachable PostgreSQL config produces) with passwords holding `@ : / % #`, given in a URL
 * (percent-encoded, and with a bare `@`), as the `password` key and through `password_env`, and
 * checks that no form of any password appears anywhere in what was captured.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { withPassword } from "../../src/config/postgres-url.ts";
import { DatabaseWrapper, type Logger, loadConfig, parseConfig } from "../../src/index.ts";
import { nextEvent, tempDir, waitFor, writeConfig } from "../helpers.ts";
import {
  closePgAdmin,
  PG_URL,
  pgProxy,
  pgSchema,
  pgSourceConfig,
  runPg,
  withParam,
} from "../pg.ts";
import { CLI } from "./sidecar-helpers.ts";

/** The brief's password, in a working source's URL (trust auth ignores it). */
const PW_URL = "p@ss:w/o%rd#1";
/** Each segment is a marker: a mask that stops early (at the first `@`, say) shows one. */
const PW_DOWN = "sEcA@sEcB:sEcC/sEcD%sEcE#sEcF";
const PW_KEY = "kEyA@kEyB:kEyC/kEyD%kEyE#kEyF";
const PW_ENV = "eNvA@eNvB:eNvC/eNvD%eNvE#eNvF";
/** Written into the URL with a bare `@`: the parser (and the client) split at the last one. */
const PW_BARE = "rAwA@rAwB";
/** As a `password=` query parameter. */
const PW_QUERY = "qPaA@qPaB:qPaC/qPaD%qPaE#qPaF";
const ENV_VAR = "CHATDB_SECRETS_TEST_PW";

/** Every spelling of every password that must never be printed. */
const FORBIDDEN = [
  ...new Set(
    [PW_URL, PW_DOWN, PW_KEY, PW_ENV, PW_BARE, PW_QUERY].flatMap((pw) => {
      const u = new URL("postgres://u@h/x");
      u.password = pw;
      return [pw, encodeURIComponent(pw), u.password, encodeURI(pw), pw.split("@").pop() as string];
    }),
  ),
  ...["sEc", "kEy", "eNv", "rAw", "qPa"].flatMap((m) =>
    ["A", "B", "C", "D", "E", "F"].map((x) => m + x),
  ),
].filter((f) => f.length >= 4);

/** What a test printed, emitted or threw, by where it came from. */
type Captured = { where: string; text: string }[];

/** Every forbidden string found, with where and a little context. */
function leaks(captured: Captured): string[] {
  const found: string[] = [];
  for (const { where, text } of captured) {
    for (const f of FORBIDDEN) {
      const at = text.indexOf(f);
      if (at !== -1)
        found.push(
          `${where}: ${JSON.stringify(f)} in …${text.slice(Math.max(0, at - 60), at + 60)}…`,
        );
    }
  }
  return found;
}

/** JSON (errors expanded: message, stack, cause and own fields) plus what console.log shows. */
function dump(value: unknown): string {
  const seen = new WeakSet<object>();
  const json = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === "bigint") return String(v);
    if (v instanceof Map) return Object.fromEntries(v);
    if (v instanceof Set) return [...v];
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[seen]";
      seen.add(v);
      if (v instanceof Error) {
        return {
          ...v,
          name: v.name,
          message: v.message,
          stack: v.stack,
          cause: v.cause,
          str: String(v),
        };
      }
    }
    return v;
  });
  return `${json}\n${Bun.inspect(value, { depth: 12 })}`;
}

/** A logger that keeps every call, message and data. */
function capturingLogger(captured: Captured): Logger {
  const keep = (level: string) => (message: string, data?: Record<string, unknown>) =>
    captured.push({ where: `logger.${level}`, text: dump({ message, data }) });
  return { debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error") };
}

/** Runs `fn` and records what it returned or threw. */
async function record(captured: Captured, where: string, fn: () => unknown): Promise<unknown> {
  try {
    const value = await fn();
    captured.push({ where, text: dump(value) });
    return value;
  } catch (e) {
    captured.push({ where: `${where} threw`, text: dump(e) });
    return e;
  }
}

/** Listeners on a port that is open but never speaks PostgreSQL: one closes each connection at once, one stays mute. */
async function fakeServer(behaviour: "close" | "mute") {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    if (behaviour === "close") s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Saves like an editor: write a temp file next to it, rename it over. */
function saveAtomic(path: string, text: string) {
  writeFileSync(`${path}.swp`, text);
  renameSync(`${path}.swp`, path);
}

/** The server's URL parts, for the host/port/user/password/database form. */
const server = new URL(PG_URL);

/** The config: five PostgreSQL sources, each with its password given another way. */
function goodToml(urls: { pg: string; env: string; closePort: number; mutePort: number }) {
  return `[database]
default_source = "pg"

[database.sources.pg]        # working, password in the url (percent-encoded)
type = "postgres"
url = "${urls.pg}"

[database.sources.pgkey]     # working, password as its own key
type = "postgres"
host = "${server.hostname}"
port = ${Number(server.port || 5432)}
user = "${decodeURIComponent(server.username) || "postgres"}"
password = ${JSON.stringify(PW_KEY)}
database = "${decodeURIComponent(server.pathname.slice(1))}"
readonly = true

[database.sources.envpg]     # working through a relay, password from the environment
type = "postgres"
url = "${urls.env}"
password_env = "${ENV_VAR}"

[database.sources.down]      # nothing listens
type = "postgres"
url = "postgres://postgres:${encodeURIComponent(PW_DOWN)}@127.0.0.1:1/test"
timeout = 1

[database.sources.gone]      # accepts and hangs up; a bare @ in the password
type = "postgres"
url = "postgres://postgres:${PW_BARE}@127.0.0.1:${urls.closePort}/test"
timeout = 1

[database.sources.mute]      # accepts and never answers
type = "postgres"
url = "postgres://postgres:${encodeURIComponent(PW_DOWN)}@127.0.0.1:${urls.mutePort}/mute"
timeout = 1

[database.sources.query]     # nothing listens; the password as a query parameter
type = "postgres"
url = "postgres://postgres@127.0.0.1:1/test?sslmode=disable&password=${encodeURIComponent(PW_QUERY)}"
timeout = 1

[database.sources.local]     # SQLite, for archive
path = "local.db"

[database.chat_mapping]
1 = "down"
2 = "gone"
3 = "mute"
4 = "pgkey"
5 = "envpg"
`;
}

/** Configs that fail validation, each with a password in it. */
const BAD_TOMLS: Record<string, string> = {
  // the password written as is: `/` ends the authority, so the port is "w" — not a URL
  unparsable: `[database.sources.pg]\ntype = "postgres"\nurl = "postgres://postgres:${PW_URL}@127.0.0.1:5432/test"\n`,
  rawMarkers: `[database.sources.pg]\ntype = "postgres"\nurl = "postgres://postgres:${PW_DOWN}@127.0.0.1:5432/test"\n`,
  badEscape: `[database.sources.pg]\ntype = "postgres"\nurl = "postgres://postgres:${encodeURIComponent(PW_KEY).replace("%25", "%")}@127.0.0.1:5432/test"\n`,
  wrongType: `[database.sources.pg]\ntype = "postgres"\nurl = ["postgres://postgres:${encodeURIComponent(PW_URL)}@127.0.0.1:5432/test"]\n`,
  passwordType: `[database.sources.pg]\ntype = "postgres"\nhost = "127.0.0.1"\nuser = "postgres"\npassword = [${JSON.stringify(PW_KEY)}]\n`,
  envAndUrl: `[database.sources.pg]\ntype = "postgres"\nurl = "postgres://postgres:${encodeURIComponent(PW_URL)}@127.0.0.1:5432/test"\npassword_env = "${ENV_VAR}"\n`,
  envUnset: `[database.sources.pg]\ntype = "postgres"\nurl = "postgres://postgres@127.0.0.1:5432/test"\npassword_env = "CHATDB_SECRETS_TEST_UNSET"\n`,
  sqliteWithPassword: `[database.sources.pg]\npath = "x.db"\npassword = ${JSON.stringify(PW_KEY)}\n`,
  unknownKey: `[database.sources.pg]\ntype = "postgres"\nurl = "postgres://postgres:${encodeURIComponent(PW_URL)}@127.0.0.1:5432/test"\npasword = ${JSON.stringify(PW_KEY)}\n`,
  tomlSyntax: `[database.sources.pg]\ntype = "postgres"\nurl = "postgres://postgres:${encodeURIComponent(PW_URL)}@127.0.0.1:5432/test\n`,
};

/** Runs the real `chatdb` (CHATDB_DEBUG on: it prints non-chatdb errors in full). */
async function chatdb(captured: Captured, args: string[]) {
  const p = Bun.spawn([process.execPath, CLI, ...args], {
    env: { ...process.env, [ENV_VAR]: PW_ENV, CHATDB_DEBUG: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  captured.push({ where: `chatdb ${args.join(" ")} (exit ${code})`, text: `${out}\n${err}` });
  return { code, out, err };
}

afterAll(closePgAdmin);

describe.skipIf(!runPg)("secrets: no password in any output", () => {
  test("library: logger, every event, health(), explain(), call errors, reloads good and bad", async () => {
    await using dir = tempDir();
    await using a = await pgSchema();
    await using b = await pgSchema();
    await using proxy = await pgProxy();
    await using closer = await fakeServer("close");
    await using mute = await fakeServer("mute");
    process.env[ENV_VAR] = PW_ENV;
    const urls = {
      pg: withPassword(a.url, PW_URL),
      env: withParam(proxy.url, "search_path", b.name),
      closePort: closer.port,
      mutePort: mute.port,
    };
    const toml = goodToml(urls);
    const configPath = writeConfig(dir.path, toml);
    const captured: Captured = [];
    // the config itself holds the passwords (it is what connects); its redacted forms must not
    const config = loadConfig(configPath);
    const envpg = config.sources.find((s) => s.name === "envpg");
    expect(envpg?.type === "postgres" && envpg.url).toContain(encodeURIComponent(PW_ENV));

    const db = new DatabaseWrapper({
      configPath,
      watch: true,
      debounceMs: 10,
      pollMs: 100,
      logger: capturingLogger(captured),
    });
    for (const event of ["reload", "reloadError", "sourceError", "sourceReopened"] as const) {
      db.on(event, (payload: unknown) =>
        captured.push({ where: `event ${event}`, text: dump(payload) }),
      );
    }
    await db.watch();
    await record(captured, "health() at start", () => db.health());

    // every route, read and write, and the aggregated reads (which skip and report what is down)
    for (const chatId of [undefined, 0, 1, 2, 3, 4, 5]) {
      for (const write of [false, true]) {
        await record(captured, `explain ${chatId} ${write}`, () => db.explain({ chatId, write }));
      }
      const id = chatId ?? 0;
      await record(captured, `read ${id}`, () => db.getChatSettings(id));
      await record(captured, `write ${id}`, () => db.setChatSetting(id, "lang", "en"));
    }
    for (const dataSource of ["pg", "pgkey", "envpg", "down", "gone", "mute", "query", "nowhere"]) {
      await record(captured, `explain dataSource ${dataSource}`, () => db.explain({ dataSource }));
      await record(captured, `read dataSource ${dataSource}`, () =>
        db.getAllGroupChats({ dataSource }),
      );
    }
    await record(captured, "aggregate", () => db.getAllGroupChats());
    await record(captured, "aggregate strict", () => db.getAllGroupChats({ strict: true }));
    const health = (await record(captured, "health() after calls", () =>
      db.health(),
    )) as ReturnType<typeof db.health>;
    const state = Object.fromEntries(health.sources.map((s) => [s.name, s.state]));
    expect(state).toMatchObject({
      pg: "ok",
      envpg: "ok",
      down: "unavailable",
      gone: "unavailable",
    });
    // masked, not left out
    expect(health.sources.find((s) => s.name === "down")?.reason).toContain(
      "postgres://postgres:***@127.0.0.1:1/test",
    );

    // applied reloads: a mapping change, then a changed password (the source is reopened)
    let reload = nextEvent<{ config: { sources: { name: string; url: string }[] } }>(db, "reload");
    saveAtomic(configPath, `${toml}6 = "pg"\n`);
    const first = await reload;
    expect(first.config.sources.find((s) => s.name === "pg")?.url).toContain(":***@");
    reload = nextEvent(db, "reload");
    const changed = toml.replace(urls.pg, withPassword(a.url, PW_DOWN));
    saveAtomic(configPath, changed);
    expect((await reload).config.sources.find((s) => s.name === "pg")?.url).toContain(":***@");

    // rejected reloads: every bad config, each reported and logged; the last good one stays
    for (const [name, bad] of Object.entries(BAD_TOMLS)) {
      const rejected = nextEvent<{ error: { code: string } }>(db, "reloadError");
      saveAtomic(configPath, bad);
      expect(["CONFIG_INVALID", "CONFIG_PARSE"]).toContain((await rejected).error.code);
      await record(captured, `reload() ${name}`, () => db.reload());
    }

    // the relay goes away under a working source: its calls fail, its health says why
    await proxy.stop();
    await record(captured, "read envpg after stop", () => db.getChatSettings(5));
    await waitFor("envpg unavailable", async () => {
      await record(captured, "read envpg while down", () => db.getChatSettings(5));
      return db.health().sources.find((s) => s.name === "envpg")?.state === "unavailable";
    });
    await record(captured, "health() with envpg down", () => db.health());
    await db.close();
    await record(captured, "read after close", () => db.getChatSettings(0));

    // constructor and parse errors for each bad config; a hand-built config validation never saw
    for (const [name, bad] of Object.entries(BAD_TOMLS)) {
      const path = writeConfig(dir.path, bad, `${name}.toml`);
      await record(
        captured,
        `constructor ${name}`,
        () => new DatabaseWrapper({ configPath: path }),
      );
      await record(captured, `parseConfig ${name}`, () => parseConfig(bad, { baseDir: dir.path }));
    }
    const handBuilt = {
      ...config,
      sources: [pgSourceConfig("pg", `postgres://postgres:${PW_URL}@127.0.0.1:5432/test`)],
    };
    const hb = (await record(captured, "constructor hand-built", async () => {
      const w = new DatabaseWrapper({ config: handBuilt, logger: capturingLogger(captured) });
      await record(captured, "hand-built read", () => w.getChatSettings(0));
      await record(captured, "hand-built health", () => w.health());
      return w;
    })) as DatabaseWrapper | Error;
    if (hb instanceof DatabaseWrapper) await hb.close();

    expect(captured.filter((c) => c.where.startsWith("logger.")).length).toBeGreaterThan(0);
    // each bad file twice: seen by the watcher, then asked for with reload()
    expect(captured.filter((c) => c.where === "event reloadError").length).toBe(
      2 * Object.keys(BAD_TOMLS).length,
    );
    expect(leaks(captured)).toEqual([]);
  }, 60_000);

  test("CLI: every command, text and --json, on working, unreachable and invalid configs", async () => {
    await using dir = tempDir();
    await using a = await pgSchema();
    await using b = await pgSchema();
    await using proxy = await pgProxy();
    await using closer = await fakeServer("close");
    await using mute = await fakeServer("mute");
    const configPath = writeConfig(
      dir.path,
      goodToml({
        pg: withPassword(a.url, PW_URL),
        env: withParam(proxy.url, "search_path", b.name),
        closePort: closer.port,
        mutePort: mute.port,
      }),
    );
    const captured: Captured = [];
    const c = configPath;
    {
      // pg and envpg migrated by the library, so check shows a schema and row counts
      process.env[ENV_VAR] = PW_ENV;
      await using db = new DatabaseWrapper({ configPath: c });
      await db.setChatSetting(0, "lang", "en");
      await db.setChatSetting(5, "lang", "en");
    }
    await chatdb(captured, ["--help"]);
    await chatdb(captured, ["migrate", c]);
    const check = await chatdb(captured, ["check", c, "--json"]);
    const report = JSON.parse(check.out) as { sources: { name: string; state: string }[] };
    expect(Object.fromEntries(report.sources.map((s) => [s.name, s.state]))).toMatchObject({
      pg: "ok",
      envpg: "ok",
      down: "unavailable",
      gone: "unavailable",
      mute: "unavailable",
    });
    // masked, not left out
    expect(check.out).toContain("source down (postgres://postgres:***@127.0.0.1:1/test)");
    for (const json of [[], ["--json"]]) {
      await chatdb(captured, ["check", c, ...json]);
      await chatdb(captured, ["status", c, ...json]);
      await chatdb(captured, ["explain", c, ...json]);
      for (const chat of ["1", "2", "3", "4", "5", "-7"]) {
        await chatdb(captured, ["explain", c, "--chat", chat, "--write", ...json]);
      }
      await chatdb(captured, ["explain", c, "--source", "down", ...json]);
      await chatdb(captured, ["explain", c, "--source", "nowhere", ...json]);
      await chatdb(captured, ["migrate", c, ...json]); // --json: a usage error
    }
    await chatdb(captured, ["archive", c, "--chat", "5", "--from", "envpg", "--to", "local"]);
    await chatdb(captured, ["archive", c, "--chat", "1", "--to", "local"]);
    for (const to of ["pg", "pgkey", "down"]) {
      await chatdb(captured, ["archive", c, "--chat", "5", "--to", to]);
      await chatdb(captured, ["archive", c, "--chat", "1", "--from", "down", "--to", to]);
    }
    await chatdb(captured, ["sync", c, "--once"]);
    await proxy.stop();
    await chatdb(captured, ["status", c, "--json"]);
    await chatdb(captured, ["check", c]);

    for (const [name, bad] of Object.entries(BAD_TOMLS)) {
      const path = writeConfig(dir.path, bad, `${name}.toml`);
      for (const args of [
        ["check", path],
        ["check", path, "--json"],
        ["status", path, "--json"],
        ["explain", path, "--json"],
        ["migrate", path],
        ["archive", path, "--chat", "1", "--to", "pg"],
        ["sync", path, "--once"],
      ]) {
        const r = await chatdb(captured, args);
        expect(r.code).toBe(1);
      }
    }
    expect(leaks(captured)).toEqual([]);
  }, 120_000);
});
