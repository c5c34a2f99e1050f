/**
 * Session storage (`createSessionStorage`): grammY's read and write per call with 10k and 1M
 * sessions stored, next to the old way of reading one session (getCacheStorage: the whole
 * table, then a find) at 10k. Flat = the same µs per call at 10k and 1M: a read is one
 * primary-key lookup, a write one upsert.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSessionStorage, DatabaseWrapper } from "../../../src/index.ts";
import { keyCycle } from "../dataset.ts";
import { compare, fmtNs, type TimingOptions, type Variant } from "../harness.ts";
import type { Section } from "../report.ts";

export const SESSION_COUNTS = [10_000, 1_000_000] as const;

const SESSION = { step: "menu", count: 3, lang: "en", cart: [1, 2, 3] };

/** A bot database holding `n` sessions, written in one transaction by raw SQL. */
async function sessionsDb(dir: string, n: number): Promise<string> {
  const path = join(dir, `sessions-${n}.db`);
  await new DatabaseWrapper(path).close(); // chatdb's schema
  const raw = new Database(path);
  const insert = raw.prepare(
    "INSERT INTO cache_storage (namespace, key, value, updated_at) VALUES ('sessions', ?, ?, '2025-01-01 00:00:00.000')",
  );
  const value = JSON.stringify(SESSION);
  raw.transaction(() => {
    for (let k = 0; k < n; k++) insert.run(String(100_000_000 + k), value);
  })();
  raw.close();
  return path;
}

export async function sessionsSuite(
  t: TimingOptions,
  counts: readonly number[] = SESSION_COUNTS,
): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), "chatdb-bench-sessions-"));
  const rows: string[][] = [];
  const data: unknown[] = [];
  try {
    for (const n of counts) {
      const path = await sessionsDb(dir, n);
      const db = new DatabaseWrapper(path);
      try {
        const store = createSessionStorage<typeof SESSION>(db);
        const keys = Array.from({ length: Math.min(n, 100_000) }, (_, k) =>
          String(100_000_000 + Math.floor((k * n) / Math.min(n, 100_000))),
        );
        const key = keyCycle(keys, 5);
        const variants: Variant[] = [
          { name: "read", async: true, run: (i: number) => store.read(key(i)) },
          {
            name: "write",
            async: true,
            run: (i: number) => store.write(key(i), { ...SESSION, count: i }),
          },
        ];
        if (n <= 10_000) {
          variants.push({
            name: "whole namespace",
            async: true,
            run: (i: number) => {
              const k = key(i);
              return db.getCacheStorage().then((all) => all.find((e) => e.key === k));
            },
          });
        }
        const r = await compare(variants, { ...t, rounds: Math.min(t.rounds, 7) });
        const ns = (name: string) => r.variants.find((v) => v.name === name)?.nsPerOp;
        const whole = ns("whole namespace");
        rows.push([
          n.toLocaleString("en"),
          fmtNs(ns("read") ?? Number.NaN),
          fmtNs(ns("write") ?? Number.NaN),
          whole === undefined ? "—" : fmtNs(whole),
        ]);
        data.push({ sessions: n, ...r });
      } finally {
        await db.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: "Sessions: createSessionStorage read and write per call",
    note:
      "grammY's StorageAdapter on one WAL SQLite file (synchronous=FULL), a JSON session of ~60 bytes, keys spread over the table. " +
      "Last column: one session read by fetching the namespace with getCacheStorage (the way without the single-key query), 10k only.",
    head: ["sessions stored", "read", "write", "read via getCacheStorage"],
    rows,
    data,
  };
}
