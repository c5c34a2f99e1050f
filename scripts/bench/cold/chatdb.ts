/** Cold start, chatdb: open the file, read one chat_info row, print it. argv: path, chat. */
import { DatabaseWrapper } from "../../../src/index.ts";

const db = new DatabaseWrapper(process.argv[2] as string);
console.log(JSON.stringify(await db.getChatInfo(Number(process.argv[3]))));
await db.close();
