/**
 * For tests that run a child as another Unix user (daemon, nobody) through setpriv. Such a
 * child cannot read a checkout in a folder only its owner may enter (root's home, a
 * `mktemp -d`), so it gets a copy of what it runs — Bun, src/, the fixtures and chatdb's runtime
 * dependencies — in a world-readable temp folder, and that folder as its working directory.
 * Without root (setpriv cannot switch users) these tests are skipped, and the reason is printed.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const AS_ROOT = process.getuid?.() === 0;

const REASON =
  "needs root: the child runs as another Unix user (daemon/nobody) through setpriv; " +
  "run the suite as root (CI does) to test the other-user guarantees";

/** Prints, once per test file that has such tests, why they are skipped (non-root only). */
export function noteOtherUserSkip(file: string): void {
  if (!AS_ROOT) console.warn(`skipped other-user tests in ${file}: ${REASON}`);
}

const ROOT = join(import.meta.dir, "..", "..");
const DEPS = ["chokidar", "readdirp", "smol-toml", "valibot"];
let staged: { root: string; bun: string; fixtures: string; src: string } | undefined;

/** The world-readable copy (made once per test process, removed at exit). */
export function otherUserTree() {
  if (staged) return staged;
  const root = mkdtempSync(join(tmpdir(), "chatdb-other-user-"));
  process.on("exit", () => rmSync(root, { recursive: true, force: true }));
  cpSync(join(ROOT, "src"), join(root, "src"), { recursive: true });
  cpSync(
    join(ROOT, "test", "integration", "fixtures"),
    join(root, "test", "integration", "fixtures"),
    {
      recursive: true,
    },
  );
  cpSync(join(ROOT, "package.json"), join(root, "package.json"));
  for (const dep of DEPS) {
    cpSync(join(ROOT, "node_modules", dep), join(root, "node_modules", dep), { recursive: true });
  }
  mkdirSync(join(root, "bin"));
  cpSync(process.execPath, join(root, "bin", "bun"));
  Bun.spawnSync(["chmod", "-R", "a+rX", root]);
  chmodSync(root, 0o755);
  staged = {
    root,
    bun: join(root, "bin", "bun"),
    fixtures: join(root, "test", "integration", "fixtures"),
    src: join(root, "src"),
  };
  return staged;
}

/** `cmd` run as `user` (setpriv), with the staged Bun. */
export function asUser(user: "daemon" | "nobody", script: string, args: string[] = []): string[] {
  return [
    "setpriv",
    `--reuid=${user}`,
    `--regid=${user === "nobody" ? "nogroup" : user}`,
    "--clear-groups",
    otherUserTree().bun,
    script,
    ...args,
  ];
}

/** Spawn options for such a child: its cwd is the staged tree, HOME a readable folder. */
export const otherUserSpawn = () => ({
  cwd: otherUserTree().root,
  env: { ...process.env, HOME: "/tmp" },
});
