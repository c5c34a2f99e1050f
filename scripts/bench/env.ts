/**
 * The databases one bench run shares between suites, built once: the realistic database
 * (≥ 100k messages, 1k users, 100 chats) and its readonly and immutable twins.
 */
import { Database, type Statement } from "bun:sqlite";
import type { Generation } from "../../src/core.ts";
import { type DatabaseWrapper, parseConfig, type ResolvedConfig } from "../../src/index.ts";
import { openImmutable } from "../../src/sources/sqlite-file.ts";
import type { SqliteSource } from "../../src/sources/sqlite-source.ts";
import { benchDir, copyDatabase, generate, type Keys, REALISTIC, type Shape } from "./dataset.ts";

export interface BenchEnv {
  dir: ReturnType<typeof benchDir>;
  /** The realistic database, written by the method cases. */
  main: string;
  /** Checkpointed copies of `main` taken before any write, for the open-mode cases. */
  readonlyCopy: string;
  immutableCopy: string;
  keys: Keys;
  shape: Shape;
  /** Time to generate the realistic database, ms. */
  generateMs: number;
  [Symbol.dispose](): void;
}

export async function createEnv(shape: Shape = REALISTIC): Promise<BenchEnv> {
  const dir = benchDir();
  const main = dir.file("main.db");
  const t0 = performance.now();
  const keys = await generate(main, shape);
  const generateMs = performance.now() - t0;
  const readonlyCopy = dir.file("readonly.db");
  const immutableCopy = dir.file("immutable.db");
  copyDatabase(main, readonlyCopy);
  copyDatabase(main, immutableCopy);
  return {
    dir,
    main,
    readonlyCopy,
    immutableCopy,
    keys,
    shape,
    generateMs,
    [Symbol.dispose]: () => dir[Symbol.dispose](),
  };
}

/** A resolved config from TOML text with paths relative to `baseDir`. */
export const config = (toml: string, baseDir: string): ResolvedConfig =>
  parseConfig(toml, { baseDir, file: "bench.toml" });

/**
 * chatdb's own connection to a source. The bench reads its PRAGMAs (durability settings) from
 * the very connection the figures come from, so this reaches into the wrapper on purpose.
 */
export function connectionOf(db: DatabaseWrapper, source: string): Database {
  const gen = (db as unknown as { gen: Generation }).gen;
  return (gen.sources.get(source) as SqliteSource)._connection();
}

/** `journal_mode` and `synchronous` of a connection, as SQLite names them. */
export function durability(db: Database): { journalMode: string; synchronous: string } {
  const j = db.query("PRAGMA journal_mode").get() as { journal_mode: string };
  const s = db.query("PRAGMA synchronous").get() as { synchronous: number };
  const names = ["OFF", "NORMAL", "FULL", "EXTRA"];
  return {
    journalMode: j.journal_mode,
    synchronous: names[s.synchronous] ?? String(s.synchronous),
  };
}

/**
 * The baseline: a raw bun:sqlite connection opened the way chatdb opens a source of that mode,
 * with statements prepared once and finalized on close (no zombie connection keeps the file).
 */
export class RawDb {
  readonly db: Database;
  readonly #statements: Statement[] = [];

  constructor(path: string, mode: "read-write" | "readonly" | "immutable" = "read-write") {
    if (mode === "immutable") {
      this.db = openImmutable(path);
    } else if (mode === "readonly") {
      this.db = new Database(path, { readonly: true });
    } else {
      this.db = new Database(path, { readwrite: true });
      this.db.run("PRAGMA journal_mode = WAL");
    }
    this.db.run("PRAGMA busy_timeout = 30000");
  }

  prepare(sql: string): Statement {
    const st = this.db.prepare(sql);
    this.#statements.push(st);
    return st;
  }

  close(): void {
    for (const st of this.#statements) st.finalize();
    this.db.close();
  }
}
