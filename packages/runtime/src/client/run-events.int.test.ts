// The client's run events (real Redis): a wait may skip its first Postgres read only for a run
// whose every event reached the client, which a dropped subscription breaks.
import { randomUUID } from "node:crypto";
import { deleteRedisPrefix, getRedis, uniqueRedisPrefix } from "@layover/testing";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runEventsChannel } from "../jobs.ts";
import { RunEventHub } from "./run-events.ts";

const prefix = uniqueRedisPrefix("run_events");
const name = `run-events-${randomUUID()}`;
let connection: Redis;
let publisher: Redis;
let hub: RunEventHub;
let url: string;

beforeAll(async () => {
  url = await getRedis();
  // The hub's subscriber is a duplicate of this connection, with its name: the test finds it by it.
  connection = new Redis(url, { connectionName: name });
  publisher = new Redis(url);
  hub = new RunEventHub(connection, prefix, pino({ level: "silent" }));
  await hub.listen(randomUUID(), () => {}).ready;
});
afterAll(async () => {
  await hub?.close();
  await deleteRedisPrefix(url, prefix);
  connection?.disconnect();
  publisher?.disconnect();
});

/** Publishes a run event and resolves once the hub delivered it. */
async function announce(runId: string, status: string): Promise<void> {
  const delivered = new Promise<void>((resolve) => {
    const listening = hub.listen(runId, () => {
      listening.stop();
      resolve();
    });
  });
  await publisher.publish(runEventsChannel(prefix), JSON.stringify({ runId, threadId: "t", status }));
  await delivered;
}

/** The Redis client id of the hub's subscriber (found by its connection's name). */
async function subscriberId(): Promise<string | undefined> {
  const list = (await publisher.client("LIST")) as string;
  const line = list.split("\n").find((l) => l.includes(` name=${name} `) && /\bsub=[1-9]/.test(l));
  return line === undefined ? undefined : /\bid=(\d+)/.exec(line)?.[1];
}

it("keeps what it heard of a run it expected, once", async () => {
  const quiet = randomUUID();
  const settled = randomUUID();
  hub.expect(quiet, "t-quiet");
  hub.expect(settled, "t-settled");
  await announce(settled, "success");
  expect(hub.heard(quiet)).toEqual({ threadId: "t-quiet", status: undefined });
  expect(hub.heard(settled)).toEqual({ threadId: "t-settled", status: "success" });
  expect(hub.heard(settled)).toBeUndefined();
  expect(hub.heard(randomUUID())).toBeUndefined();
});

it("forgets what it expected when its subscription drops, and expects again once it stands", async () => {
  const before = randomUUID();
  hub.expect(before, "t");
  const killed = await subscriberId();
  expect(killed).toBeDefined();
  await publisher.client("KILL", "ID", killed as string);
  // The hub's connection is back (subscribed again by ioredis): the drop was seen before that.
  await expect.poll(subscriberId, { timeout: 5_000 }).not.toBe(killed);
  // An event published while it reconnected was lost: the expectation must not stand.
  expect(hub.heard(before)).toBeUndefined();
  await hub.listen(randomUUID(), () => {}).ready; // subscribed again
  const after = randomUUID();
  hub.expect(after, "t");
  await announce(after, "interrupted");
  expect(hub.heard(after)).toEqual({ threadId: "t", status: "interrupted" });
});

it("relies on events alone only for a moment after the run was recorded, unless one told of it", async () => {
  const silent = randomUUID();
  const told = randomUUID();
  hub.expect(silent, "t");
  hub.expect(told, "t");
  await announce(told, "success");
  // A run that settled without announcing it (its worker died before publishing) is read.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  expect(hub.heard(silent)).toBeUndefined();
  expect(hub.heard(told)).toEqual({ threadId: "t", status: "success" });
});
