// A reader that stops reading a stream (a `break` out of `for await`, a `return()`) stops its
// run, as LangGraph's does: a "stop generating" button or a dropped connection must not leave
// nodes calling models and tools in the background. The run stops after the superstep in flight
// (kept, as an abort's), so the thread can go on from there.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Annotation, END, MemorySaver, START, StateGraph } from "../index.ts";

const State = Annotation.Root({
  n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
});

/** A node that loops eight times, counting its runs, each taking a few milliseconds. */
function looping() {
  const ran = { count: 0, signals: [] as (AbortSignal | undefined)[] };
  const graph = new StateGraph(State)
    .addNode("a", async (_state, config) => {
      ran.signals.push(config.signal);
      await new Promise((resolve) => setTimeout(resolve, 20));
      ran.count += 1;
      return { n: 1 };
    })
    .addEdge(START, "a")
    .addConditionalEdges("a", (state) => (state.n >= 8 ? END : "a"))
    .compile({ checkpointer: new MemorySaver() });
  return { graph, ran };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

describe("a stream whose reader stops", () => {
  it("stops its run after the superstep in flight; the thread goes on from there", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() } };
    for await (const _chunk of await graph.stream({ n: 0 }, { ...config, streamMode: "updates" })) break;
    await settle();
    expect(ran.count).toBeLessThanOrEqual(2);
    const state = await graph.getState(config);
    expect(state.next).toEqual(["a"]);
    expect(state.values.n).toBe(ran.count);
    // Nodes saw the stop as an abort of their signal.
    expect(ran.signals[ran.signals.length - 1]?.aborted).toBe(true);
    expect(await graph.invoke(null, config)).toEqual({ n: 8 });
  });

  it("also when the caller gave a signal of its own, which stays unaborted", async () => {
    const { graph, ran } = looping();
    const controller = new AbortController();
    const config = { configurable: { thread_id: randomUUID() }, signal: controller.signal };
    const stream = await graph.stream({ n: 0 }, config);
    await stream.next();
    await stream.return?.(undefined);
    await settle();
    expect(ran.count).toBeLessThanOrEqual(2);
    expect(controller.signal.aborted).toBe(false);
  });

  it("streamEvents: a reader that stops stops the run too", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() }, version: "v2" as const };
    for await (const event of graph.streamEvents({ n: 0 }, config)) if (event.event === "on_chain_end") break;
    await settle();
    expect(ran.count).toBeLessThanOrEqual(2);
    expect((await graph.getState(config)).next).toEqual(["a"]);
  });

  it("a stream read to its end is not stopped: the run ends as invoke's", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() }, streamMode: "values" as const };
    const chunks = [];
    for await (const chunk of await graph.stream({ n: 0 }, config)) chunks.push(chunk);
    expect(chunks.at(-1)).toEqual({ n: 8 });
    expect(ran.count).toBe(8);
    expect(ran.signals.every((signal) => signal === undefined || !signal.aborted)).toBe(true);
  });
});

describe("a stream returned before its first read", () => {
  it("stops its run too", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() } };
    const stream = await graph.stream({ n: 0 }, config);
    await stream.return?.(undefined);
    await settle();
    expect(ran.count).toBeLessThanOrEqual(1);
    expect(await graph.invoke(null, config)).toEqual({ n: 8 });
  });
});

