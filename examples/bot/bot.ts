/**
 * The example bot, on grammY: stores every message through chatdb, keeps a grammY session per
 * chat in chatdb, and answers /stats from aggregated reads. Which database a chat lives in is
 * chatdb's business (bot.toml), not the handlers': they never name a source, so editing the
 * config moves chats without touching this code.
 */
import { createSessionStorage, type DatabaseWrapper, isDatabaseError } from "chatdb";
import { Bot, type BotConfig, type Context, type SessionFlavor, session } from "grammy";

/** The per-chat session: how many messages the bot has seen in the chat, across restarts. */
export interface ChatSession {
  seen: number;
}

export type BotContext = Context & SessionFlavor<ChatSession>;

/**
 * A grammY bot on `db`. `config` is grammY's own: give `botInfo` to skip the `getMe` call that
 * `bot.init()` / `bot.start()` would make.
 */
export function createBot(db: DatabaseWrapper, token: string, config?: BotConfig<BotContext>) {
  const bot = new Bot<BotContext>(token, config);

  // Sessions live in chatdb's cache storage on the default source (never a readonly archive),
  // keyed by chat id (grammY's default key), so they survive a restart of the bot.
  bot.use(
    session({ initial: (): ChatSession => ({ seen: 0 }), storage: createSessionStorage(db) }),
  );

  // Every message: chat, author, then the message itself, each routed by chat id.
  bot.on("message", async (ctx, next) => {
    const { chat, from, message } = ctx;
    ctx.session.seen++;
    try {
      await db.updateChatInfo(chat.id, { type: chat.type, title: chat.title ?? null });
      await db.updateChatUser(chat.id, from.id, `@${from.username ?? from.id}`, fullName(from));
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

  // (on "message": a /stats in a channel post has no author to show stats for)
  bot.on("message").command("stats", async (ctx) => {
    const { chat, from } = ctx;
    const route = db.explain({ chatId: chat.id, write: true });
    const me = await db.getChatUser(chat.id, from.id);
    const mine = await db.getUserChats(from.id); // every source, one row per chat
    const groups = await db.getAllGroupChats();
    const perSource = new Map<string, number>();
    for (const g of groups) perSource.set(g.dataSource, (perSource.get(g.dataSource) ?? 0) + 1);
    await ctx.reply(
      [
        `stats for ${fullName(from)}`,
        `  this chat is stored in: ${route.source} (rule: ${route.rule})`,
        `  your messages here: ${me?.messagesCount ?? 0}`,
        `  messages I have seen here: ${ctx.session.seen} (grammY session)`,
        `  your chats: ${mine.map((c) => `${c.title} [${c.dataSource}]`).join(", ")}`,
        `  group chats: ${groups.length} (${[...perSource].map(([s, n]) => `${s}: ${n}`).join(", ")})`,
      ].join("\n"),
    );
  });

  return bot;
}

const fullName = (user: { first_name: string; last_name?: string }) =>
  [user.first_name, user.last_name].filter(Boolean).join(" ");
