/**
 * README.md's samples run as written. Every ```ts and ```toml block is preceded by a marker
 * comment saying what it is:
 *
 * - `<!-- file: NAME -->`: written to the folder as NAME;
 * - `<!-- append: NAME -->`: appended to NAME;
 * - `<!-- run: NAME -->`: saved as NAME.ts and run with Bun; it must exit 0 by itself;
 * - `<!-- run: NAME (long-lived) -->`: the same, but it runs until a signal: it gets SIGINT
 *   (or SIGTERM, alternately) once it has printed its lines, and must then exit 0 by itself;
 * - `<!-- fragment: why -->`: not run (a snippet, or a reference that needs a server).
 *
 * The blocks are applied in README order in one temp folder, as a reader following the README
 * would, with `chatdb` resolving to this checkout (node_modules/chatdb → the repository).
 * A run's stdout must be the `// prints: …` comments of its block, in order (`<n>` = a number),
 * and its stderr empty. Every ts block, fragments included, must also typecheck.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

interface Block {
  kind: "file" | "append" | "run" | "fragment" | "unmarked";
  /** The marker's argument: a file or run name, or a fragment's reason. */
  name: string;
  longLived: boolean;
  lang: string;
  body: string;
  line: number;
}

/** The README's ```ts and ```toml blocks with the marker on the line before each. */
function readmeBlocks(): Block[] {
  const lines = README.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)$/.exec(lines[i] as string);
    if (fence === null) continue;
    const end = lines.indexOf("```", i + 1);
    const lang = fence[1] as string;
    if (lang === "ts" || lang === "toml") {
      const marker = /^<!-- (file|append|run|fragment): (.+?)( \(long-lived\))? -->$/.exec(
        lines[i - 1] ?? "",
      );
      blocks.push({
        kind: (marker?.[1] as Block["kind"] | undefined) ?? "unmarked",
        name: marker?.[2] ?? "",
        longLived: marker?.[3] !== undefined,
        lang,
        body: `${lines.slice(i + 1, end).join("\n")}\n`,
        line: i + 1,
      });
    }
    i = end;
  }
  return blocks;
}

/** The stdout a run block says it prints, as one pattern. */
function expectedOutput(body: string): RegExp {
  const prints = [...body.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1] as string);
  const line = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("<n>", "\\d+");
  return new RegExp(`^${prints.map((p) => `${line(p)}\n`).join("")}$`);
}

/**
 * Runs `script` with Bun in `cwd`. A long-lived one is sent `signal` once it has printed
 * `lines` lines. Resolves to its stdout, stderr and exit code.
 */
async function runScript(
  script: string,
  cwd: string,
  longLived: { lines: number; signal: NodeJS.Signals } | null,
) {
  const proc = Bun.spawn([process.execPath, script], { cwd, stdout: "pipe", stderr: "pipe" });
  const err = new Response(proc.stderr).text();
  let out = "";
  const decoder = new TextDecoder();
  let signalled = false;
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  for await (const chunk of proc.stdout) {
    out += decoder.decode(chunk, { stream: true });
    if (longLived && !signalled && out.split("\n").length > longLived.lines) {
      signalled = true;
      proc.kill(longLived.signal);
    }
  }
  const code = await proc.exited;
  clearTimeout(timer);
  return { out, err: await err, code, signalled };
}

