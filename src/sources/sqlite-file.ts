/**
 * A SQLite file on disk, apart from any connection to it: its identity (and how to tell a
 * replaced file from one changed in place), what kind of thing is at its path, what its header
 * and `-wal`/`-shm` say, and the URI each readonly open uses. The source, the sidecar's
 * publisher, the config watcher and the CLI all look at files through this module (the
 * measured reasons are in docs/sqlite-live-sources.md).
 */
import { constants, Database } from "bun:sqlite";
import {
  accessSync,
  closeSync,
  existsSync,
  constants as fsc,
  fstatSync,
  openSync,
  readSync,
  type Stats,
  statSync,
} from "node:fs";
import { dirname } from "node:path";
import { DatabaseError } from "../errors.ts";

/** Device + inode (+ size and mtime): tells a replaced file from one changed in place. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * What happened to a file between two looks: `replaced` (another inode, or it appeared),
 * `changed-in-place` (same inode, other size or mtime), `missing` (no regular file there now).
 */
export type FileChange = "same" | "replaced" | "changed-in-place" | "missing";

/** The one rule for "was this file replaced?": `was`/`now` from {@link identityOf}. */
export function changeOf(was: FileIdentity | null, now: FileIdentity | null): FileChange {
  if (now === null) return "missing";
  if (was === null || was.dev !== now.dev || was.ino !== now.ino) return "replaced";
  if (was.size !== now.size || was.mtimeMs !== now.mtimeMs) return "changed-in-place";
  return "same";
}

/**
 * The identity of the regular file at `path`, or why there is none: stat's error code
 * (ENOENT, EACCES…) or what else is there ("a FIFO, not a regular file").
 */
export function statFile(path: string): FileIdentity | string {
  try {
    const s = statSync(path);
    const kind = fileKind(s);
    if (kind !== "file") return `${kind}, not a regular file`;
    return { dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** The identity of the regular file at `path`, or null when there is none. */
export function identityOf(path: string): FileIdentity | null {
  const id = statFile(path);
  return typeof id === "string" ? null : id;
}

/** "file", or what else is at a path, in words. */
export function fileKind(s: Stats): string {
  if (s.isFile()) return "file";
  if (s.isDirectory()) return "a directory";
  if (s.isFIFO()) return "a FIFO";
  if (s.isSocket()) return "a socket";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  return "not a file";
}

/**
 * Refuses, before SQLite opens it, a path that is not a regular file: opening a FIFO blocks
 * forever, and a device would get a `-journal` created beside it. Without `mayCreate` a
 * missing file is refused too (readonly modes never create one; SQLite's own error is vague).
 */
export function assertRegularFile(source: string, path: string, mayCreate: boolean): void {
  let kind: string;
  try {
    kind = fileKind(statSync(path));
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT" && mayCreate) return;
    const why = (e as { code?: string }).code === "ENOENT" ? "does not exist" : String(e);
    throw new DatabaseError("SOURCE_UNAVAILABLE", `source ${source}: file ${path} ${why}`, {
      source,
      cause: e,
    });
  }
  if (kind !== "file") {
    throw new DatabaseError(
      "SOURCE_UNAVAILABLE",
      `source ${source}: ${path} is ${kind}, not a regular file: refused before opening`,
      { source },
    );
  }
}

/**
 * The permission hazard of docs/sqlite-live-sources.md: a reader running as another
 * (non-root) user opening a WAL database whose `-wal`/`-shm` do not exist creates them owned
 * by itself, and the owner's next write fails with SQLITE_READONLY. Returns why the open is
 * refused, or undefined when it is safe.
 */
export function foreignWalHazard(path: string, uid = process.getuid?.()): string | undefined {
  if (uid === undefined || uid === 0) return undefined; // root: SQLite chowns them to the owner
  const st = statSync(path);
  if (st.uid === uid || !isWalFile(path)) return undefined;
  if (existsSync(`${path}-wal`) && existsSync(`${path}-shm`)) return undefined;
  let dirWritable = true;
  try {
    accessSync(dirname(path), fsc.W_OK);
  } catch {
    dirWritable = false;
  }
  return dirWritable
    ? `${path} is a WAL database owned by uid ${st.uid}; opening it as uid ${uid} would create -wal/-shm owned by uid ${uid} and break its owner's writes. Read a snapshot published by the sidecar instead ([sync.NAME] + \`chatdb sync\`, source immutable = true)`
    : `${path} is a WAL database of uid ${st.uid} in a folder uid ${uid} cannot write, and its -shm is missing: SQLite cannot open it readonly. Read a snapshot published by the sidecar instead ([sync.NAME] + \`chatdb sync\`)`;
}

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0");

/** Up to the first `n` bytes of the file (fewer if it is shorter); null when it cannot be opened. */
function readHead(path: string, n: number): Buffer | null {
  const head = Buffer.alloc(n);
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    return head.subarray(0, readSync(fd, head, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** The file starts with SQLite's magic string (a live database never shrinks to 0 bytes either). */
export function hasSqliteHeader(path: string): boolean {
  // gone or unreadable: the next check's stat reports that
  return readHead(path, 16)?.equals(SQLITE_MAGIC) ?? true;
}

/**
 * The journal mode the file's header records, read without opening it as a database: the
 * read/write format versions (bytes 18 and 19) are 2 in WAL mode, 1 with a rollback journal.
 * Null when the file cannot be read or is no database.
 */
export function headerJournalMode(path: string): "wal" | "rollback" | null {
  const head = readHead(path, 20);
  if (head === null || head.length < 20) return null;
  return head[18] === 2 && head[19] === 2 ? "wal" : head[18] === 1 ? "rollback" : null;
}

/** The file is a database in WAL mode (by its header). */
export const isWalFile = (path: string): boolean => headerJournalMode(path) === "wal";

/**
 * A WAL database nobody has open (its `-wal` or `-shm` is missing): a readonly open would
 * create them, so it is read immutable instead (nobody writes it right now).
 */
export const isIdleWal = (path: string): boolean =>
  isWalFile(path) && (!existsSync(`${path}-wal`) || !existsSync(`${path}-shm`));

/**
 * `file:` URI opening `path` readonly: `immutable` (no locks, no `-wal`/`-shm`: a frozen
 * file) or `ro` (a live file, read through its WAL). Characters meaningful in URIs are
 * percent-encoded.
 */
export function fileUri(path: string, mode: "immutable" | "ro" = "immutable"): string {
  return `file:${encodeURI(path).replace(/\?/g, "%3F").replace(/#/g, "%23")}?${mode === "immutable" ? "immutable=1" : "mode=ro"}`;
}

/** `file:` URI for an immutable open (see {@link fileUri}). */
export const immutableUri = (path: string): string => fileUri(path, "immutable");

/** Opens `path` immutable (see {@link fileUri}): for frozen archives and snapshots. */
export function openImmutable(path: string): Database {
  return new Database(
    immutableUri(path),
    constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI,
  );
}
