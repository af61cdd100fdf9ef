// The outages tcpProxy stages, as a client sees them.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { getPostgres } from "./postgres.ts";
import { tcpProxy } from "./tcp-proxy.ts";

describe("tcpProxy.slow", () => {
  it("passes a server's last message before its close: a statement that ends its own session fails with 57P01", async () => {
    const proxy = await tcpProxy(await getPostgres());
    try {
      proxy.slow(30); // a distant server: each chunk arrives 30 ms late, in order
      const client = new pg.Client({ connectionString: proxy.url });
      client.on("error", () => undefined);
      await client.connect();
      // The server answers with FATAL 57P01 and closes (as an operator's pg_terminate_backend).
      const failure = await client.query("SELECT pg_terminate_backend(pg_backend_pid())").then(
        () => "answered",
        (error: { code?: string; message: string }) => `${error.code ?? "-"}: ${error.message}`,
      );
      // Without slow(), as from a distant server, the FATAL arrives before the close.
      expect(failure).toBe("57P01: terminating connection due to administrator command");
    } finally {
      await proxy.close();
    }
  });
});
