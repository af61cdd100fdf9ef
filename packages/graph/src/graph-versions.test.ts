// A thread paused by one version of a graph and taken on by the next: the same saver, another
// compiled graph (what a deploy does to threads that wait for a person).

import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Command,
  END,
  interrupt,
  MemorySaver,
  ReducedValue,
  START,
  StateGraph,
  StateSchema,
  unknownPlannedNodes,
} from "./index.ts";
import { expectCode } from "./testing/helpers.ts";

const State = new StateSchema({ item: z.string(), answer: z.string().optional() });
const yesNo = z.enum(["yes", "no"]);

/** prepare → `asker` (asks with `schema`) → END, on `saver`. */
function version(saver: MemorySaver, asker: string, schema: z.ZodType = yesNo) {
  return new StateGraph(State)
    .addNode("prepare", () => ({}))
    .addNode(asker, () => {
      const given = interrupt("approve?", { schema });
      return { answer: typeof given === "string" ? given : JSON.stringify(given) };
    })
    .addEdge(START, "prepare")
    .addEdge("prepare", asker)
    .addEdge(asker, END)
    .compile({ checkpointer: saver });
}

const thread = (id: string) => ({ configurable: { thread_id: id } });

describe("a thread that waits in a node the next version does not have", () => {
  it("refuses the answer with MissingNodeError naming the node, and records nothing", async () => {
    const saver = new MemorySaver();
    await version(saver, "review").invoke({ item: "a" }, thread("t1"));
    const next = version(saver, "approve");
    const error = await expectCode(next.invoke(new Command({ resume: "yes" }), thread("t1")), "MISSING_NODE");
    expect(error.name).toBe("MissingNodeError");
    expect(error.message).toContain('node "review", which this version of the graph does not have');
    expect(error.message).toContain("its nodes: prepare, approve");
    expect(error).toMatchObject({ nodes: ["review"] });
    // Nothing recorded: the version that has the node still takes the answer.
    expect(await version(saver, "review").invoke(new Command({ resume: "no" }), thread("t1"))).toMatchObject({
      answer: "no",
    });
  });

  it("fails a run past a static breakpoint in front of it, instead of ending it without running it", async () => {
    const saver = new MemorySaver();
    const before = new StateGraph(State)
      .addNode("prepare", () => ({}))
      .addNode("send", () => ({ answer: "sent" }))
      .addEdge(START, "prepare")
      .addEdge("prepare", "send")
      .compile({ checkpointer: saver, interruptBefore: ["send"] });
    await before.invoke({ item: "a" }, thread("t2"));
    const renamed = new StateGraph(State)
      .addNode("prepare", () => ({}))
      .addNode("deliver", () => ({ answer: "sent" }))
      .addEdge(START, "prepare")
      .addEdge("prepare", "deliver")
      .compile({ checkpointer: saver });
    await expectCode(renamed.invoke(null, thread("t2")), "MISSING_NODE");
    // Still waiting in front of "send": the version that has it runs it.
    expect(await before.invoke(null, thread("t2"))).toMatchObject({ answer: "sent" });
  });

  it("lets the thread start again with a new input", async () => {
    const saver = new MemorySaver();
    await version(saver, "review").invoke({ item: "a" }, thread("t3"));
    const next = version(saver, "approve");
    const restarted = await next.invoke({ item: "b" }, thread("t3"));
    expect(restarted.__interrupt__).toHaveLength(1);
    expect(await next.invoke(new Command({ resume: "yes" }), thread("t3"))).toMatchObject({ answer: "yes" });
  });

  it("names the nodes a checkpoint plans that a graph lacks: removed nodes, sends to them", async () => {
    const saver = new MemorySaver();
    await version(saver, "review").invoke({ item: "a" }, thread("t4"));
    const { checkpoint } = (await saver.getTuple({ threadId: "t4", ns: "" })) as NonNullable<
      Awaited<ReturnType<MemorySaver["getTuple"]>>
    >;
    expect(unknownPlannedNodes(version(saver, "review").spec, checkpoint)).toEqual([]);
    expect(unknownPlannedNodes(version(saver, "approve").spec, checkpoint)).toEqual(["review"]);
    const withSend = { ...checkpoint, updatedChannels: [], pendingSends: [{ node: "gone", arg: {} }] };
    expect(unknownPlannedNodes(version(saver, "review").spec, withSend)).toEqual(["gone"]);
  });

  it("refuses the answer with MissingNodeError when the join a finished sibling wrote to changed its sources", async () => {
    const Trail = new StateSchema({
      trail: new ReducedValue(
        z.array(z.string()).default(() => []),
        {
          inputSchema: z.string(),
          reducer: (trail: string[], entry: string) => [...trail, entry],
        },
      ),
    });
    /** a (asks) and b, joined into c; `sources` adds x to the join. */
    const joined = (saver: MemorySaver, sources: string[]) => {
      let graph = new StateGraph(Trail)
        .addNode("a", () => ({ trail: `a:${String(interrupt("a?"))}` }))
        .addNode("b", () => ({ trail: "b" }))
        .addNode("c", () => ({ trail: "c" }))
        .addEdge(START, "a")
        .addEdge(START, "b")
        .addEdge("c", END);
      if (sources.includes("x")) graph = graph.addNode("x", () => ({ trail: "x" })).addEdge(START, "x");
      return graph.addEdge(sources, "c").compile({ checkpointer: saver });
    };
    const saver = new MemorySaver();
    await joined(saver, ["a", "b"]).invoke({}, thread("t5"));
    // b's write to the join a+b → c waits with a's question; the next version joins a+b+x.
    const error = await expectCode(
      joined(saver, ["a", "b", "x"]).invoke(new Command({ resume: "yes" }), thread("t5")),
      "MISSING_NODE",
    );
    expect(error.message).toContain('"c" through a join of edges this version of the graph does not have');
    expect(await joined(saver, ["a", "b"]).invoke(new Command({ resume: "yes" }), thread("t5"))).toEqual({
      trail: ["a:yes", "b", "c"],
    });
  });
});

