import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

/**
 * A TCP proxy to the server at `url` (postgres:// or redis://), for outages a test can cause
 * without touching the real server: `freeze()` stops passing bytes either way (a silent
 * network: connections stay open, nothing arrives), `cut()` closes every connection and stops
 * listening (a crash). `url` of the result is `url` with the proxy's host and port.
 */
export async function tcpProxy(url: string) {
  const target = new URL(url);
  const defaultPort = target.protocol.startsWith("redis") ? 6379 : 5432;
  const sockets = new Set<Socket>();
  let frozen = false;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || defaultPort), target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on("error", () => from.destroy());
      from.on("close", () => {
        sockets.delete(from);
        to.destroy();
      });
      from.on("data", (chunk) => {
        if (!frozen) to.write(chunk);
      });
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String((server.address() as AddressInfo).port);
  return {
    url: proxied.toString(),
    freeze() {
      frozen = true;
    },
    cut() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
