import { describe, expect, test } from "bun:test";
import { setChatMapping } from "../../src/config/edit-mapping.ts";
import { expectCode } from "../helpers.ts";

const opts = { baseDir: "/tmp", file: "bot.toml" };
const SOURCES = `[database]
default_source = "a"
[database.sources.a]
path = "a.db"
[database.sources.b]
path = "b.db"
readonly = true
`;

describe("setChatMapping", () => {
  test("appends to an existing table after its last entry, keeping comments", () => {
    const text = `${SOURCES}\n[database.chat_mapping]  # moved chats\n1 = "b" # first\n\n# trailing note\n`;
    expect(setChatMapping(text, -42, "b", opts)).toBe(
      `${SOURCES}\n[database.chat_mapping]  # moved chats\n1 = "b" # first\n-42 = "b"\n\n# trailing note\n`,
    );
  });

  test("rewrites the line of a chat that is already mapped, keeping its key spelling and comment", () => {
    const text = `${SOURCES}[database.chat_mapping]\n"-42" = "a"   # was here\n`;
    expect(setChatMapping(text, -42, "b", opts)).toBe(
      `${SOURCES}[database.chat_mapping]\n"-42" = "b"   # was here\n`,
    );
  });

  test("creates the table when absent, and uses the flat spelling for a flat file", () => {
    expect(setChatMapping(SOURCES, 7, "b", opts)).toBe(
      `${SOURCES}\n[database.chat_mapping]\n7 = "b"\n`,
    );
    const flat = `default_source = "a"\n[sources.a]\npath = "a.db"\n[sources.b]\npath = "b.db"\n`;
    expect(setChatMapping(flat, 7, "b", opts)).toBe(`${flat}\n[chat_mapping]\n7 = "b"\n`);
  });

  test("keeps CRLF line endings", () => {
    const text = `${SOURCES}[database.chatMapping]\n1 = "b"\n`.replace(/\n/g, "\r\n");
    expect(setChatMapping(text, 2, "b", opts)).toBe(
      `${SOURCES}[database.chatMapping]\n1 = "b"\n2 = "b"\n`.replace(/\n/g, "\r\n"),
    );
  });

  test("refuses an edit it cannot make safely (inline table) instead of writing a wrong file", () => {
    const text = SOURCES.replace(
      'default_source = "a"',
      'default_source = "a"\nchat_mapping = { 1 = "b" }',
    );
    expectCode(() => setChatMapping(text, 2, "b", opts), "CONFIG_INVALID");
  });
});
