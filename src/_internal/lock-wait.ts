/**
 * Waiting for another process's lock without blocking the event loop. chatdb's SQLite
 * connections run with `busy_timeout = 0`: a statement that meets a lock fails at once with
 * SQLITE_BUSY instead of sleeping inside the engine, on the bot's thread. The call is then
 * retried on a timer, with backoff, until the source's `timeout`.
 *
 * Order is kept per source: once one call waits, later calls queue behind it (a bot that sets
 * "a" then "b" without awaiting ends with "b", lock or no lock). When nothing waits, a call
 * runs at once, synchronously: the uncontended path pays one comparison.
 */

/** What an attempt returns when another process's lock kept it from running. */
export const LOCKED: unique symbol = Symbol("locked");
export type Attempt<T> = () => T | typeof LOCKED;

/** The retry delays grow from 1 ms by doubling up to this, so a released lock is seen fast. */
const MAX_DELAY_MS = 8;

const noop = () => {};

/** SQLite's "another connection holds the lock" (SQLITE_BUSY and its extended codes). */
export function isBusy(e: unknown): boolean {
  // migrations and transactions wrap the engine's error: look through one or two causes
  for (let x = e, depth = 0; x !== undefined && x !== null && depth < 3; depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("SQLITE_BUSY")) return true;
    x = (x as { cause?: unknown }).cause;
  }
  return false;
}

export class LockQueue {
  /** The last waiting call, settled or not; null when no call waits. */
  #tail: Promise<void> | null = null;

  /** True when no call is waiting. */
  get idle(): boolean {
    return this.#tail === null;
  }

  /**
   * Runs `attempt` now when no call waits; when it meets a lock, or calls are already
   * waiting, queues it and retries it until `timeoutMs` from now, then rejects with
   * `timedOut()`. An attempt that throws rejects the call with that error.
   */
  run<T>(attempt: Attempt<T>, timeoutMs: number, timedOut: () => Error): T | Promise<T> {
    if (this.#tail === null) {
      const result = attempt();
      if (result !== LOCKED) return result;
      return this.wait(attempt, timeoutMs, timedOut, true);
    }
    return this.wait(attempt, timeoutMs, timedOut, false);
  }

  /**
   * Queues `attempt` behind the calls waiting now and retries it until `timeoutMs` from now.
   * `justTried`: the caller has just tried it (and met a lock), so the first retry waits.
   * (A hot path can try first itself while {@link idle}, and call this only on LOCKED.)
   */
  wait<T>(
    attempt: Attempt<T>,
    timeoutMs: number,
    timedOut: () => Error,
    justTried: boolean,
  ): Promise<T> {
    return this.#enqueue(attempt, performance.now() + timeoutMs, timedOut, justTried);
  }

  /** Resolves once every call queued so far has settled. */
  drained(): Promise<void> {
    return this.#tail ?? Promise.resolve();
  }

  #enqueue<T>(
    attempt: Attempt<T>,
    deadline: number,
    timedOut: () => Error,
    justTried: boolean,
  ): Promise<T> {
    const call = (this.#tail ?? Promise.resolve()).then(() =>
      retry(attempt, deadline, timedOut, justTried),
    );
    const settled = call.then(noop, noop);
    this.#tail = settled;
    void settled.then(() => {
      if (this.#tail === settled) this.#tail = null;
    });
    return call;
  }
}

async function retry<T>(
  attempt: Attempt<T>,
  deadline: number,
  timedOut: () => Error,
  justTried: boolean,
): Promise<T> {
  // its turn has come: a call that waited behind others tries at once, even past its deadline
  if (!justTried) {
    const result = attempt();
    if (result !== LOCKED) return result;
  }
  for (let delay = 1; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    const left = deadline - performance.now();
    if (left <= 0) throw timedOut();
    await Bun.sleep(Math.min(delay, left));
    const result = attempt();
    if (result !== LOCKED) return result;
  }
}
