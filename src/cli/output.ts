/** Terminal output for the CLI: aligned tables, a progress bar, exit codes. */

/** Exit codes a script can rely on. */
export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

/** A usage error: bad arguments. Exits 2 with the usage text. */
export class UsageError extends Error {}

/** Renders rows as an aligned table with an upper-case header row. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header.map((h) => h.toUpperCase())), ...rows.map(line)].join("\n");
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A one-line progress bar on a terminal (stderr), redrawn when the percentage moves; silent when piped. */
export class Progress {
  readonly #tty: boolean;
  #drawn = "";

  constructor(tty = process.stderr.isTTY === true) {
    this.#tty = tty;
  }

  update(label: string, done: number, total: number): void {
    if (!this.#tty) return;
    const width = 30;
    const ratio = total === 0 ? 1 : Math.min(1, done / total);
    const filled = Math.round(ratio * width);
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
    const line = `[${bar}] ${String(Math.round(ratio * 100)).padStart(3)}% ${label}`;
    if (line === this.#drawn && done < total) return; // the last count is always drawn
    process.stderr.write(`\r\x1b[2K${line} ${Math.min(done, total)}/${total}`);
    this.#drawn = line;
  }

  /** Erases the bar so a line can be printed; the next update draws it again. */
  clear(): void {
    if (this.#drawn !== "") process.stderr.write("\r\x1b[2K");
    this.#drawn = "";
  }

  done(): void {
    if (this.#drawn !== "") process.stderr.write("\n");
    this.#drawn = "";
  }
}

export const dash = (v: unknown) => (v === null || v === undefined ? "-" : String(v));
