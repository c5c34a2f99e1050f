/**
 * Replacing a file so that a crash or a concurrent reader never sees it half-written: write a
 * temp file in the target's folder, fsync it, `rename()` it over the target, fsync the folder.
 * Used by the snapshot publisher, the archive's immutable rebuild and the config edit.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/** `<folder>/.<base>.tmp-<pid>`: hidden, in the target's folder (rename never crosses devices). */
export function tempPathFor(to: string, pid = process.pid): string {
  return join(dirname(to), `.${basename(to)}.tmp-${pid}`);
}

/** fsync a file, or a folder (Linux allows fsync on a read-only folder descriptor). */
export function fsyncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a folder, so a rename or a new name in it survives a crash. */
export const fsyncDir: (path: string) => void = fsyncFile;

/**
 * Moves the complete file `temp` over `target`: fsync it (writers such as `VACUUM INTO` do not),
 * rename, fsync the folder. `temp` must be in `target`'s folder.
 */
export function replaceAtomically(temp: string, target: string): void {
  fsyncFile(temp);
  renameSync(temp, target);
  fsyncDir(dirname(target));
}

/**
 * Replaces `path` with `data` atomically; through a symlink the file it points to is replaced,
 * keeping its permission bits. On failure the temp file is removed and `path` is unchanged.
 */
export function writeFileAtomically(path: string, data: string | Uint8Array): void {
  let target = path;
  try {
    target = realpathSync(path); // edit the file a symlink points to, not the link
  } catch {}
  let mode = 0o644;
  try {
    mode = statSync(target).mode & 0o7777;
  } catch {}
  const temp = tempPathFor(target);
  try {
    rmSync(temp, { force: true });
    writeFileSync(temp, data, { mode, flag: "wx" });
    replaceAtomically(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}
