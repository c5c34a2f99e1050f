/** `migrate`, `archive` and `sync`: the commands that write. */
import { type ArchiveCheckpoint, archiveChats } from "../archive/archive-chat.ts";
import type { ResolvedConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import type { MigrationReport } from "../schema/migrate.ts";
import { SqliteSource } from "../sources/sqlite-source.ts";
import { Sidecar } from "../sync/sidecar.ts";
import { EXIT, Progress, table } from "./output.ts";

/** `migrate`: each writable SQLite source to the latest schema, one line per step. */
export async function migrate(config: ResolvedConfig): Promise<number> {
  let failed = 0;
  for (const s of config.sources) {
    const head = `${s.name}:`;
    if (s.type !== "sqlite") {
      process.stdout.write(`${head} skipped (${s.type} is not migrated by this build)\n`);
      continue;
    }
    if (s.path === ":memory:") {
      process.stdout.write(`${head} skipped (in-memory)\n`);
      continue;
    }
    if (s.readonly) {
      process.stdout.write(`${head} skipped (${s.mode}: never migrated)\n`);
      continue;
    }
    try {
      // The library's read-write open: busy_timeout, WAL, each migration under BEGIN IMMEDIATE.
      const source = new SqliteSource(s);
      // locked by the bot (or another replica): the open waits off the thread, up to timeout
      await source.ready().catch(async (e: unknown) => {
        await source.close();
        throw e;
      });
      // a large file's indexes are built by a worker: this command waits for them
      const indexes = await source._indexing;
      const report = source.migration as MigrationReport;
      await source.close();
      if (indexes) {
        process.stdout.write(
          `${head} built ${indexes.created.length} indexes in ${(indexes.ms / 1000).toFixed(1)} s${indexes.failed ? `, then stopped: ${indexes.failed}` : ""}\n`,
        );
      }
      for (const step of report.applied) {
        process.stdout.write(`${head} applied ${step.version} (${step.name})\n`);
      }
      process.stdout.write(
        report.applied.length === 0
          ? `${head} up to date (version ${report.to})\n`
          : `${head} version ${report.from === 0 ? "none" : report.from} → ${report.to}\n`,
      );
    } catch (e) {
      failed++;
      const code = e instanceof DatabaseError ? e.code : "QUERY_FAILED";
      process.stderr.write(`${head} error ${code}: ${(e as Error).message}\n`);
    }
  }
  return failed === 0 ? EXIT.ok : EXIT.problems;
}

/** `archive`: move chats into an archive source (see src/archive/archive-chat.ts). */
export function archive(
  config: ResolvedConfig,
  args: {
    chats: number[] | undefined;
    inactiveDays: number | undefined;
    to: string;
    from: string | undefined;
    delete: boolean;
    force: boolean;
    vacuum: boolean;
  },
): number {
  const progress = new Progress();
  // Test hook: CHATDB_ARCHIVE_KILL_AT=<checkpoint>[:N] kills this process there (the Nth time
  // it is reached), as a crash would.
  const [killAt, nth] = (process.env.CHATDB_ARCHIVE_KILL_AT ?? "").split(":");
  let reached = 0;
  const say = (line: string) => {
    progress.clear();
    process.stdout.write(`${line}\n`);
  };
  const report = archiveChats({
    config,
    chats: args.chats,
    inactiveDays: args.inactiveDays,
    to: args.to,
    from: args.from,
    delete: args.delete,
    force: args.force,
    vacuum: args.vacuum,
    onProgress: (p) => progress.update(`${p.phase} rows`, p.done, p.total),
    onChat: (c) => {
      const rows = c.tables.reduce((n, t) => n + t.source, 0);
      say(`copied ${rows} rows of chat ${c.chatId}: ${c.from} → ${c.to} (verified)`);
    },
    checkpoint: (name: ArchiveCheckpoint) => {
      if (name === killAt && ++reached >= Number(nth ?? 1)) process.kill(process.pid, "SIGKILL");
    },
  });
  progress.done();
  for (const s of report.skipped) say(`chat ${s.chatId}: ${s.reason}`);
  if (report.chats.length === 0) {
    say(
      args.inactiveDays === undefined
        ? "nothing to archive"
        : `nothing to archive: no other chat has been inactive for ${args.inactiveDays} days`,
    );
    return EXIT.ok;
  }
  const [only] = report.chats;
  if (report.chats.length === 1 && only !== undefined) {
    say(
      table(
        ["table", "source rows", "archive rows"],
        only.tables.map((t) => [t.table, String(t.source), String(t.archive)]),
      ),
    );
  }
  const added = report.chats.filter((c) => c.mapping === "added").map((c) => c.chatId);
  if (added.length > 0) {
    say(
      added.length === 1
        ? `mapped chat ${added[0]} to ${report.to} in ${config.file}`
        : `mapped ${added.length} chats to ${report.to} in ${config.file}: ${added.join(", ")}`,
    );
  }
  for (const c of report.chats) {
    if (c.mapping === "already") say(`chat ${c.chatId} was already mapped to ${report.to}`);
    if (c.deleted !== null) say(`deleted ${c.deleted} rows of chat ${c.chatId} from ${c.from}`);
  }
  for (const r of report.reclaimable) {
    const s = config.sources.find((s) => s.name === r.source);
    const path = s?.type === "sqlite" ? s.path : r.source;
    say(
      r.vacuumed
        ? `vacuumed ${r.source}: ${r.bytes} bytes still free`
        : `${r.source}: ${r.bytes} bytes (${(r.bytes / 1048576).toFixed(1)} MiB) are free pages the file keeps; give them back with --vacuum, or run VACUUM on ${path} later (it rewrites the file, best while the bot is idle)`,
    );
  }
  return EXIT.ok;
}

/** `sync`: the sidecar, until SIGINT/SIGTERM (or one round with --once). */
export async function sync(
  config: ResolvedConfig,
  opts: { once: boolean; pollMs: number | undefined; watch: boolean },
): Promise<number> {
  const sidecar = new Sidecar(config.sync, { pollMs: opts.pollMs, watch: opts.watch });
  const time = () => new Date().toISOString().slice(11, 23);
  let errors = 0;
  sidecar.on("published", (e) =>
    process.stdout.write(
      `${time()} published ${e.name} → ${e.to} (${e.bytes} bytes, vacuum ${e.vacuumMs.toFixed(1)} ms, total ${e.totalMs.toFixed(1)} ms, ${e.reason})\n`,
    ),
  );
  sidecar.on("error", (e) => {
    errors++;
    process.stderr.write(`${time()} error ${e.error.code} ${e.name}: ${e.error.message}\n`);
  });
  sidecar.on("waiting", (e) => process.stderr.write(`${time()} waiting ${e.name}: ${e.reason}\n`));
  sidecar.on("cleaned", (e) =>
    process.stderr.write(`${time()} cleaned ${e.name}: removed stale ${e.paths.join(", ")}\n`),
  );
  if (opts.once) {
    sidecar.start();
    await sidecar.close();
    const missing = sidecar.publishers.filter((p) => p.count === 0).length;
    return errors > 0 || missing > 0 ? EXIT.problems : EXIT.ok;
  }
  const stopped = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  sidecar.start();
  process.stdout.write(
    `${time()} syncing ${config.sync.map((s) => s.name).join(", ")} (pid ${process.pid})\n`,
  );
  const signal = await stopped;
  await sidecar.close();
  process.stdout.write(`${time()} ${signal}: stopped cleanly\n`);
  return EXIT.ok;
}
