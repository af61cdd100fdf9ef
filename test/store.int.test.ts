// The long-term store on workers: graphs served without a store of their own get the
// deployment's Postgres store, so what one thread's run remembers, another thread's run on any
// worker recalls, and producers read and seed the same items (client.store).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anotherClient, createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("store");
  await h.startWorker({ id: "memory-a", budget: { steps: 1, ms: 1_000 } });
  await h.spawnWorker("memory-b", { STEP_BUDGET_STEPS: "1" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function run(input: Record<string, unknown>, graphId = "remembering") {
  const { runId } = await h.client.runs.start({ graphId, input });
  return h.client.runs.wait(runId, { timeoutMs: 20_000 });
}

describe("the deployment's long-term store", () => {
  it("keeps what one thread's run remembers for the user's later runs on other threads, whichever worker runs them", async () => {
    const user = `u-${randomUUID()}`;
    await Promise.all([
      run({ userId: user, note: "likes window seats" }),
      run({ userId: user, note: "vegetarian" }),
    ]);
    await run({ userId: `other-${user}`, note: "not theirs" });
    const later = await run({ userId: user });
    expect(later.status).toBe("success");
    expect((later.values as { recalled: string[] }).recalled).toEqual(["likes window seats", "vegetarian"]);
  });

  it("is the store producers read and seed: client.store sees a run's memories, and a run sees what a client put", async () => {
    const user = `u-${randomUUID()}`;
    const other = anotherClient(h);
    try {
      await other.store.put(["prefs", user], "seat", { seat: "aisle" });
      const done = await run({ userId: user, note: "flies from Berlin" });
      expect((done.values as { seat?: string }).seat).toBe("aisle");
      const items = await h.client.store.search(["memories", user]);
      expect(items.map((item) => item.value)).toEqual([{ text: "flies from Berlin" }]);
      expect(await h.client.store.listNamespaces({ prefix: ["prefs", user] })).toEqual([["prefs", user]]);
      await other.store.delete(["prefs", user], "seat");
      expect((await run({ userId: user })).values).not.toHaveProperty("seat");
    } finally {
      await other.close();
    }
  });

  it("reaches a subgraph's nodes even where the subgraph was compiled with an InMemoryStore of its own", async () => {
    const user = `u-${randomUUID()}`;
    await run({ userId: user, note: "likes window seats" });
    await Promise.all([
      run({ userId: user, note: "vegetarian" }, "remembering-nested"),
      run({ userId: user, note: "flies from Berlin" }, "remembering-nested"),
    ]);
    const texts = (await h.client.store.search(["memories", user])).map((item) => item.value.text);
    expect(texts.sort()).toEqual(["flies from Berlin", "likes window seats", "vegetarian"]);
    const later = await run({ userId: user }, "remembering-nested");
    expect((later.values as { recalled: string[] }).recalled).toEqual([
      "flies from Berlin",
      "likes window seats",
      "vegetarian",
    ]);
  });

  it("refuses what Postgres cannot hold with a typed error, writing nothing", async () => {
    const user = `u-${randomUUID()}`;
    await expect(h.client.store.put(["prefs", user], "bad", { note: "a\u0000b" })).rejects.toMatchObject({
      code: "INVALID_STORE_OPERATION",
    });
    expect(await h.client.store.get(["prefs", user], "bad")).toBeNull();
  });
});
