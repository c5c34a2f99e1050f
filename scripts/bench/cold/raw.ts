/** Cold start, raw bun:sqlite: open the file, read one chat_info row, print it. argv: path, chat. */
import { Database } from "bun:sqlite";

const db = new Database(process.argv[2] as string, { readwrite: true });
const row = db.query("SELECT * FROM chat_info WHERE chat_id = ?").get(Number(process.argv[3]));
console.log(JSON.stringify(row));
db.close();
