/**
 * Compile-time checks, run by `npx tsc --noEmit` (this file is not a bun test): a query's
 * parameters are declared with its SQL, so a call whose params object does not match them, or
 * a definition that uses a parameter it did not declare, is a compile error.
 */
import { messages } from "../../src/repositories/messages.ts";
import { users } from "../../src/repositories/users.ts";
import { batch, limit, one, sql, ts, write } from "../../src/sources/query.ts";
import type { Source } from "../../src/sources/source.ts";

declare const source: Source;

const byChat = one(
  (p: { chatId: number }) => sql`SELECT ${p.chatId} AS x`,
  (r) => r.x,
);
source.exec(byChat, { chatId: 1 });
source.exec(users.get, { chatId: 1, userId: 2 });
source.exec(users.list(true), {
  chatId: 1,
  seenSince: null,
  seenSinceIso: null,
  seenSinceDay: null,
  minMessages: null,
  limit: 10,
});

// @ts-expect-error a misspelt parameter
source.exec(byChat, { chatID: 1 });
// @ts-expect-error a missing parameter
source.exec(users.get, { chatId: 1 });
// @ts-expect-error a parameter the query does not take
source.exec(users.get, { chatId: 1, userId: 2, limit: 3 });
// @ts-expect-error a value of the wrong type
source.exec(users.get, { chatId: "1", userId: 2 });
// @ts-expect-error positional values are gone
source.exec(users.get, [1, 2]);
const row = (r: unknown) => r;
// @ts-expect-error a parameter not declared in the definition
one((p: { chatId: number }) => sql`SELECT ${p.chatid}`, row);
// @ts-expect-error a cast of the wrong type: ts() takes timestamp text
one((p: { chatId: number }) => sql`SELECT ${ts(p.chatId)}`, row);
// @ts-expect-error limit() takes a number
one((p: { n: string }) => sql`SELECT 1 LIMIT ${limit(p.n)}`, row);
// @ts-expect-error a Date is not a bindable value
one((p: { when: Date }) => sql`SELECT ${p.when}`, row);

// A batch's params are every step's together.
const pair = batch([
  write((p: { a: number }) => sql`UPDATE t SET a = ${p.a}`),
  write((p: { b: string }) => sql`UPDATE t SET b = ${p.b}`),
]);
source.exec(pair, { a: 1, b: "x" });
// @ts-expect-error a step's parameter is missing
source.exec(pair, { a: 1 });
source.exec(messages.save, {
  chatId: 1,
  messageId: "1",
  date: "2026-01-01 00:00:00",
  userId: 2,
  replyId: null,
  threadId: 0,
  rootMessageId: null,
  text: "hi",
  type: "text",
  category: "user",
  quote: null,
  mediaGroupId: null,
  markup: "",
  metadata: "",
  mediaId: null,
  now: "2026-01-01 00:00:00",
  day: "2026-01-01 00:00:00",
});