describe("README.md", () => {
  test("every ts and toml block is marked file, append, run or fragment", () => {
    const unmarked = readmeBlocks().filter((b) => b.kind === "unmarked");
    expect(unmarked.map((b) => `README.md:${b.line}`)).toEqual([]);
  });

  test("the Quickstart, hot reload and sidecar samples run as written, in order, in one folder", async () => {
    await using dir = tempDir("chatdb-readme-");
    mkdirSync(dir.file("node_modules"));
    symlinkSync(ROOT, dir.file("node_modules/chatdb"));

    const runs: string[] = [];
    let archiveBytes: Uint8Array | undefined;
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
    for (const block of readmeBlocks()) {
      if (block.kind === "file") writeFileSync(dir.file(block.name), block.body);
      if (block.kind === "append") appendFileSync(dir.file(block.name), block.body);
      if (block.kind !== "run") continue;
      runs.push(block.name);
      writeFileSync(dir.file(`${block.name}.ts`), block.body);
      const expected = expectedOutput(block.body);
      const lines = [...block.body.matchAll(/\/\/ prints: /g)].length;
      const signal = signals[runs.length % 2] as NodeJS.Signals;
      const result = await runScript(
        `${block.name}.ts`,
        dir.path,
        block.longLived ? { lines, signal } : null,
      );
      const where = `README.md:${block.line} (${block.name})`;
      expect({ where, ...result }).toMatchObject({
        where,
        err: "",
        code: 0,
        signalled: block.longLived,
      });
      expect(result.out).toMatch(expected);
      if (block.name === "make-archive") archiveBytes = readFileSync(dir.file("archive.db"));
    }
    expect(runs).toEqual(["make-archive", "bot", "own-sql", "reload", "sidecar"]);

    // The bot's refused write left the archive byte-identical, and no -wal/-shm next to it.
    expect(readFileSync(dir.file("archive.db"))).toEqual(Buffer.from(archiveBytes ?? []));
    expect(readdirSync(dir.path).filter((f) => f.startsWith("archive.db"))).toEqual(["archive.db"]);
    // What the bot wrote is in bot.db, and the sidecar's snapshot of it holds the same.
    for (const file of ["bot.db", "snapshots/bot.db"]) {
      const db = new Database(dir.file(file), { readonly: true });
      try {
        expect(db.query("SELECT chat_id, user_id, username FROM chat_users").all()).toEqual([
          { chat_id: -1001234567890, user_id: 42, username: "@ann" },
        ]);
        expect(db.query("SELECT count(*) AS n FROM chat_settings").get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
    }
  });

  test("its ts samples (run and fragment) typecheck under bun init's tsconfig", async () => {
    await using dir = tempDir("chatdb-readme-tsc-");
    symlinkSync(join(ROOT, "node_modules"), dir.file("node_modules")); // bun's types, grammY
    const files = readmeBlocks()
      .filter((b) => b.lang === "ts")
      .map((b, i) => {
        const file = `${b.kind === "run" ? b.name : `fragment-${i}`}.ts`;
        writeFileSync(dir.file(file), b.body);
        return file;
      });
    expect(files.length).toBeGreaterThanOrEqual(5);
    const tsconfig = JSON.parse(
      readFileSync(
        join(import.meta.dir, "integration/fixtures/consumer/tsconfig.bun-init.json"),
        "utf8",
      ),
    );
    tsconfig.compilerOptions.paths = { chatdb: [join(ROOT, "src/index.ts")] };
    tsconfig.files = files;
    writeFileSync(dir.file("tsconfig.json"), JSON.stringify(tsconfig));
    const tsc = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "-p", dir.path], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(`${tsc.stdout}${tsc.stderr}`).toBe("");
    expect(tsc.exitCode).toBe(0);
  });

  test("its reference configs are valid", () => {
    const fragments = readmeBlocks().filter((b) => b.kind === "fragment" && b.lang === "toml");
    const [full, pg] = fragments;
    expect(fragments).toHaveLength(2);
    const config = parseConfig(full?.body ?? "", { baseDir: "/srv/bot" });
    expect(config.sources.map((s) => `${s.name}:${s.mode}`)).toEqual([
      "primary:read-write",
      "archive:immutable",
      "other_bot:readonly",
      "analytics:read-write",
    ]);
    expect(config.sync).toHaveLength(1);
    // the Postgres snippet is one source table: give it the [database] around it
    const postgres = parseConfig(`[database]\n${pg?.body}`, { baseDir: "/srv/bot" });
    expect(postgres.sources[0]).toMatchObject({
      type: "postgres",
      readonly: true,
      maxConnections: 5,
    });
  });

  test("its commands (and the docs') need only Node and npm: npm run … or npx …, never bare bun", () => {
    const shell = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
      (m[1] as string).split("\n").filter((l) => l.trim() !== ""),
    );
    expect(shell.length).toBeGreaterThan(0);
    expect(shell.filter((l) => !/^(npm|npx) /.test(l))).toEqual([]);
    const docs = readdirSync(join(ROOT, "docs")).map((f) => `docs/${f}`);
    const bare = ["README.md", "examples/bot/README.md", ...docs].flatMap((file) =>
      [
        ...readFileSync(join(ROOT, file), "utf8").matchAll(
          /(?<!npx )`bun (?:run|test|scripts|examples|add)\b[^`]*`/g,
        ),
      ].map((m) => `${file}: ${m[0]}`),
    );
    expect(bare).toEqual([]);
  });
});
