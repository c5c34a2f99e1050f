/** Opening the sources a config names, all or nothing. */
import type { ResolvedConfig, SourceConfig, SourceType } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import type { Logger } from "../options.ts";
import { PostgresSource } from "./postgres-source.ts";
import type { Source, SourceHooks } from "./source.ts";
import { SqliteSource } from "./sqlite-source.ts";

/** The class of each engine's sources, by `type`. */
const ENGINE_CLASSES: {
  [T in SourceType]: new (
    config: Extract<SourceConfig, { type: T }>,
    hooks: SourceHooks,
  ) => Source;
} = { sqlite: SqliteSource, postgres: PostgresSource };

/** Opens a source of the configured kind. */
export function openSource(config: SourceConfig, hooks: SourceHooks): Source {
  // the table pairs each type with its class; TypeScript cannot follow that pairing here
  const Engine = ENGINE_CLASSES[config.type] as new (c: SourceConfig, h: SourceHooks) => Source;
  return new Engine(config, hooks);
}

/**
 * Opens the config's sources in order; on a reload, `reuse` holds the sources in force, and
 * those whose config is unchanged are kept. If one fails, closes those it opened and rethrows.
 * At construction a writable source that cannot open fails the constructor; on a reload it
 * makes the new config wrong: CONFIG_INVALID naming the key, the engine's error as cause.
 */
export function openAll(
  config: ResolvedConfig,
  hooks: SourceHooks,
  logger: Logger,
  reuse?: ReadonlyMap<string, Source>,
): { sources: Map<string, Source>; opened: Source[] } {
  const sources = new Map<string, Source>();
  const opened: Source[] = [];
  try {
    for (const c of config.sources) {
      const prev = reuse?.get(c.name);
      if (prev && sameSource(prev.config, c)) {
        sources.set(c.name, prev);
        continue;
      }
      const source = reuse ? openForReload(config, c, hooks) : openSource(c, hooks);
      opened.push(source);
      sources.set(c.name, source);
      const h = source.health();
      // "opening" is not a problem yet: a failed first connection is reported when it fails
      if (h.state !== "ok" && h.state !== "opening") {
        logger.warn?.(`chatdb: source ${c.name} is ${h.state}: ${h.reason}`, { source: c.name });
      }
    }
  } catch (e) {
    for (const s of opened) void s.close();
    throw e;
  }
  return { sources, opened };
}

function openForReload(config: ResolvedConfig, c: SourceConfig, hooks: SourceHooks): Source {
  try {
    return openSource(c, hooks);
  } catch (e) {
    const key = `sources.${c.name}.${c.type === "sqlite" ? "path" : "url"}`;
    const why = e instanceof Error ? e.message : String(e);
    throw new DatabaseError(
      "CONFIG_INVALID",
      `config ${config.file ?? "<config>"}: ${key}: cannot open source ${c.name}: ${why}`,
      { cause: e, source: c.name },
    );
  }
}

/** Two source configs open the same thing the same way (all fields are primitives). */
const sameSource = (a: SourceConfig, b: SourceConfig) => JSON.stringify(a) === JSON.stringify(b);
