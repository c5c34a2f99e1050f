/**
 * The sidecar: one {@link SnapshotPublisher} per `[sync.NAME]` of a config, with their events
 * merged. `chatdb sync` is a thin shell around this.
 *
 * @example
 * ```ts
 * await using sidecar = new Sidecar(loadConfig("bot.toml").sync);
 * sidecar.on("published", (e) => log(`${e.name}: ${e.bytes} bytes`));
 * sidecar.start();
 * ```
 */
import { EventEmitter } from "node:events";
import type { SyncConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { type PublisherOptions, SnapshotPublisher, type SyncEvents } from "./publisher.ts";

export class Sidecar extends EventEmitter<SyncEvents> {
  readonly publishers: readonly SnapshotPublisher[];
  #closing: Promise<void> | undefined;

  constructor(targets: readonly SyncConfig[], options: PublisherOptions = {}) {
    super();
    if (targets.length === 0) {
      throw new DatabaseError("CONFIG_INVALID", "sync: the config has no [sync.NAME] tables");
    }
    this.publishers = targets.map((t) => {
      const p = new SnapshotPublisher(t, options);
      for (const event of ["published", "error", "waiting", "cleaned"] as const) {
        const forward = this.emit.bind(this) as (e: string, ...args: unknown[]) => boolean;
        p.on(event, (...args: unknown[]) => {
          forward(event, ...args);
        });
      }
      return p;
    });
  }

  /** Starts every publisher; if one cannot start (its target is locked), none keeps running. */
  start(): void {
    const started: SnapshotPublisher[] = [];
    try {
      for (const p of this.publishers) {
        p.start();
        started.push(p);
      }
    } catch (e) {
      for (const p of started) void p.close();
      throw e;
    }
  }

  /** Stops every publisher; idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all(this.publishers.map((p) => p.close())).then(() => undefined);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
