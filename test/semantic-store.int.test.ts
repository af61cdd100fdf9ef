// Semantic search on workers: the deployment's store, given an index (the graphs module's `export
// const storeIndex`, which layover-worker passes to createWorker's storeIndex), embeds what
// producers and runs put, and a node's search by meaning finds the closest memory.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { LayoverClient } from "@layover/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeIndex } from "./fixtures/semantic-memory.ts";
import { anotherClient, createHarness, type Harness } from "./support/harness.ts";

const MODULE = fileURLToPath(new URL("./fixtures/semantic-memory.ts", import.meta.url));
const GRAPH_NAMED_STORE_INDEX = fileURLToPath(
  new URL("./fixtures/graph-named-store-index.ts", import.meta.url),
);

let h: Harness;
let client: LayoverClient;

beforeAll(async () => {
  h = await createHarness("semantic_store");
  // layover-worker given the module: its graphs, and the store index it exports beside them.
  await h.spawnWorker("semantic", { STEP_BUDGET_STEPS: "1" }, MODULE);
  client = anotherClient(h, { storeIndex });
}, 60_000);
afterAll(async () => {
  await client?.close();
  await h?.close();
});

describe("semantic search in the deployment's store", () => {
  it("finds the memory closest to a run's question in a worker process, from what a producer put", async () => {
    const user = `u-${randomUUID()}`;
    await client.store.put(["memories", user], "food", { text: "likes sushi and fish" });
    await client.store.put(["memories", user], "drink", { text: "drinks tea" });
    await client.store.put(["memories", user], "dessert", { text: "cake cake coffee" });
    const asked = await Promise.all(
      ["any fish tonight", "tea please", "a cake", "some fish"].map(async (question) => {
        const { runId } = await client.runs.start({
          graphId: "semantic-recall",
          input: { userId: user, question },
        });
        return client.runs.wait(runId, { timeoutMs: 20_000 });
      }),
    );
    expect(asked.map((run) => [run.status, (run.values as { closest?: string }).closest])).toEqual([
      ["success", "likes sushi and fish"],
      ["success", "drinks tea"],
      ["success", "cake cake coffee"],
      ["success", "likes sushi and fish"],
    ]);
  });

  it("embeds what a run puts: a producer's search by meaning finds it, scored", async () => {
    const user = `u-${randomUUID()}`;
    const { runId } = await client.runs.start({
      graphId: "semantic-recall",
      input: { userId: user, question: "is there rice with the fish" },
    });
    expect((await client.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe("success");
    const [found] = await client.store.search(["questions", user], { query: "rice" });
    expect(found?.key).toBe("is there rice with the fish");
    expect(found?.score).toBeCloseTo(1 / Math.sqrt(2), 6);
  });
});

describe("a graphs module without a store index", () => {
  it("serves a graph named storeIndex from `export const graphs` that is also the default export, reading no index from it", async () => {
    // export const graphs = { storeIndex: graph }; export default graphs — the default export is
    // the graphs map itself, so its "storeIndex" is a graph id, not an index (as when the module
    // has only the default export).
    const own = await createHarness("store_index_graph");
    try {
      await own.spawnWorker("named", {}, GRAPH_NAMED_STORE_INDEX);
      const { runId } = await own.client.runs.start({ graphId: "storeIndex", input: { n: 2 } });
      expect(await own.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({
        status: "success",
        values: { n: 4 },
      });
    } finally {
      await own.close();
    }
  }, 60_000);
});
