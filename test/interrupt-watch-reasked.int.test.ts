// client.interrupts.watch across a thread's later parks: a question still pending when its thread
// parks again (the others of its park answered) keeps its place in the feed, so a watch
// continued from a stored cursor still delivers it. In-process worker on real Postgres, Redis
// and BullMQ.
import { afterAll, beforeAll, expect, it } from "vitest";
import { take } from "./support/feed.ts";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let stopWorker: () => Promise<void>;
beforeAll(async () => {
  h = await createHarness("interrupt_watch_reasked");
  stopWorker = await h.startWorker();
}, 60_000);
afterAll(async () => {
  await stopWorker?.();
  await h?.close();
});

it("delivers a question its thread asks again while pending, after a cursor past its park's earlier ones", async () => {
  const { runId, threadId } = await h.client.runs.start({
    graphId: "fanout",
    input: { items: ["a", "b", "c"] },
  });
  expect((await h.client.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe("interrupted");
  // The app posts the first two questions, stores the second's cursor, and stops.
  const watch = h.client.interrupts.watch({ graphId: "fanout", batchSize: 2 });
  const [first, second] = await take(watch, 2);
  watch.close();
  // People answer those two: the thread parks again, waiting for the third alone.
  const answered = { [first?.id as string]: "ok", [second?.id as string]: "ok" };
  const resumed = await h.client.threads.resume(threadId, answered);
  expect((await h.client.runs.wait(resumed.runId, { timeoutMs: 20_000 })).status).toBe("interrupted");
  const [third] = (await h.client.interrupts.list({ graphId: "fanout" })).interrupts;
  expect(third?.value).toEqual({ review: "c" });

  const again = h.client.interrupts.watch({ graphId: "fanout", after: second?.cursor as string });
  const rest = await take(again, 1);
  again.close();
  expect(rest.map((i) => i.id)).toEqual([third?.id]);
}, 30_000);
