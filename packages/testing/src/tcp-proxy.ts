import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

/** What a proxy's connections pass, as the outage a test has caused leaves them. */
interface ProxyState {
  sockets: Set<Socket>;
  /** Connections that went through a freeze a restore left silent (see restore). */
  dead: Set<Socket>;
  /** Since freeze(): no bytes pass either way. */
  frozen: boolean;
  /** Since deafen(): the server's bytes do not pass. */
  deaf: boolean;
  /** Since cut() or close(): every connection, and every new one, is closed. */
  down: boolean;
  /** Since slow(): how long each chunk takes to pass, either way (a distant server). */
  delayMs: number;
}

/**
 * Connects `client` to the server at `host`:`port` and passes bytes either way, as `state` lets
 * them through; a proxy that is down closes `client` at once.
 */
function relay(client: Socket, { host, port }: { host: string; port: number }, state: ProxyState): void {
  if (state.down) {
    client.destroy();
    return;
  }
  const upstream = connect({ port, host, allowHalfOpen: true });
  for (const [from, to] of [
    [client, upstream],
    [upstream, client],
  ] as const) {
    state.sockets.add(from);
    from.on("error", () => from.destroy());
    // A dead connection passes no FIN and no close either: its peer is gone without a trace.
    // Since slow(), a FIN and a close wait as the bytes do, and so never overtake them.
    const inTurn = (pass: () => void) => (state.delayMs > 0 ? setTimeout(pass, state.delayMs) : pass());
    from.on("end", () => {
      if (!state.dead.has(from)) inTurn(() => to.end());
    });
    from.on("close", () => {
      const dead = state.dead.delete(from);
      state.sockets.delete(from);
      if (!dead) inTurn(() => to.destroy());
    });
    from.on("data", (chunk) => {
      if (state.frozen || state.dead.has(from) || (state.deaf && from === upstream)) return;
      inTurn(() => to.write(chunk));
    });
  }
}

/**
 * A TCP proxy to the server at `url` (postgres:// or redis://), for outages a test can cause
 * without touching the real server: `freeze()` stops passing bytes either way (a silent
 * network: connections stay open, nothing arrives), `deafen()` passes what clients send but
 * none of the server's answers (statements run, commit, and nobody hears it: with a `cut()`
 * after, a crash that loses the answers of commits made), `cut()` closes every connection and
 * every new one at once (a crash: the client reconnects in vain). The proxy keeps its port until
 * `close()` (`restore()` brings the server back): a port given up could be taken by another test's listener (or by a client's own
 * reconnect, connecting to itself), and the "crashed" server would answer again. `url` of the
 * result is `url` with the proxy's host and port.
 */
export async function tcpProxy(url: string) {
  const target = new URL(url);
  const defaultPort = target.protocol.startsWith("redis") ? 6379 : 5432;
  const upstreamAt = { host: target.hostname, port: Number(target.port || defaultPort) };
  const state: ProxyState = {
    sockets: new Set(),
    dead: new Set(),
    frozen: false,
    deaf: false,
    down: false,
    delayMs: 0,
  };
  // Half-open allowed: a FIN is passed on (or, on a dead connection, swallowed), not answered here.
  const server = createServer({ allowHalfOpen: true }, (client) => relay(client, upstreamAt, state));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String((server.address() as AddressInfo).port);
  return {
    url: proxied.toString(),
    freeze() {
      state.frozen = true;
    },
    deafen() {
      state.deaf = true;
    },
    /** Passes every chunk `ms` late, either way: a server far away (set it before connections open). */
    slow(ms: number) {
      state.delayMs = ms;
    },
    cut() {
      state.down = true;
      for (const socket of state.sockets) socket.destroy();
    },
    /**
     * Passes bytes again and takes new connections: the server is back. A connection open
     * through a freeze lost the bytes sent meanwhile; its client has to drop it. With
     * `keepFrozen`, the connections open through the freeze stay silent for good, without an
     * RST (a peer gone while a NAT or conntrack entry went with it): they pass no bytes, no FIN
     * and no close, so a client closing one politely waits for an answer that never comes; only
     * new ones pass bytes.
     */
    restore(options: { keepFrozen?: boolean } = {}) {
      if (state.frozen && options.keepFrozen) for (const socket of state.sockets) state.dead.add(socket);
      state.frozen = false;
      state.deaf = false;
      state.down = false;
    },
    /** Closes every connection and gives the port up. */
    async close() {
      state.down = true;
      for (const socket of state.sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
