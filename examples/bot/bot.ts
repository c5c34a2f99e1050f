/**
 * The example bot: stores every message through chatdb and answers /stats from aggregated
 * reads. Which database a chat lives in is chatdb's business (bot.toml), not the handlers':
 * they never name a source, so editing the config moves chats without touching this code.
 */
import { type DatabaseWrapper, isDatabaseError } from "chatdb";
import { Bot, type Context } from "./mini-bot.ts";

export function createBot(
  db: DatabaseWrapper,
  send: (chatId: number, text: string) => Promise<void>,
) {
  const bot = new Bot(send);

  // Every message: chat, author, then the message itself, each routed by chat id.
  bot.on("message", async (ctx, next) => {
    const { chat, from, message } = ctx;
    try {
      await db.updateChatInfo(chat.id, { type: chat.type, title: chat.title ?? null });
      await db.updateChatUser(chat.id, from.id, `@${from.username ?? from.id}`, fullName(ctx));
      await db.saveChatMessage({
        date: new Date(message.date * 1000),
        chatId: chat.id,
        userId: from.id,
        messageId: message.message_id,
        messageText: message.text ?? "",
      });
    } catch (e) {
      // A chat mapped to a readonly archive: reads work, writes are refused with a typed error.
      if (!isDatabaseError(e, "READONLY_SOURCE")) throw e;
      await ctx.reply(`this chat is archived (${e.source}, read-only): not stored`);
      return;
    }
    await next();
  });

  bot.command("stats", async (ctx) => {
    const { chat, from } = ctx;
    const route = db.explain({ chatId: chat.id, write: true });
    const me = await db.getChatUser(chat.id, from.id);
    const mine = await db.getUserChats(from.id); // every source, one row per chat
    const groups = await db.getAllGroupChats();
    const perSource = new Map<string, number>();
    for (const g of groups) perSource.set(g.dataSource, (perSource.get(g.dataSource) ?? 0) + 1);
    await ctx.reply(
      [
        `stats for ${fullName(ctx)}`,
        `  this chat is stored in: ${route.source} (rule: ${route.rule})`,
        `  your messages here: ${me?.messagesCount ?? 0}`,
        `  your chats: ${mine.map((c) => `${c.title} [${c.dataSource}]`).join(", ")}`,
        `  group chats: ${groups.length} (${[...perSource].map(([s, n]) => `${s}: ${n}`).join(", ")})`,
      ].join("\n"),
    );
  });

  return bot;
}

const fullName = (ctx: Context) =>
  [ctx.from.first_name, ctx.from.last_name].filter(Boolean).join(" ");
