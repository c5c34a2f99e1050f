/**
 * A tiny stand-in for grammY/GramIO, enough to show chatdb inside real-looking handlers:
 * middleware in registration order, `bot.on("message")`, `bot.command(name)`, `ctx.reply()`.
 * No network: updates are handed to {@link Bot.handleUpdate}, replies go to `send`.
 */

/** The parts of a Telegram update this example uses. */
export interface Update {
  update_id: number;
  message?: {
    message_id: number;
    /** Unix seconds, as Telegram sends it. */
    date: number;
    chat: { id: number; type: "private" | "group" | "supergroup"; title?: string };
    from: { id: number; first_name: string; last_name?: string; username?: string };
    text?: string;
  };
}

export type Message = NonNullable<Update["message"]>;

/** What a handler receives: the message, its chat and author, and a way to answer. */
export class Context {
  constructor(
    readonly message: Message,
    readonly reply: (text: string) => Promise<void>,
  ) {}
  get chat() {
    return this.message.chat;
  }
  get from() {
    return this.message.from;
  }
}

type Handler = (ctx: Context, next: () => Promise<void>) => unknown;

export class Bot {
  readonly #chain: Handler[] = [];

  constructor(readonly send: (chatId: number, text: string) => Promise<void>) {}

  /** Runs for every message; call `next()` to let later handlers see it too. */
  on(_filter: "message", handler: Handler): this {
    this.#chain.push(handler);
    return this;
  }

  /** Runs for "/name" and "/name@bot ..." messages. */
  command(name: string, handler: (ctx: Context) => unknown): this {
    const pattern = new RegExp(`^/${name}(@\\w+)?(\\s|$)`);
    return this.on("message", (ctx, next) =>
      pattern.test(ctx.message.text ?? "") ? handler(ctx) : next(),
    );
  }

  /** Passes one update through the handlers, in the order they were registered. */
  async handleUpdate(update: Update): Promise<void> {
    const message = update.message;
    if (message === undefined) return;
    const ctx = new Context(message, (text) => this.send(message.chat.id, text));
    const run = async (i: number): Promise<void> => {
      await this.#chain[i]?.(ctx, () => run(i + 1));
    };
    await run(0);
  }
}
