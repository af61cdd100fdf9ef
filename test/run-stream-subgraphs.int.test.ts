// runs.stream with streamSubgraphs: a subgraph's parts come with the event "<mode>|<namespace>",
// as LangGraph's server streams them, in the order stream(…, { subgraphs: true }) gives in-process.
import { Command, MemorySaver } from "@layover/graph";
import type { RunStreamPart } from "@layover/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subNode } from "./fixtures/subgraph-shapes.ts";
import { collectParts, createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("run_stream_subgraphs");
  await h.startWorker({ id: "sub-stream-a", budget: { steps: 1, ms: 1_000 } });
  await h.startWorker({ id: "sub-stream-b", budget: { steps: 1, ms: 1_000 } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** The parts as [event, data], task and interrupt ids left out (a worker seeds them with the run id). */
function shown(pairs: [string, unknown][]): unknown {
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
  return JSON.parse(JSON.stringify(pairs).replace(uuid, "<id>"));
}

/** In-process: the same graph, input and answer streamed with subgraphs: true, as [event, data]. */
const local = subNode.withCheckpointer(new MemorySaver());
async function inProcess(input: unknown, thread: string): Promise<[string, unknown][]> {
  const graph = local;
  const pairs: [string, unknown][] = [];
  for await (const [ns, chunk] of await graph.stream(input as never, {
    configurable: { thread_id: thread },
    subgraphs: true,
    streamMode: "updates",
  }))
    pairs.push([ns.length === 0 ? "updates" : `updates|${ns.join("|")}`, chunk]);
  return pairs;
}

describe("runs.stream with streamSubgraphs", () => {
  it("streams a subgraph's parts under '<mode>|<namespace>', start and resume, as in-process stream() does", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "sub-node",
      input: { value: "v" },
      config: { streamMode: "updates", streamSubgraphs: true },
    });
    const first = await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    const resumed = await h.client.threads.resume(threadId, "Ada", {
      streamMode: "updates",
      streamSubgraphs: true,
    });
    const second = await collectParts(h.client.runs.stream(resumed.runId, { timeoutMs: 20_000 }));
    expect(second.at(-1)?.data).toMatchObject({ status: "success" });

    const pairs = (parts: RunStreamPart[]) =>
      parts.filter((p) => p.event !== "end").map((p) => [p.event, p.data] as [string, unknown]);
    const localFirst = await inProcess({ value: "v" }, "local");
    const localResume = await inProcess(new Command({ resume: "Ada" }), "local");
    expect(shown(pairs(first))).toEqual(shown(localFirst));
    expect(shown(pairs(second))).toEqual(shown(localResume));
    expect(pairs(second).map(([event]) => event.replace(/:[0-9a-f-]+/, ":<id>"))).toEqual([
      "updates|sub:<id>",
      "updates",
      "updates",
    ]);
  });

  it("refuses a streamSubgraphs that is not true or false, writing nothing", async () => {
    await expect(
      h.client.runs.start({
        graphId: "sub-node",
        input: {},
        config: { streamMode: "updates", streamSubgraphs: "yes" as never },
      }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });
});
