/**
 * Where a call goes: explicit `dataSource` (reads only) → the chat map → `default_source`;
 * then a write to a readonly source is refused before any SQL runs.
 */
import type { ResolvedConfig, SourceConfig } from "./config/types.ts";
import { DatabaseError } from "./errors.ts";

/** Which rule chose the source. */
export type RouteRule = "dataSource" | "chatMapping" | "default";

/** What `db.explain()` returns. */
export interface RouteExplanation {
  /** The source the call would run on. */
  source: string;
  /** The rule that chose it. */
  rule: RouteRule;
  /** How that source is opened. */
  mode: SourceConfig["mode"];
  type: SourceConfig["type"];
  readonly: boolean;
  /** True when this call is a write and the target is readonly. */
  refused: boolean;
  /** The config generation that made the decision. */
  generation: number;
}

/** What `db.explain()` is asked about: a call's chat, explicit `dataSource`, and whether it writes. */
export interface RouteRequest {
  chatId?: number | undefined;
  dataSource?: string | undefined;
  write?: boolean | undefined;
}

export class Router {
  readonly config: ResolvedConfig;
  readonly generation: number;
  readonly #byName: ReadonlyMap<string, SourceConfig>;

  constructor(config: ResolvedConfig, generation: number) {
    this.config = config;
    this.generation = generation;
    this.#byName = new Map(config.sources.map((s) => [s.name, s]));
  }

  /** The source name a call goes to. Throws UNKNOWN_SOURCE or READONLY_SOURCE. */
  resolve(chatId: number | undefined, dataSource: string | undefined, write: boolean): string {
    const name = this.#target(chatId, dataSource, write);
    if (write && this.#byName.get(name)?.readonly) {
      throw new DatabaseError(
        "READONLY_SOURCE",
        `cannot write to readonly source ${name}${chatId === undefined ? "" : ` (chat ${chatId} routes there)`}`,
        chatId === undefined ? { source: name } : { source: name, chatId },
      );
    }
    return name;
  }

  /** The three tiers: explicit dataSource (reads only), the chat map, the default. */
  #target(chatId: number | undefined, dataSource: string | undefined, write: boolean): string {
    if (dataSource !== undefined && !write) {
      if (!this.#byName.has(dataSource)) {
        throw new DatabaseError(
          "UNKNOWN_SOURCE",
          `unknown dataSource "${dataSource}" (configured: ${[...this.#byName.keys()].join(", ")})`,
          { source: dataSource },
        );
      }
      return dataSource;
    }
    return (
      (chatId === undefined ? undefined : this.config.chatMapping.get(chatId)) ??
      this.config.defaultSource
    );
  }

  /** The home source of a chat's rows: where a write for it would go. */
  home(chatId: number | undefined): string {
    return (
      (chatId === undefined ? undefined : this.config.chatMapping.get(chatId)) ??
      this.config.defaultSource
    );
  }

  /** The routing decision for a call, without running it. */
  explain(request: RouteRequest = {}): RouteExplanation {
    const write = request.write ?? false;
    const source = this.#target(request.chatId, request.dataSource, write);
    const rule: RouteRule =
      request.dataSource !== undefined && !write
        ? "dataSource"
        : request.chatId !== undefined && this.config.chatMapping.has(request.chatId)
          ? "chatMapping"
          : "default";
    const config = this.#byName.get(source) as SourceConfig;
    return {
      source,
      rule,
      mode: config.mode,
      type: config.type,
      readonly: config.readonly,
      refused: write && config.readonly,
      generation: this.generation,
    };
  }
}