// As LangGraph's stream() and streamEvents(), a web ReadableStream too: server code pipes it,
// reads it with a reader, or sends it as a Response's body.
describe("a stream as a ReadableStream", () => {
  it("reads with getReader(), in order, to its end", async () => {
    const { graph } = looping();
    const config = { configurable: { thread_id: randomUUID() }, streamMode: "values" as const };
    const stream = await graph.stream({ n: 0 }, config);
    expect(stream).toBeInstanceOf(ReadableStream);
    const reader = stream.getReader();
    const read = [];
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) read.push(chunk.value.n);
    expect(read).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("pipes through a TransformStream", async () => {
    const { graph } = looping();
    const config = { configurable: { thread_id: randomUUID() }, streamMode: "values" as const };
    const lines = (await graph.stream({ n: 6 }, config)).pipeThrough(
      new TransformStream<{ n: number }, string>({
        transform: (chunk, controller) => controller.enqueue(`n=${chunk.n}`),
      }),
    );
    const read = [];
    for await (const line of lines) read.push(line);
    expect(read).toEqual(["n=6", "n=7", "n=8"]);
  });

  it("cancel() stops its run, as a reader that stops does", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() } };
    const stream = await graph.stream({ n: 0 }, config);
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel();
    await settle();
    expect(ran.count).toBeLessThanOrEqual(2);
    expect((await graph.getState(config)).next).toEqual(["a"]);
  });

  it('streamEvents with encoding "text/event-stream": server-sent events\' bytes, then "event: end"', async () => {
    const { graph } = looping();
    const config = { configurable: { thread_id: randomUUID() }, version: "v2" as const };
    const body = graph.streamEvents({ n: 7 }, { ...config, encoding: "text/event-stream" });
    const text = await new Response(body).text();
    const events = text.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("event: end");
    const first = events[0]?.split("\n") ?? [];
    expect(first[0]).toBe("event: data");
    expect(JSON.parse(first[1]?.slice("data: ".length) ?? "")).toMatchObject({ event: "on_chain_start" });
    expect(events.at(-2)).toContain('"event":"on_chain_end"');
  });

  it("streamEvents refuses another encoding, before the run starts", () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() }, version: "v2" as const };
    expect(() => graph.streamEvents({ n: 0 }, { ...config, encoding: "text/plain" as never })).toThrow(
      /encoding "text\/event-stream" \(server-sent events\) or none; got "text\/plain"/,
    );
    expect(ran.count).toBe(0);
  });
});

/** A node that waits 2 s unless its signal aborts; when it saw the abort (ms after it began). */
function slowNode() {
  const seen = { abortedAfter: -1 };
  const graph = new StateGraph(State)
    .addNode("a", async (_state, config) => {
      const began = Date.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        config.signal?.addEventListener("abort", () => {
          seen.abortedAfter = Date.now() - began;
          clearTimeout(timer);
          resolve();
        });
      });
      return { n: 1 };
    })
    .addEdge(START, "a")
    .compile({ checkpointer: new MemorySaver() });
  return { graph, seen };
}

describe("server-sent events (streamEvents' encoding) stop their run as the events do", () => {
  it("cancelled with a read pending, during a slow node: the node sees the abort at once", async () => {
    const { graph, seen } = slowNode();
    const config = { configurable: { thread_id: randomUUID() }, version: "v2" as const };
    const reader = graph.streamEvents({ n: 0 }, { ...config, encoding: "text/event-stream" }).getReader();
    // The graph's start, then its node's: the next event waits for the node.
    await reader.read();
    await reader.read();
    const pending = reader.read().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await reader.cancel();
    await pending;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.abortedAfter).toBeGreaterThan(0);
    expect(seen.abortedAfter).toBeLessThan(1_000);
  });

  it("returned before its first read: the run stops", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() }, version: "v2" as const };
    await graph.streamEvents({ n: 0 }, { ...config, encoding: "text/event-stream" }).return(undefined);
    await settle();
    expect(ran.count).toBeLessThanOrEqual(1);
  });
});

describe("a subgraph streamed inside a node, given no config", () => {
  /** A parent whose node streams a looping subgraph (its own stream() call, no config), read to its end. */
  function streamingParent() {
    const { graph: child, ran } = looping();
    const parent = new StateGraph(State)
      .addNode("p", async () => {
        for await (const _chunk of await child.stream(
          { n: 0 },
          { configurable: { thread_id: randomUUID() } },
        ));
        return { n: 100 };
      })
      .addEdge(START, "p")
      .compile({ checkpointer: new MemorySaver() });
    return { parent, ran };
  }

  it("stops when the parent's caller aborts: it takes the node's signal, as invoke does", async () => {
    const { parent, ran } = streamingParent();
    const controller = new AbortController();
    const running = parent.invoke(
      { n: 0 },
      { configurable: { thread_id: randomUUID() }, signal: controller.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await running.catch(() => undefined);
    const at = ran.count;
    await settle();
    expect(at).toBeLessThan(8);
    expect(ran.count).toBeLessThanOrEqual(at + 1);
  });
});
