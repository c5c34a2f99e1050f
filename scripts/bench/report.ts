/** The bench's output: sections of rows, printed as aligned text tables and saved as JSON. */

export interface Section {
  title: string;
  /** One line under the title: what is compared and the target. */
  note?: string;
  head: string[];
  /** How many leading columns hold text (left-aligned); the rest are figures. Default 1. */
  textColumns?: number;
  rows: string[][];
  /** Lines after the table (targets met/missed, TODO hooks). */
  footer?: string[];
  /** Raw numbers for the JSON file. */
  data?: unknown;
}

/** A section as a monospace table (also valid GitHub markdown). */
export function renderSection(s: Section): string {
  const left = s.textColumns ?? 1;
  const widths = s.head.map((h, c) =>
    Math.max(h.length, ...s.rows.map((r) => (r[c] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((x, c) => (c < left ? x.padEnd(widths[c] ?? 0) : x.padStart(widths[c] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, c) => (c < left ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [
    `### ${s.title}`,
    ...(s.note ? [s.note] : []),
    "",
    line(s.head),
    rule,
    ...s.rows.map(line),
    ...(s.footer?.length ? ["", ...s.footer] : []),
    "",
  ].join("\n");
}

/** "met" / "MISSED" against a ceiling. */
export const verdict = (value: number, target: number) => (value <= target ? "met" : "MISSED");
