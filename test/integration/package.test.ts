/**
 * What a bot author does: `npm pack` chatdb, install the tarball into a fresh bot project, then
 * typecheck a program under bun init's tsconfig, NodeNext (with lib checking on) and bun init's
 * stricter flags, run it with Bun, and run `npx chatdb check` through the installed bin.
 * The install prefers the npm cache (`npm ci` filled it), so it is normally offline.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import lock from "../../package-lock.json";
import { tempDir } from "../helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");
const FIXTURE = join(import.meta.dir, "fixtures", "consumer");
const BIN = join(ROOT, "node_modules", ".bin");
const TSC = join(BIN, "tsc");
/** Bun and node_modules/.bin first on PATH, as after `npm install bun` in the bot project. */
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${BIN}:${process.env.PATH}` };
const typesBun = (lock.packages as Record<string, { version: string }>)["node_modules/@types/bun"]
  ?.version;

function run(cmd: string[], cwd: string) {
  const p = Bun.spawnSync(cmd, { cwd, env, stdout: "pipe", stderr: "pipe" });
  const out = `${p.stdout.toString()}${p.stderr.toString()}`;
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${p.exitCode}:\n${out}`);
  return p.stdout.toString();
}

describe("the packed package in a fresh bot project", () => {
  test("installs, typechecks under three tsconfigs, runs with Bun, and its bin checks a config", () => {
    using dir = tempDir("chatdb-pack-");
    run(["npm", "pack", "--silent", "--pack-destination", dir.path], ROOT);
    const tarball = readdirSync(dir.path).find((f) => f.endsWith(".tgz")) as string;
    expect(tarball).toBe(
      `chatdb-${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version}.tgz`,
    );

    const bot = join(dir.path, "bot");
    cpSync(FIXTURE, bot, { recursive: true });
    writeFileSync(
      join(bot, "package.json"),
      JSON.stringify({ name: "bot", private: true, type: "module" }),
    );
    run(
      [
        "npm",
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--silent",
        join(dir.path, tarball),
        `@types/bun@${typesBun}`,
      ],
      bot,
    );
    const pkg = join(bot, "node_modules", "chatdb");
    expect(existsSync(join(pkg, "dist", "types", "index.d.ts"))).toBe(true);
    expect(existsSync(join(pkg, "LICENSE"))).toBe(true);
    expect(existsSync(join(pkg, "scripts", "bench"))).toBe(false);
    expect(existsSync(join(pkg, "scripts", "soak"))).toBe(false);
    // only the library's own dependencies came along, not its dev tools
    expect(existsSync(join(bot, "node_modules", "typescript"))).toBe(false);
    expect(existsSync(join(bot, "node_modules", "@biomejs"))).toBe(false);

    for (const config of ["bun-init", "nodenext", "strict"]) {
      expect([config, run([TSC, "-p", `tsconfig.${config}.json`], bot)]).toEqual([config, ""]);
    }
    const out = run([process.execPath, "bot.ts"], bot);
    expect(JSON.parse(out)).toEqual({
      count: 1,
      user: "Ann",
      from: "primary",
      refused: "READONLY_SOURCE",
    });
    const check = run(["npx", "--no-install", "chatdb", "check", "bot.toml", "--json"], bot);
    expect(JSON.parse(check).ok).toBe(true);
  }, 120_000);
});
