/** `check`, `status` and `explain`: read-only commands. */
import type { ResolvedConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { Router } from "../routing.ts";
import { inspectAll, type SourceReport } from "./inspect.ts";
import { dash, EXIT, printJson, table } from "./output.ts";

const fmtBytes = (n: number | null) =>
  n === null
    ? "-"
    : n < 1024
      ? `${n} B`
      : n < 1048576
        ? `${(n / 1024).toFixed(1)} KiB`
        : `${(n / 1048576).toFixed(1)} MiB`;

function summary(config: ResolvedConfig): string {
  const n = config.sources.length;
  return `config ${config.file}: ${n} source${n === 1 ? "" : "s"}, default ${config.defaultSource}, ${config.chatMapping.size} chats mapped, ${config.sync.length} sync targets`;
}

function printNotes(sources: SourceReport[], problems: string[]): void {
  const notes = sources.flatMap((s) => s.notes.map((n) => `  ${s.name}: ${n}`));
  if (notes.length > 0) process.stdout.write(`\nnotes:\n${notes.join("\n")}\n`);
  if (problems.length > 0)
    process.stdout.write(`\nproblems:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
}

/** `check`: sources with mode, path, existence, schema version, row counts and health. */
export async function check(config: ResolvedConfig, json: boolean): Promise<number> {
  const { sources, sync, problems } = await inspectAll(config, true);
  const ok = problems.length === 0;
  if (json) {
    printJson({
      ok,
      config: config.file,
      defaultSource: config.defaultSource,
      chatMapping: Object.fromEntries(config.chatMapping),
      sources,
      sync,
      problems,
    });
    return ok ? EXIT.ok : EXIT.problems;
  }
  process.stdout.write(`${summary(config)}\n\n`);
  process.stdout.write(
    `${table(
      ["source", "mode", "state", "exists", "schema", "messages", "users", "chats", "path"],
      sources.map((s) => [
        s.name,
        s.mode,
        s.state,
        s.exists ? "yes" : "no",
        dash(s.schemaVersion),
        dash(s.counts?.chat_messages),
        dash(s.counts?.chat_users),
        dash(s.counts?.chat_info),
        s.path,
      ]),
    )}\n`,
  );
  if (sync.length > 0) {
    process.stdout.write(
      `\n${table(
        ["sync", "from", "to", "interval"],
        sync.map((s) => [
          s.name,
          s.from,
          `${s.to}${s.toExists ? "" : " (not yet published)"}`,
          `${s.interval}s`,
        ]),
      )}\n`,
    );
  }
  printNotes(sources, problems);
  process.stdout.write(ok ? "\nok\n" : `\n${problems.length} problem(s)\n`);
  return ok ? EXIT.ok : EXIT.problems;
}

/** `status`: health of each source and the age of each sync snapshot. */
export async function status(config: ResolvedConfig, json: boolean): Promise<number> {
  const { sources, sync, problems } = await inspectAll(config, false);
  const ok = problems.length === 0;
  if (json) {
    printJson({
      ok,
      config: config.file,
      sources: sources.map(({ counts: _, ...s }) => s),
      sync,
      problems,
    });
    return ok ? EXIT.ok : EXIT.problems;
  }
  process.stdout.write(
    `${table(
      ["source", "mode", "state", "journal", "size", "wal", "modified", "reason"],
      sources.map((s) => [
        s.name,
        s.mode,
        s.state,
        dash(s.journal),
        fmtBytes(s.bytes),
        fmtBytes(s.walBytes),
        dash(s.modified),
        s.reason || s.problems[0] || "",
      ]),
    )}\n`,
  );
  if (sync.length > 0) {
    process.stdout.write(
      `\n${table(
        ["sync", "snapshot", "lag", "to"],
        sync.map((s) => [
          s.name,
          s.toExists ? "published" : "missing",
          s.lagSeconds === null ? "-" : `${s.lagSeconds.toFixed(1)}s`,
          s.to,
        ]),
      )}\n`,
    );
  }
  if (problems.length > 0)
    process.stdout.write(`\nproblems:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
  return ok ? EXIT.ok : EXIT.problems;
}

/** `explain`: where a call would go and why; exit 1 when it would be refused. */
export function explain(
  config: ResolvedConfig,
  request: { chatId: number | undefined; write: boolean; dataSource: string | undefined },
  json: boolean,
): number {
  const router = new Router(config, 1);
  let result: ReturnType<Router["explain"]>;
  try {
    result = router.explain(request);
  } catch (e) {
    if (!(e instanceof DatabaseError)) throw e;
    if (json) printJson({ ok: false, request, error: { code: e.code, message: e.message } });
    else process.stderr.write(`error ${e.code}: ${e.message}\n`);
    return EXIT.problems;
  }
  const why =
    result.rule === "dataSource"
      ? `dataSource = "${result.source}" was given`
      : result.rule === "chatMapping"
        ? `chat_mapping[${request.chatId}] = "${result.source}"`
        : request.chatId === undefined
          ? `no chat given; default_source = "${result.source}"`
          : `chat ${request.chatId} is not in chat_mapping; default_source = "${result.source}"`;
  const notes: string[] = [];
  if (request.write && request.dataSource !== undefined) {
    notes.push("dataSource applies to reads only; writes route by chat");
  }
  const refusal = result.refused
    ? `READONLY_SOURCE: cannot write to readonly source ${result.source}`
    : null;
  if (json) {
    printJson({ ok: !result.refused, request, ...result, why, notes, error: refusal });
  } else {
    const what = `${request.write ? "write" : "read"}${request.chatId === undefined ? "" : ` for chat ${request.chatId}`}`;
    process.stdout.write(
      `${what} → ${result.source} (${result.type}, ${result.mode})\n  rule: ${result.rule}: ${why}\n`,
    );
    for (const n of notes) process.stdout.write(`  note: ${n}\n`);
    if (refusal) process.stdout.write(`  refused: ${refusal}\n`);
  }
  return result.refused ? EXIT.problems : EXIT.ok;
}
