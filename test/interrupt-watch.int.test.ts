// client.interrupts.watch: the feed an app wires to where people answer (a Slack message with
// Approve / Reject buttons). Each question once it is pending, in the order parks committed,
// continued from a stored cursor, never skipping a park that committed late. In-process worker
// on real Postgres, Redis and BullMQ.
import { InvalidInputError } from "@layover/graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { take } from "./support/feed.ts";
import { createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;
let stopWorker: () => Promise<void>;
beforeAll(async () => {
  h = await createHarness("interrupt_watch");
  stopWorker = await h.startWorker();
}, 60_000);
afterAll(async () => {
  await stopWorker?.();
  await h?.close();
});

/** Parks an approval thread per item, one after the other; their thread ids in that order. */
async function park(...items: string[]): Promise<string[]> {
  const threads: string[] = [];
  for (const item of items) threads.push((await parkedApproval(h, item)).threadId);
  return threads;
}

describe("interrupts.watch", () => {
  it("delivers what is pending in park order, then each new question as its run parks", async () => {
    const graphId = "approval";
    const before = await park("w-a", "w-b");
    // Polls once a minute: only the parks' events can bring the later ones in time.
    const watch = h.client.interrupts.watch({ graphId, pollMs: 60_000 });
    const first = await take(watch, 2);
    expect(first.map((i) => i.threadId)).toEqual(before);
    expect(first[0]).toMatchObject({
      graphId,
      status: "pending",
      node: "review",
      value: { question: "approve w-a?" },
    });
    const [later] = await Promise.all([take(watch, 2), park("w-c", "w-d")]);
    expect(later.map((i) => (i.value as { question: string }).question)).toEqual([
      "approve w-c?",
      "approve w-d?",
    ]);
    watch.close();
  });

  it("continues from a stored cursor: after a restart, none missed and none repeated", async () => {
    const threads = await park("c-a", "c-b", "c-c");
    const pending = (await h.client.interrupts.list({ graphId: "approval" })).interrupts.length;
    const watch = h.client.interrupts.watch({ graphId: "approval" });
    const seen = await take(watch, pending); // the earlier test's questions too
    // The app handled the first of the three and stored its cursor; then it stopped.
    const cursor = seen.find((i) => i.threadId === threads[0])?.cursor as string;
    watch.close();
    const [late] = await park("c-d");
    const again = h.client.interrupts.watch({ after: cursor });
    const rest = await take(again, 3);
    expect(rest.map((i) => i.threadId)).toEqual([threads[1], threads[2], late]);
    again.close();
  }, 30_000);

  it("the README's loop: a first start, with no cursor stored yet, begins with what is pending", async () => {
    const [threadId] = await park("first-start");
    const loadCursor = async (): Promise<string | undefined> => undefined; // nothing stored yet
    const pending = (await h.client.interrupts.list({ graphId: "approval" })).interrupts.length;
    const watch = h.client.interrupts.watch({ graphId: "approval", after: await loadCursor() });
    const seen = await take(watch, pending);
    expect(seen.map((i) => i.threadId)).toContain(threadId);
    watch.close();
  });

  it("does not skip a question whose park commits after a later park", async () => {
    const [answered] = await park("slow");
    await h.client.threads.resume(answered as string, "yes");
    const watch = h.client.interrupts.watch({ from: "now", pollMs: 60_000 });
    // A park that began first and commits last: its question pending again, in a transaction
    // still open while a later park commits.
    const slow = await h.pool.connect();
    try {
      await slow.query("BEGIN");
      await slow.query(
        `UPDATE "${h.schema}".interrupts SET status = 'pending', resolved_by = NULL, resolved_at = NULL WHERE thread_id = $1`,
        [answered],
      );
      const delivered = take(watch, 2);
      const [quick] = await park("quick");
      await new Promise((resolve) => setTimeout(resolve, 300));
      await slow.query("COMMIT");
      expect((await delivered).map((i) => i.threadId)).toEqual([answered, quick]);
    } finally {
      slow.release();
      watch.close();
    }
  });

  it('from "now" leaves out a question parked before the watch, though a transaction older than it was open', async () => {
    // Any write transaction open on the server (a migration, a batch job, a session idle in
    // one) held the feed's "now" back to before it: parks committed since came as new.
    const holder = await h.pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_current_xact_id()");
      const [before] = await park("before-now");
      const watch = h.client.interrupts.watch({ graphId: "approval", from: "now", pollMs: 100 });
      const next = take(watch, 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await holder.query("COMMIT");
      const [after] = await park("after-now");
      const [first] = await next;
      watch.close();
      expect(first?.threadId).toBe(after);
      expect(first?.threadId).not.toBe(before);
    } finally {
      holder.release();
    }
  });

  it("ends when its signal aborts, also one aborted before it began", async () => {
    const aborted = h.client.interrupts.watch({ signal: AbortSignal.abort() });
    expect(await aborted.next()).toEqual({ done: true, value: undefined });
    const controller = new AbortController();
    const watch = h.client.interrupts.watch({ from: "now", signal: controller.signal });
    const next = watch.next();
    setTimeout(() => controller.abort(), 50);
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it("refuses options it cannot use, naming them, before reading anything", () => {
    const refusals: Array<[object, string]> = [
      [{ after: "not-a-cursor" }, "after must be the cursor of an interrupt a watch delivered"],
      // An order past what the statement's integer holds: refused here, not by Postgres.
      [
        { after: Buffer.from(JSON.stringify(["5", 2 ** 31, "x"])).toString("base64url") },
        "after must be the cursor of an interrupt a watch delivered",
      ],
      [{ from: "yesterday" }, 'from must be "pending" or "now"'],
      [{ pollMs: 0 }, "pollMs must be a whole number of milliseconds from 10"],
      [{ batchSize: 5_000 }, "batchSize must be a whole number from 1 to 1000"],
      [{ graphId: "a\u0000b" }, "graphId must be a string without NUL characters"],
    ];
    for (const [options, message] of refusals) {
      const refused = () => h.client.interrupts.watch(options as never);
      expect(refused).toThrow(InvalidInputError);
      expect(refused).toThrow(message);
    }
  });
});
