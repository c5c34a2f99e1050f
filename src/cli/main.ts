#!/usr/bin/env bun
/**
 * `chatdb`: the operator's command line. Exit codes: 0 ok, 1 problems found (the typed error's
 * code and message on stderr, or in the `--json` output), 2 usage error.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";
import type { ResolvedConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { archive, migrate, sync } from "./mutate.ts";
import { EXIT, printJson, UsageError } from "./output.ts";
import { check, explain, status } from "./reports.ts";

const USAGE = `usage: chatdb <command> <config.toml> [options]

commands:
  check <config> [--json]                     validate the config and list sources
  explain <config> [--chat ID] [--write] [--source NAME] [--json]
                                              where a call would go and why
  status <config> [--json]                    health of each source and sync snapshot
  migrate <config>                            bring writable sources to the latest schema
  archive <config> --chat ID[,ID...] --to SOURCE [--from SOURCE] [--delete [--vacuum]] [--force]
  archive <config> --inactive-days N --to SOURCE [--from SOURCE] [--delete [--vacuum]] [--force]
                                              move chats (given, or every chat with no message
                                              for N days) into an archive this bot owns: a
                                              writable source or a readonly immutable one.
                                              --chat may repeat. --force: archive a chat with
                                              no rows, or one read from another bot's live
                                              (readonly) source. --vacuum: VACUUM each source
                                              deleted from
  sync <config> [--once] [--poll MS] [--watch]
                                              publish [sync.*] snapshots until SIGINT/SIGTERM

The config may also be given as --config FILE.
exit codes: 0 ok, 1 problems found, 2 usage error`;

/** Options each command accepts (besides --config and --help). */
const ALLOWED: Record<string, readonly string[]> = {
  check: ["json"],
  status: ["json"],
  explain: ["json", "chat", "write", "source"],
  migrate: [],
  archive: ["chat", "to", "from", "delete", "force", "inactive-days", "vacuum"],
  sync: ["once", "poll", "watch"],
};

async function main(argv: string[]): Promise<number> {
  // `--chat -100123`: parseArgs would take the negative id for an option; glue it on.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === "--chat" && next !== undefined && /^-\d+(?:,[+-]?\d+)*$/.test(next)) {
      args.push(`--chat=${next}`);
      i++;
    } else args.push(argv[i] as string);
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
  }
  const allowed = ALLOWED[command];
  if (allowed === undefined) throw new UsageError(`unknown command "${command}"`);
  for (const key of Object.keys(values)) {
    if (key !== "config" && !allowed.includes(key)) {
      throw new UsageError(`${command} does not take --${key}`);
    }
  }
  const configPath = values.config ?? rest[0];
  if (configPath === undefined) throw new UsageError(`${command} needs a config file`);
  if (rest.length > (values.config === undefined ? 1 : 0)) {
    throw new UsageError(`unexpected argument "${rest.at(-1)}"`);
  }
  const json = values.json === true;

  let config: ResolvedConfig;
  try {
    config = loadConfig(configPath);
  } catch (e) {
    return failure(e, json);
  }
  try {
    switch (command) {
      case "check":
        return await check(config, json);
      case "status":
        return await status(config, json);
      case "explain":
        return explain(
          config,
          {
            chatId: values.chat === undefined ? undefined : oneChat(values.chat),
            write: values.write === true,
            dataSource: values.source,
          },
          json,
        );
      case "migrate":
        return await migrate(config);
      case "archive": {
        const days = values["inactive-days"];
        if ((values.chat === undefined) === (days === undefined))
          throw new UsageError("archive needs --chat ID or --inactive-days N (one of them)");
        if (values.to === undefined) throw new UsageError("archive needs --to SOURCE");
        if (days !== undefined && !(Number(days) >= 0))
          throw new UsageError("--inactive-days must be a number of days >= 0");
        if (values.vacuum && !values.delete) throw new UsageError("--vacuum goes with --delete");
        return archive(config, {
          chats: values.chat?.flatMap((list) => list.split(",").map(chatId)),
          inactiveDays: days === undefined ? undefined : Number(days),
          to: values.to,
          from: values.from,
          delete: values.delete === true,
          force: values.force === true,
          vacuum: values.vacuum === true,
        });
      }
      default: {
        const poll = values.poll === undefined ? undefined : Number(values.poll);
        if (poll !== undefined && !(poll > 0))
          throw new UsageError("--poll must be a positive number of ms");
        return await sync(config, {
          once: values.once === true,
          pollMs: poll,
          watch: values.watch === true,
        });
      }
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    return failure(e, json);
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      json: { type: "boolean" },
      chat: { type: "string", multiple: true },
      write: { type: "boolean" },
      source: { type: "string" },
      to: { type: "string" },
      from: { type: "string" },
      delete: { type: "boolean" },
      force: { type: "boolean" },
      vacuum: { type: "boolean" },
      "inactive-days": { type: "string" },
      once: { type: "boolean" },
      poll: { type: "string" },
      watch: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function chatId(text: string): number {
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new UsageError(`--chat ${text}: expected a safe integer chat id`);
  return n;
}

function oneChat(texts: string[]): number {
  if (texts.length !== 1 || texts[0]?.includes(",")) throw new UsageError("give one --chat ID");
  return chatId(texts[0] as string);
}

/** Prints a typed error (code + message) and returns exit code 1. */
function failure(e: unknown, json: boolean): number {
  const code = e instanceof DatabaseError ? e.code : "ERROR";
  const message = e instanceof Error ? e.message : String(e);
  if (json) printJson({ ok: false, error: { code, message } });
  else process.stderr.write(`error ${code}: ${message}\n`);
  if (!(e instanceof DatabaseError) && process.env.CHATDB_DEBUG) console.error(e);
  return EXIT.problems;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) {
      process.stderr.write(`chatdb: ${e.message}\n\n${USAGE}\n`);
      process.exit(EXIT.usage);
    }
    process.stderr.write(`chatdb: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(EXIT.problems);
  },
);
