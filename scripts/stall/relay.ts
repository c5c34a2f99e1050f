/** A TCP relay in front of a PostgreSQL server, shared by the stall cases and the tests. */
import { connect, createServer, type Server, type Socket } from "node:net";

export const PG_URL = process.env.CHATDB_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * A TCP relay in front of the server, so a test can make "the server" go away and come back
 * without touching the real one (shared with other processes). `stop()` closes the listener
 * and cuts every relayed connection; `start()` listens again on the same port.
 */
export async function pgProxy() {
  const target = new URL(PG_URL);
  const upstream = { host: target.hostname, port: Number(target.port || 5432) };
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const up = connect(upstream);
        for (const s of [client, up]) {
          sockets.add(s);
          s.on("error", () => {});
          s.on("close", () => {
            sockets.delete(s);
            client.destroy();
            up.destroy();
          });
        }
        client.pipe(up);
        up.pipe(client);
      });
      const listening = server;
      listening.once("error", reject);
      listening.listen(port, "127.0.0.1", () => {
        port = (listening.address() as { port: number }).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await start();
  const proxied = new URL(PG_URL);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(port);
  return { url: proxied.toString(), start, stop, [Symbol.asyncDispose]: stop };
}
