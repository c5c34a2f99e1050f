/**
 * Adds `<chatId> = "<source>"` to a config's chat map by editing the TOML text, so the
 * operator's comments, ordering and formatting survive (a parse → stringify round trip would
 * drop every comment). The result is re-parsed and validated before anyone writes it.
 */
import { parse as parseToml } from "smol-toml";
import { DatabaseError } from "../errors.ts";
import { parseConfig } from "./load.ts";

const HEADER = /^\s*\[\s*(?:(database)\s*\.\s*)?("?)(chat_mapping|chatMapping)\2\s*\]\s*(?:#.*)?$/;
const TABLE_START = /^\s*\[/;
const KEY_LINE =
  /^(\s*)(?:"([+-]?\d+)"|'([+-]?\d+)'|([+-]?\d+))\s*=\s*(?:"[^"]*"|'[^']*')(\s*#.*)?$/;

/**
 * Returns `text` with `chatId` mapped to `source`: an existing line for the chat is rewritten
 * in place, otherwise a line is added at the end of the chat_mapping table (created at the end
 * of the file if absent). Throws CONFIG_INVALID when the file cannot be edited safely.
 */
export function setChatMapping(
  text: string,
  chatId: number,
  source: string,
  options: { baseDir: string; file?: string },
): string {
  const where = options.file ?? "<config>";
  const doc = parseToml(text) as Record<string, unknown>;
  const nested = typeof doc.database === "object" && doc.database !== null;
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r?\n/);
  const entry = `${chatId} = ${JSON.stringify(source)}`;

  const header = lines.findIndex((l) => {
    const m = HEADER.exec(l);
    return m !== null && (m[1] === "database") === nested;
  });
  let out: string;
  if (header === -1) {
    const table = nested ? "database.chat_mapping" : "chat_mapping";
    const body = text.length === 0 || text.endsWith("\n") ? text : text + eol;
    out = `${body}${eol}[${table}]${eol}${entry}${eol}`;
  } else {
    let end = lines.length;
    for (let i = header + 1; i < lines.length; i++) {
      if (TABLE_START.test(lines[i] as string)) {
        end = i;
        break;
      }
    }
    let replaced = false;
    let lastEntry = header;
    for (let i = header + 1; i < end; i++) {
      const line = lines[i] as string;
      const trimmed = line.trim();
      if (trimmed !== "" && !trimmed.startsWith("#")) lastEntry = i;
      const m = KEY_LINE.exec(line);
      if (m && Number(m[2] ?? m[3] ?? m[4]) === chatId) {
        const key = m[2] !== undefined ? `"${m[2]}"` : m[3] !== undefined ? `'${m[3]}'` : m[4];
        lines[i] = `${m[1]}${key} = ${JSON.stringify(source)}${m[5] ?? ""}`;
        replaced = true;
      }
    }
    if (!replaced) {
      const indent = /^(\s*)/.exec(lines[lastEntry] ?? "")?.[1] ?? "";
      lines.splice(lastEntry + 1, 0, `${lastEntry === header ? "" : indent}${entry}`);
    }
    out = lines.join(eol);
  }

  // The edit must mean exactly "this chat now routes to source" in a still-valid config.
  let mapped: string | undefined;
  try {
    mapped = parseConfig(out, options).chatMapping.get(chatId);
  } catch (e) {
    throw new DatabaseError(
      "CONFIG_INVALID",
      `config ${where}: adding ${entry} to chat_mapping would break the file (${(e as Error).message}); add it by hand`,
      { cause: e },
    );
  }
  if (mapped !== source) {
    throw new DatabaseError(
      "CONFIG_INVALID",
      `config ${where}: could not add ${entry} to chat_mapping automatically (inline or dotted table?); add it by hand`,
    );
  }
  return out;
}
