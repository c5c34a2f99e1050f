/**
 * Chat ids as config keys and CLI arguments: one spelling per chat, so two keys can never name
 * the same chat (`"007"`, `"+7"` and `" 7"` would all be 7; `"-0"` would be 0).
 */

/** `0`, or an optional `-` then a digit 1-9 then digits: the only spelling `String(id)` gives. */
const CANONICAL = /^(?:0|-?[1-9][0-9]*)$/;

/**
 * The chat id `text` spells, or undefined when it is not a canonical safe integer
 * (|id| <= 2^53 - 1: larger ones cannot be told apart as JavaScript numbers).
 */
export function parseChatIdKey(text: string): number | undefined {
  if (!CANONICAL.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : undefined;
}
