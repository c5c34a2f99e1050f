/** Cold start, Kysely: open the file, read one chat_info row, print it. argv: path, chat. */
import { Database } from "bun:sqlite";
import { Kysely } from "kysely";
import { BunSqliteDialect } from "kysely-bun-sqlite";
import type { KyselyDb } from "../peers-schema.ts";

const db = new Kysely<KyselyDb>({
  dialect: new BunSqliteDialect({
    database: new Database(process.argv[2] as string, { readwrite: true }),
  }),
});
const row = await db
  .selectFrom("chat_info")
  .selectAll()
  .where("chat_id", "=", Number(process.argv[3]))
  .executeTakeFirst();
console.log(JSON.stringify(row));
await db.destroy();
