// The options of the calls that read and delete: a key one does not take (a misspelling, another
// call's option) is refused naming it, as runs.start's and threads.resume's are. Each was
// dropped, and the call did what was not asked: threads.prune({ graphId }) deleted every graph's
// old threads, prune's `status` (for `statuses`) deleted finished threads kept for audit,
// interrupts.list({ thread_id }) listed every thread's questions, a watch of `graph` watched all.
import type { RunStreamPart } from "@layover/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectParts, createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("read_options");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const DAY = 86_400_000;

/** A thread that ran `graphId` to its end, untouched "for 40 days". */
async function oldThread(graphId: string): Promise<string> {
  const { runId, threadId } = await h.client.runs.start({ graphId, input: {} });
  await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  await h.pool.query(
    `UPDATE "${h.schema}".threads SET updated_at = now() - interval '40 days' WHERE id = $1`,
    [threadId],
  );
  return threadId;
}

async function exists(threadId: string): Promise<boolean> {
  const { rows } = await h.pool.query(`SELECT 1 FROM "${h.schema}".threads WHERE id = $1`, [threadId]);
  return rows.length === 1;
}

describe("threads.prune", () => {
  it("refuses a key it does not take (graphId), deleting nothing, instead of pruning every graph", async () => {
    const linear = await oldThread("linear");
    const flaky = await oldThread("flaky");
    const olderThan = new Date(Date.now() - 30 * DAY);
    await expect(h.client.threads.prune({ olderThan, graphId: "linear" } as never)).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringMatching(
        /threads\.prune's options takes no "graphId": it takes olderThan, statuses, limit/,
      ),
    });
    expect([await exists(linear), await exists(flaky)]).toEqual([true, true]);
  });

  it('refuses "status" for "statuses", naming the one meant, instead of pruning the default statuses', async () => {
    const finished = await oldThread("linear");
    const olderThan = new Date(Date.now() - 30 * DAY);
    await expect(
      h.client.threads.prune({ olderThan, status: ["interrupted"] } as never),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining('"status"') });
    expect(await exists(finished)).toBe(true);
  });

  it("refuses options that are not an object", async () => {
    await expect(h.client.threads.prune(null as never)).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });
});

describe("reads", () => {
  it("interrupts.list refuses thread_id, naming threadId, instead of listing every thread's questions", async () => {
    const { threadId } = await parkedApproval(h, "list-a");
    await expect(h.client.interrupts.list({ thread_id: threadId } as never)).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining('"thread_id" is threadId here'),
    });
    const page = await h.client.interrupts.list({ threadId });
    expect(page.interrupts.map((i) => i.threadId)).toEqual([threadId]);
  });

  it("interrupts.watch refuses graph (for graphId) instead of watching every graph", async () => {
    expect(() => h.client.interrupts.watch({ graph: "picky-approval" } as never)).toThrow(
      expect.objectContaining({
        code: "INVALID_INPUT",
        message: expect.stringContaining('takes no "graph"'),
      }),
    );
  });

  it("runs.stream refuses lastEventID instead of replaying from the first chunk", async () => {
    const { runId } = await h.client.runs.start({
      graphId: "linear",
      input: {},
      config: { streamMode: "updates" },
    });
    const all = await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    const first = all[0] as RunStreamPart;
    expect(() => h.client.runs.stream(runId, { lastEventID: first.id } as never)).toThrow(
      expect.objectContaining({
        code: "INVALID_INPUT",
        message: expect.stringContaining('"lastEventID" is lastEventId here'),
      }),
    );
    // Spelt right, it resumes after the chunk.
    const after = await collectParts(h.client.runs.stream(runId, { lastEventId: first.id }));
    expect(after.map((p) => p.id)).toEqual(all.slice(1).map((p) => p.id));
  });

  it("runs.wait refuses a key it does not take", async () => {
    const { runId } = await h.client.runs.start({ graphId: "linear", input: {} });
    await expect(h.client.runs.wait(runId, { timeout: 5_000 } as never)).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining('takes no "timeout"'),
    });
  });

  it("threads.history refuses limt, and takes LangGraph's before and filter", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "linear", input: {} });
    await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    const read = async (options: object) => {
      const ids: string[] = [];
      for await (const snapshot of h.client.threads.history(threadId, options as never))
        ids.push(snapshot.checkpointId);
      return ids;
    };
    await expect(read({ limt: 1 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining('takes no "limt"'),
    });
    const all = await read({});
    expect(all.length).toBeGreaterThan(3);
    expect(await read({ before: all[1], limit: 2 })).toEqual(all.slice(2, 4));
    const inputs = await read({ filter: { source: "input" } });
    expect(inputs).toEqual([all.at(-1)]);
    await expect(read({ before: 7 })).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("reconcile refuses a key it does not take", async () => {
    await expect(h.client.reconcile({ minAge: 0 } as never)).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining('takes no "minAge"'),
    });
  });
});
