/**
 * An EventEmitter whose event names are checked by the compiler and whose listeners cannot
 * break the library: a listener that throws (or returns a rejected promise) is reported to the
 * logger as a listener error — never relabelled as a chatdb error, never thrown into the code
 * that emitted — and an `error` event nobody listens to is logged instead of killing the process.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "../options.ts";

type Events<T> = { [K in keyof T]: unknown[] };
type Fn = (...a: unknown[]) => void;
type Listener<T, K extends keyof T> = T[K] extends unknown[] ? (...args: T[K]) => void : never;

export class SafeEmitter<T extends Events<T>> extends EventEmitter {
  /** Where listener errors go; subclasses set it (the wrapper's logger). */
  protected listenerLogger: Logger = {};

  override emit<K extends keyof T & string>(event: K, ...args: T[K]): boolean {
    const listeners = this.rawListeners(event) as ((...a: unknown[]) => unknown)[];
    if (listeners.length === 0) {
      if (event === "error")
        this.listenerLogger.error?.("chatdb: an error event with no listener", { error: args[0] });
      return false;
    }
    for (const listener of listeners) {
      try {
        const result = listener.apply(this, args);
        if (result instanceof Promise) result.catch((e) => this.#listenerFailed(event, e));
      } catch (e) {
        this.#listenerFailed(event, e);
      }
    }
    return true;
  }

  #listenerFailed(event: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.listenerLogger.error?.(`chatdb: a "${event}" listener threw: ${message}`, {
      event,
      error: e,
    });
  }

  override on<K extends keyof T & string>(event: K, listener: Listener<T, K>): this {
    return super.on(event, listener as unknown as Fn);
  }
  override addListener<K extends keyof T & string>(event: K, listener: Listener<T, K>): this {
    return super.addListener(event, listener as unknown as Fn);
  }
  override once<K extends keyof T & string>(event: K, listener: Listener<T, K>): this {
    return super.once(event, listener as unknown as Fn);
  }
  override prependListener<K extends keyof T & string>(event: K, listener: Listener<T, K>): this {
    return super.prependListener(event, listener as unknown as Fn);
  }
  override off<K extends keyof T & string>(event: K, listener: Listener<T, K>): this {
    return super.off(event, listener as unknown as Fn);
  }
  override removeListener<K extends keyof T & string>(event: K, listener: Listener<T, K>): this {
    return super.removeListener(event, listener as unknown as Fn);
  }
}
