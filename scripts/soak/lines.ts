/** Line-by-line reading of a child process's stdout, shared by the soak and its tests. */

/** Iterates the lines of a byte stream (the last one even without a newline). */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
    }
  }
  if (buffer !== "") yield buffer;
}

/** A spawned script whose stdout lines can be awaited one by one. */
export class LineProcess {
  readonly proc: Bun.Subprocess<"pipe", "pipe", "inherit">;
  readonly all: string[] = [];
  readonly #waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly exited: Promise<number>;

  constructor(
    cmd: string[],
    opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
  ) {
    const proc = Bun.spawn(cmd, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    this.proc = proc;
    const pump = (async () => {
      for await (const line of lines(proc.stdout)) {
        this.all.push(line);
        for (let i = this.#waiters.length - 1; i >= 0; i--) {
          const w = this.#waiters[i];
          if (w?.test(line)) {
            this.#waiters.splice(i, 1);
            w.resolve(line);
          }
        }
      }
    })();
    this.exited = pump.then(() => this.proc.exited);
  }

  /** The next line (printed from now on, or already printed) matching `test`. */
  line(test: (line: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
    const seen = this.all.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      this.#waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void this.exited.then(() =>
        setTimeout(() => reject(new Error(`process exited before ${what}`)), 0),
      );
    });
  }

  /** Writes one command line to the child's stdin. */
  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
    this.proc.stdin.flush();
  }
}