describe("an answer to a question the next version asks with another schema", () => {
  it("is checked against the schema it was asked with, and the node reads it as given", async () => {
    const saver = new MemorySaver();
    await version(saver, "review").invoke({ item: "a" }, thread("t5"));
    const next = version(saver, "review", z.object({ choice: yesNo }));
    // "yes" fits the question as asked (yes or no), not the new object shape.
    expect(await next.invoke(new Command({ resume: "yes" }), thread("t5"))).toMatchObject({ answer: "yes" });
  });

  it("is still refused when it does not fit the schema it was asked with", async () => {
    const saver = new MemorySaver();
    await version(saver, "review").invoke({ item: "a" }, thread("t6"));
    const next = version(saver, "review", z.object({ choice: yesNo }));
    await expectCode(next.invoke(new Command({ resume: { choice: "yes" } }), thread("t6")), "INVALID_RESUME");
  });

  it("keeps the node's own check (a refinement) when the schema has not changed", async () => {
    const saver = new MemorySaver();
    const refined = z.string().refine((s) => s.startsWith("ok"), "must start with ok");
    await version(saver, "review", refined).invoke({ item: "a" }, thread("t7"));
    const error = await expectCode(
      version(saver, "review", refined).invoke(new Command({ resume: "nope" }), thread("t7")),
      "INVALID_RESUME",
    );
    expect(error.message).toContain("must start with ok");
  });
});

describe("state fields the next version adds", () => {
  it("read as their defaults on threads started before them, a reducer's folding into its default", async () => {
    const saver = new MemorySaver();
    await version(saver, "review").invoke({ item: "a" }, thread("t8"));
    const grown = new StateGraph(
      new StateSchema({
        item: z.string(),
        answer: z.string().optional(),
        priority: z.number().default(3),
        notes: new ReducedValue(
          z.array(z.string()).default(() => ["created"]),
          {
            inputSchema: z.string(),
            reducer: (notes: string[], note: string) => [...notes, note],
          },
        ),
      }),
    )
      .addNode("prepare", () => ({}))
      .addNode("review", (s) => ({ answer: `${interrupt("approve?")} at ${s.priority}`, notes: "reviewed" }))
      .addNode("act", (s) => ({ notes: `acted at ${s.priority}` }))
      .addEdge(START, "prepare")
      .addEdge("prepare", "review")
      .addEdge("review", "act")
      .addEdge("act", END)
      .compile({ checkpointer: saver });
    expect(await grown.invoke(new Command({ resume: "yes" }), thread("t8"))).toEqual({
      item: "a",
      answer: "yes at 3",
      priority: 3,
      notes: ["created", "reviewed", "acted at 3"],
    });
    // Stored with the superstep that first saw them: the thread holds them from then on.
    const stored = await saver.getTuple({ threadId: "t8", ns: "" });
    expect(stored?.checkpoint.channelValues).toMatchObject({ priority: 3 });
  });
});
