/** Cold start, Drizzle ORM: open the file, read one chat_info row, print it. argv: path, chat. */
import { Database } from "bun:sqlite";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { chatInfo } from "../peers-schema.ts";

const client = new Database(process.argv[2] as string, { readwrite: true });
const db = drizzle({ client });
const row = await db
  .select()
  .from(chatInfo)
  .where(eq(chatInfo.chatId, Number(process.argv[3])))
  .get();
console.log(JSON.stringify(row));
client.close();
