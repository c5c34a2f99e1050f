#!/usr/bin/env bun
/**
 * Emits chatdb's declarations into dist/types (`npm run build`; `npm pack` runs it as prepack),
 * so a bot's `tsc` reads these instead of typechecking chatdb's sources under the bot's own
 * options. The sources import each other with `.ts` extensions (Bun runs them as they are);
 * in the declarations those become `.js`, which every moduleResolution (bundler, NodeNext,
 * node16) maps to the `.d.ts` next to it.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
const out = join(root, "dist", "types");
rmSync(out, { recursive: true, force: true });
const tsc = Bun.spawnSync(["tsc", "-p", join(root, "tsconfig.build.json")], {
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
});
if (tsc.exitCode !== 0) process.exit(tsc.exitCode ?? 1);

const relativeTs = /((?:from|import)\s*\(?\s*["'])(\.\.?\/[^"']+)\.ts(["'])/g;
let files = 0;
for (const entry of readdirSync(out, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
  const path = join(entry.parentPath, entry.name);
  const text = readFileSync(path, "utf8");
  const fixed = text.replace(relativeTs, "$1$2.js$3");
  if (fixed !== text) writeFileSync(path, fixed);
  files++;
}
console.log(`declarations: ${files} files in dist/types`);
