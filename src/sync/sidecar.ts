/**
 * The sidecar: one {@link SnapshotPublisher} per `[sync.NAME]` of a config, with their events
 * merged. `chatdb sync` is a thin shell around this.
 */
import { SafeEmitter } from "../_internal/emitter.ts";
import type { SyncConfig } from "../config/types.ts";
import { DatabaseError } from "../errors.ts";
import { type PublisherOptions, SnapshotPublisher, type SyncEvents } from "./publisher.ts";

/**
 * Publishes a consistent snapshot of each `[sync.NAME]`'s `from` database to its `to` path
 * (VACUUM INTO a temp file, fsync, rename) when `from` changed, at most once per `interval`.
 * Bots read `to` as an `immutable` readonly source and reopen it on every publish. Run it in
 * its own process (`chatdb sync bot.toml`) next to the bot that owns `from`.
 *
 * @example
 * ```ts
 * import { loadConfig, Sidecar } from "chatdb";
 *
 * await using sidecar = new Sidecar(loadConfig("bot.toml").sync);
 * sidecar.on("published", (e) => console.log(`${e.name}: ${e.bytes} bytes (${e.reason})`));
 * sidecar.on("error", (e) => console.error(e.error.code, e.error.message)); // keeps retrying
 * sidecar.start(); // publishes a first snapshot now, then polls until close()
 * ```
 */
export class Sidecar extends SafeEmitter<SyncEvents> {
  /** One per `[sync.NAME]`, in config order. */
  readonly publishers: readonly SnapshotPublisher[];
  #closing: Promise<void> | undefined;

  /** Throws `CONFIG_INVALID` when `targets` is empty. Nothing runs until {@link start}. */
  constructor(targets: readonly SyncConfig[], options: PublisherOptions = {}) {
    super();
    this.listenerLogger = options.logger ?? {};
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
