// What wakes interrupts.watch: a watch of one graph reads Postgres when a run of that graph parks
// (and every pollMs), not at every park of every graph: beside a busy graph, a dashboard of a
// quiet one costs Postgres nothing. In-process worker on real Postgres, Redis and BullMQ.
import { afterAll, beforeAll, expect, it } from "vitest";
import { take } from "./support/feed.ts";
import { countingClient, createHarness, type Harness, parkedApproval } from "./support/harness.ts";

const PARKS = 20;

let h: Harness;
let counting: Awaited<ReturnType<typeof countingClient>>;
beforeAll(async () => {
  h = await createHarness("interrupt_watch_wakes");
  await h.startWorker();
  counting = await countingClient(h);
}, 60_000);
afterAll(async () => {
  await counting?.close();
  await h?.close();
});

it("a watch of one graph is not woken by another graph's parks, and is by its own", async () => {
  // Polls once a minute: any read during the parks below is one a park's event caused.
  const quiet = counting.client.interrupts.watch({ graphId: "slow-chain", pollMs: 60_000 });
  const waiting = quiet.next();
  await new Promise((resolve) => setTimeout(resolve, 300)); // its first read
  const busy = await counting.counted(async () => {
    for (let i = 0; i < PARKS; i++) await parkedApproval(h, `busy-${i}`);
  });
  expect(busy.statements).toBe(0);
  quiet.close();
  expect(await waiting).toEqual({ done: true, value: undefined });

  // The same client's watch of the graph that parks is woken by each park, in time.
  const own = counting.client.interrupts.watch({ graphId: "approval", from: "now", pollMs: 60_000 });
  const [delivered] = await Promise.all([
    take(own, 2),
    parkedApproval(h, "own-1"),
    parkedApproval(h, "own-2"),
  ]);
  expect(delivered.map((i) => (i.value as { question: string }).question).sort()).toEqual([
    "approve own-1?",
    "approve own-2?",
  ]);
  own.close();
});
