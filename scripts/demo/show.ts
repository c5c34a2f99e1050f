/**
 * Narration helpers for the demo and the example bot: numbered steps, plain tables, and waits
 * that fail with a message instead of hanging.
 */
import type { EventEmitter } from "node:events";

/** Prints a step heading. */
export function step(n: number, title: string): void {
  console.log(`\n━━ ${n}. ${title}`);
}

/** Prints an explanatory line under a step. */
export function note(text: string): void {
  console.log(`   ${text}`);
}

/** Formats a cell: null as "—", dates as "HH:MM:SS", the rest as text. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (value instanceof Date) return value.toISOString().slice(11, 19);
  return String(value);
}

/** Prints rows as an aligned table without console.table's index column. */
export function table(rows: readonly Record<string, unknown>[]): void {
  if (rows.length === 0) {
    note("(no rows)");
    return;
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (values: string[]) =>
    `   │ ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" │ ")} │`;
  const rule = (l: string, m: string, r: string) =>
    `   ${l}${widths.map((w) => "─".repeat(w + 2)).join(m)}${r}`;
  console.log(rule("┌", "┬", "┐"));
  console.log(line(columns));
  console.log(rule("├", "┼", "┤"));
  for (const r of cells) console.log(line(r));
  console.log(rule("└", "┴", "┘"));
}

/** Resolves `promise`, or rejects after `ms` with "timed out … waiting for `what`". */
export function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next `event` on `emitter` whose payload passes `accept`, within `ms`. */
export function nextEvent<T>(
  emitter: EventEmitter,
  event: string,
  what: string,
  ms: number,
  accept: (payload: T) => boolean = () => true,
): Promise<T> {
  let listener: ((payload: T) => void) | undefined;
  const seen = new Promise<T>((resolve) => {
    listener = (payload: T) => {
      if (accept(payload)) resolve(payload);
    };
    emitter.on(event, listener);
  });
  return within(what, ms, seen).finally(() => emitter.off(event, listener as never));
}

/** Polls `check` every `everyMs` until it returns a truthy value, within `ms`. */
export async function until<T>(
  what: string,
  ms: number,
  check: () => T | Promise<T>,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** Reads a child's stdout line by line; `next(pattern)` waits for a matching line. */
export function lineReader(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  void (async () => {
    let buffer = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true });
      let i = buffer.indexOf("\n");
      while (i >= 0) {
        lines.push(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        i = buffer.indexOf("\n");
      }
      wake?.();
    }
    ended = true;
    wake?.();
  })();
  return {
    /** The first unread line matching `pattern`, within `ms`. */
    next(pattern: RegExp, what: string, ms: number): Promise<string> {
      const find = async (): Promise<string> => {
        for (;;) {
          const i = lines.findIndex((l) => pattern.test(l));
          if (i >= 0) return lines.splice(0, i + 1)[i] as string;
          if (ended) throw new Error(`the process ended before ${what}`);
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      };
      return within(what, ms, find());
    },
  };
}
