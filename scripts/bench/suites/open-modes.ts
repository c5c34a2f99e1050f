/**
 * Open modes: the same reads on a read-write source, a readonly one and an immutable one (three
 * copies of the realistic database), each through chatdb (`dataSource` picks the source) and raw
 * bun:sqlite opened the same way.
 */

import { DatabaseWrapper } from "../../../src/index.ts";
import { messages } from "../../../src/repositories/messages.ts";
import { users } from "../../../src/repositories/users.ts";
import { forLatest } from "../../../src/schema/migrate.ts";
import { keyCycle } from "../dataset.ts";
import { type BenchEnv, config, connectionOf, durability, RawDb } from "../env.ts";
import { compare, fmtNs, fmtRatio, type TimingOptions } from "../harness.ts";
import type { Section } from "../report.ts";

export const MODES = ["read-write", "readonly", "immutable"] as const;

export const openModesToml = (rw: string, ro: string, imm: string) => `
[database]
default_source = "rw"

[database.sources.rw]
path = ${JSON.stringify(rw)}

[database.sources.ro]
path = ${JSON.stringify(ro)}
readonly = true

[database.sources.imm]
path = ${JSON.stringify(imm)}
readonly = true
immutable = true
`;

export async function openModesSuite(env: BenchEnv, t: TimingOptions): Promise<Section> {
  const paths = {
    "read-write": env.main,
    readonly: env.readonlyCopy,
    immutable: env.immutableCopy,
  };
  const names = { "read-write": "rw", readonly: "ro", immutable: "imm" } as const;
  const db = new DatabaseWrapper({
    config: config(openModesToml(env.main, env.readonlyCopy, env.immutableCopy), env.dir.path),
  });
  const raws = MODES.map((m) => new RawDb(paths[m], m));
  try {
    const msg = keyCycle(env.keys.messages, 31);
    const member = keyCycle(env.keys.members, 32);
    const reads = [
      {
        method: "getChatMessageByMessageId",
        sql: forLatest(messages.byId).sql,
        key: msg,
        call: (dataSource: string, i: number) =>
          db.getChatMessageByMessageId(...msg(i), { dataSource }),
      },
      {
        method: "getChatUser",
        sql: forLatest(users.get).sql,
        key: member,
        call: (dataSource: string, i: number) => db.getChatUser(...member(i), { dataSource }),
      },
    ];
    const rows: string[][] = [];
    const data: unknown[] = [];
    for (const read of reads) {
      const statements = raws.map((r) => r.prepare(read.sql));
      const r = await compare(
        MODES.flatMap((mode, k) => [
          {
            name: `raw ${mode}`,
            run: (i: number) => (statements[k] as ReturnType<RawDb["prepare"]>).get(...read.key(i)),
          },
          { name: `chatdb ${mode}`, async: true, run: (i: number) => read.call(names[mode], i) },
        ]),
        t,
      );
      const ns = (name: string) => r.variants.find((v) => v.name === name)?.nsPerOp ?? Number.NaN;
      const ratio = (name: string) => r.ratios[name] as number;
      for (const mode of MODES) {
        const d = durability(connectionOf(db, names[mode]));
        rows.push([
          read.method,
          mode,
          fmtNs(ns(`raw ${mode}`)),
          fmtNs(ns(`chatdb ${mode}`)),
          fmtRatio(ratio(`chatdb ${mode}`) / ratio(`raw ${mode}`)),
          fmtRatio(ratio(`raw ${mode}`)),
          `${d.journalMode}/${d.synchronous}`,
        ]);
      }
      data.push({ method: read.method, ...r });
    }
    return {
      title: "Open modes: the same read on read-write, readonly and immutable sources",
      note: "Three copies of the realistic database. ratio = chatdb ÷ raw opened the same way; raw vs read-write = that mode's raw ÷ read-write raw.",
      textColumns: 2,
      head: [
        "method",
        "mode",
        "raw query",
        "chatdb",
        "ratio",
        "raw vs read-write",
        "journal/synchronous",
      ],
      rows,
      data,
    };
  } finally {
    for (const r of raws) r.close();
    await db.close();
  }
}
