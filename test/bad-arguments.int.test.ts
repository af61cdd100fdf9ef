// What a careless caller passes the producer client (a cyclic value, a key Postgres cannot hold,
// a null where options go…): a typed error that names the argument, and nothing written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows, createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("bad_arguments");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const rows = async () => ({
  threads: await countRows(h, "threads"),
  runs: await countRows(h, "runs"),
  crons: await countRows(h, "crons"),
});

describe("values that cannot be stored", () => {
  it("refuses a cyclic input, answer or update by its path instead of overflowing the stack", async () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const { threadId } = await parkedApproval(h, "cyclic");
    const before = await rows();
    for (const call of [
      () => h.client.runs.start({ graphId: "approval", input: { item: cyclic as never } }),
      () =>
        h.client.crons.create({
          graphId: "approval",
          schedule: "0 0 1 1 *",
          input: { item: cyclic as never },
        }),
      () => h.client.threads.resume(threadId, cyclic),
      () => h.client.threads.resume(threadId, "yes", { update: { item: cyclic as never } }),
    ])
      await expect(call()).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("cycle"),
      });
    expect(await rows()).toEqual(before);
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
  });
});
