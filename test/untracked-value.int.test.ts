// An UntrackedValue on workers: a key that holds what no checkpoint can (here a client with a
// function) lives while one job runs the run's supersteps, and never leaves that process — not
// in Postgres, not in runs.wait's values, not in runs.stream's chunks — so a run that parks and
// is resumed elsewhere finds it gone and makes it again.
import {
  Command,
  END,
  interrupt,
  MemorySaver,
  START,
  StateGraph,
  StateSchema,
  UntrackedValue,
} from "@layover/graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { collectParts, createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

/** A connection of the job's own: a function no checkpoint could hold. */
const connect = (who: string) => ({ who, send: (text: string) => `${text} via ${who}` });
type Client = ReturnType<typeof connect>;

const State = new StateSchema({
  log: z.array(z.string()).default([]),
  client: new UntrackedValue<Client>(),
});

const untrackedClient = new StateGraph(State)
  .addNode("open", () => ({ client: connect("first job") }))
  .addNode("ask", (s) => {
    const answer = interrupt("send?");
    const client = s.client ?? connect("resume");
    return { log: [...s.log, client.send(String(answer))], client };
  })
  .addNode("close", (s) => ({ log: [...s.log, `closed ${s.client?.who}`] }))
  .addEdge(START, "open")
  .addEdge("open", "ask")
  .addEdge("ask", "close")
  .addEdge("close", END)
  .compile();

beforeAll(async () => {
  h = await createHarness("untracked_value");
  await h.startWorker({ id: "untracked-a", graphs: { "untracked-client": untrackedClient } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("UntrackedValue on workers", () => {
  it("parks and resumes a run whose state holds a function, which no read, wait or stream shows", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "untracked-client",
      input: {},
      config: { streamMode: ["values", "updates"] },
    });
    const parked = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    expect(parked.status).toBe("interrupted");
    expect(parked.values).toEqual({ log: [] });
    const started = await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    const shown = started.filter((p) => p.event !== "end").map((p) => [p.event, p.data]);
    expect(shown).toContainEqual(["updates", { open: {} }]); // the update, without the client
    expect(JSON.stringify(shown)).not.toContain("first job");

    const resumed = await h.client.threads.resume(threadId, "hello", { streamMode: "values" });
    const done = await h.client.runs.wait(resumed.runId, { timeoutMs: 20_000 });
    expect(done.status).toBe("success");
    // The resume's job had no client from the first: "ask" made its own, and "close" saw it.
    expect(done.values).toEqual({ log: ["hello via resume", "closed resume"] });
    expect((await h.client.threads.get(threadId)).values).toEqual(done.values);
    const history = [];
    for await (const checkpoint of h.client.threads.history(threadId)) history.push(checkpoint);
    expect(JSON.stringify(history)).not.toMatch(/first job|via resume"?,"who/);
    const streamed = await collectParts(h.client.runs.stream(resumed.runId, { timeoutMs: 20_000 }));
    expect(streamed.at(-1)?.data).toMatchObject({ status: "success", values: done.values });
    expect(JSON.stringify(streamed)).not.toContain('"who"');
  });

  it("in one process keeps it between supersteps and returns it, as LangGraph's invoke", async () => {
    const graph = untrackedClient.withCheckpointer(new MemorySaver());
    const config = { configurable: { thread_id: "local" } };
    expect((await graph.invoke({}, config)).client?.who).toBe("first job");
    const result = await graph.invoke(new Command({ resume: "hi" }), config);
    expect(result).toMatchObject({ log: ["hi via resume", "closed resume"] });
    expect(result.client?.who).toBe("resume");
  });
});
