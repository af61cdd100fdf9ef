// The outage gate against a real Postgres behind a network that goes silent and comes back: a
// job whose statement was lost to the silence is put back unspent, even when Postgres answers by
// the time the gate asks (the silence ended between the statement's send and its timeout).
import { setTimeout as sleep } from "node:timers/promises";
import type { Job } from "bullmq";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { connectPostgres } from "./connections.ts";
import { postgresOutageGate } from "./postgres-outage.ts";
import { laneTests } from "./test-support/lanes.ts";

const { track, proxied } = laneTests();

/**
 * A statement sent while the network is silent and failed (Query read timeout) after it came
 * back: what a job whose last statement straddled the end of a partition fails with.
 */
async function lostAcrossTheEnd(statementTimeoutMs?: number) {
  const proxy = await proxied();
  const timeouts = {
    queryTimeoutMs: 600,
    ...(statementTimeoutMs === undefined ? {} : { statementTimeoutMs }),
  };
  const pool = track(connectPostgres(proxy.url, 4, timeouts, 2));
  pool.on("error", () => {}); // the gate's pooled connection sees the proxy close after the test
  await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")]); // both lanes up
  proxy.freeze();
  const failed = pool.query("SELECT 3").then(
    () => undefined,
    (error: unknown) => error,
  );
  await sleep(300);
  proxy.restore({ keepFrozen: true }); // the partition ends; what went through it stays lost
  const error = await failed;
  expect(error).toMatchObject({ message: "Query read timeout" });
  return { pool, error };
}

function heldJob(id: string) {
  const moves: string[] = [];
  const job = { id, moveToWait: async (token: string) => void moves.push(token) } as unknown as Job;
  return { job, moves };
}

describe("a statement lost to a silence that ended before the gate asks", () => {
  it("puts the job back unspent: with statement_timeout shorter than the query timeout, Postgres would have answered", async () => {
    const { pool, error } = await lostAcrossTheEnd();
    const logged: { jobId?: string; hold?: number; msg?: string }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const gate = postgresOutageGate(pool, () => undefined, logger);
    const { job, moves } = heldJob("straddled");
    try {
      // The job began before the partition; Postgres answers the gate's question now.
      expect(await gate.holdIfDown(error, job, "token", Date.now() - 5_000)).toBe(true);
      expect(moves).toEqual(["token"]);
      // Said once, at info, with the job and which hold it was.
      expect(logged.map(({ jobId, hold, msg }) => ({ jobId, hold, msg }))).toEqual([
        { jobId: "straddled", hold: 1, msg: expect.stringContaining("goes back unspent") },
      ]);
    } finally {
      gate.close();
    }
  });

  it("puts the same job back a few times only: a silence that keeps coming back for it is charged", async () => {
    const { pool, error } = await lostAcrossTheEnd();
    const gate = postgresOutageGate(pool, () => undefined, pino({ level: "silent" }));
    const { job } = heldJob("again-and-again");
    try {
      const held: boolean[] = [];
      for (let i = 0; i < 5; i++) held.push(await gate.holdIfDown(error, job, "token", Date.now() - 5_000));
      expect(held).toEqual([true, true, true, false, false]);
    } finally {
      gate.close();
    }
  });

  it("charges the job without a statement_timeout (behind PgBouncer): the silence may be a slow statement", async () => {
    const { pool, error } = await lostAcrossTheEnd(0);
    const gate = postgresOutageGate(pool, () => undefined, pino({ level: "silent" }));
    const { job, moves } = heldJob("slow-maybe");
    try {
      expect(await gate.holdIfDown(error, job, "token", Date.now() - 5_000)).toBe(false);
      expect(moves).toEqual([]);
    } finally {
      gate.close();
    }
  });
});
