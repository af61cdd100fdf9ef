// Input and output schemas, and nodes' own input schemas (private state), as LangGraph's guides
// use them: invoke takes the input schema's keys and returns the output schema's; nodes see the
// state schema's, or their own. Expectations recorded from LangGraph.js 1.7.3 running the same graphs.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Annotation,
  Command,
  END,
  InvalidGraphError,
  InvalidInputError,
  interrupt,
  MemorySaver,
  START,
  StateGraph,
} from "../index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });

describe("input and output schemas", () => {
  it("without a state schema: nodes see the input's keys, invoke returns the output's (the guide's example)", async () => {
    const InputAnnotation = Annotation.Root({ question: Annotation<string> });
    const OutputAnnotation = Annotation.Root({ answer: Annotation<string> });
    const seen: unknown[] = [];
    const graph = new StateGraph({ input: InputAnnotation, output: OutputAnnotation })
      .addNode("answerNode", (state: { question: string }) => {
        seen.push(state);
        return { answer: `bye ${state.question}` };
      })
      .addEdge(START, "answerNode")
      .compile();
    expect(await graph.invoke({ question: "hi" })).toEqual({ answer: "bye hi" });
    expect(seen).toEqual([{ question: "hi" }]);
  });

  it("with a state schema: nodes see the state's keys; invoke returns the output's; getState and values stream every key", async () => {
    const Input = z.object({ question: z.string() });
    const Output = z.object({ answer: z.string() });
    const Overall = z.object({ question: z.string(), answer: z.string(), notes: z.string() });
    const seen: Record<string, unknown>[] = [];
    const graph = new StateGraph({ state: Overall, input: Input, output: Output })
      .addNode("research", (state) => {
        seen.push(state);
        return { notes: `notes on ${state.question}` };
      })
      .addNode("write", (state) => {
        seen.push(state);
        return { answer: `${state.notes}!` };
      })
      .addEdge(START, "research")
      .addEdge("research", "write")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    expect(await graph.invoke({ question: "q" }, config)).toEqual({ answer: "notes on q!" });
    expect(seen).toEqual([{ question: "q" }, { question: "q", notes: "notes on q" }]);
    expect((await graph.getState(config)).values).toEqual({
      question: "q",
      notes: "notes on q",
      answer: "notes on q!",
    });
    const values: unknown[] = [];
    for await (const chunk of await graph.stream({ question: "r" }, { ...thread(), streamMode: "values" }))
      values.push(chunk);
    expect(values.at(-1)).toEqual({ question: "r", notes: "notes on r", answer: "notes on r!" });
  });

  it("takes the state as the first argument and { input, output } as the second, and the stateSchema key", async () => {
    const Overall = Annotation.Root({ question: Annotation<string>, answer: Annotation<string> });
    const Output = Annotation.Root({ answer: Annotation<string> });
    const node = (state: { question?: string }) => ({ answer: `a:${state.question}` });
    const positional = new StateGraph(Overall, { output: Output })
      .addNode("n", node)
      .addEdge(START, "n")
      .compile();
    expect(await positional.invoke({ question: "x" })).toEqual({ answer: "a:x" });
    const keyed = new StateGraph({ stateSchema: Overall, output: Output })
      .addNode("n", node)
      .addEdge(START, "n")
      .compile();
    expect(await keyed.invoke({ question: "y" })).toEqual({ answer: "a:y" });
  });

  it("refuses an input key outside the input schema, and an input the schema refuses, with a typed error", async () => {
    const graph = new StateGraph({
      input: z.object({ question: z.string() }),
      output: z.object({ answer: z.string() }),
    })
      .addNode("n", () => ({ answer: "ok" }))
      .addEdge(START, "n")
      .compile();
    await expect(graph.invoke({ question: "q", answer: "x" } as never)).rejects.toThrow(
      /"answer" is not an input key \(input keys: question\)/,
    );
    await expect(graph.invoke({ question: 5 } as never)).rejects.toThrow(InvalidInputError);
    expect(graph.inputJsonSchema()).toMatchObject({
      properties: { question: { type: "string" } },
      additionalProperties: false,
    });
    expect(Object.keys(graph.inputJsonSchema().properties as object)).toEqual(["question"]);
  });

  it("checks and transforms an input with the input schema's own fields, also for keys the state schema has", async () => {
    const seen: unknown[] = [];
    const graph = new StateGraph({
      state: Annotation.Root({ question: Annotation<string>, answer: Annotation<string> }),
      input: z.object({ question: z.string().trim().toUpperCase() }),
      output: Annotation.Root({ answer: Annotation<string> }),
    })
      .addNode("n", (state: { question: string }) => {
        seen.push(state);
        return { answer: `a:${state.question}` };
      })
      .addEdge(START, "n")
      .compile();
    // As LangGraph's: the input schema parses the input (LangGraph throws its ZodError).
    await expect(graph.invoke({ question: 5 } as never)).rejects.toThrow(InvalidInputError);
    expect(await graph.invoke({ question: " hi " })).toEqual({ answer: "a:HI" });
    expect(seen).toEqual([{ question: "HI" }]);
    expect(graph.inputJsonSchema()).toMatchObject({ properties: { question: { type: "string" } } });
    // The state schema still checks what the input writes.
    const both = new StateGraph({
      state: z.object({ n: z.number().max(5) }),
      input: z.object({ n: z.number().min(2) }),
    })
      .addNode("w", () => ({}))
      .addEdge(START, "w")
      .compile();
    await expect(both.invoke({ n: 1 })).rejects.toThrow(/n: Too small/);
    await expect(both.invoke({ n: 9 })).rejects.toThrow(/n: Too big/);
    expect(await both.invoke({ n: 3 })).toEqual({ n: 3 });
  });

  it("a paused run returns the output's keys with its interrupts; the resume returns the output", async () => {
    const graph = new StateGraph({
      state: z.object({ question: z.string(), draft: z.string(), answer: z.string() }),
      input: z.object({ question: z.string() }),
      output: z.object({ draft: z.string(), answer: z.string() }),
    })
      .addNode("draft", (state) => ({ draft: `draft for ${state.question}` }))
      .addNode("review", (state) => ({ answer: `${state.draft}: ${interrupt<string, string>("ok?")}` }))
      .addEdge(START, "draft")
      .addEdge("draft", "review")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    const paused = await graph.invoke({ question: "q" }, config);
    expect(paused).toEqual({
      draft: "draft for q",
      __interrupt__: [{ id: expect.any(String), value: "ok?" }],
    });
    expect(await graph.invoke(new Command({ resume: "yes" }), config)).toEqual({
      draft: "draft for q",
      answer: "draft for q: yes",
    });
  });

  it("a subgraph with its own input and output schemas takes its input keys and gives back its output keys", async () => {
    const inner = new StateGraph({
      state: z.object({ topic: z.string(), scratch: z.string(), summary: z.string() }),
      input: z.object({ topic: z.string() }),
      output: z.object({ summary: z.string() }),
    })
      .addNode("think", (state) => ({ scratch: `about ${state.topic}` }))
      .addNode("sum", (state) => ({ summary: `${state.scratch}.` }))
      .addEdge(START, "think")
      .addEdge("think", "sum")
      .compile();
    const seen: unknown[] = [];
    const outer = new StateGraph(z.object({ topic: z.string(), scratch: z.string(), summary: z.string() }))
      .addNode("inner", inner)
      .addNode("after", (state) => {
        seen.push(state);
        return {};
      })
      .addEdge(START, "inner")
      .addEdge("inner", "after")
      .compile();
    expect(await outer.invoke({ topic: "owls" })).toEqual({ topic: "owls", summary: "about owls." });
    expect(seen).toEqual([{ topic: "owls", summary: "about owls." }]);
  });

  it("refuses a graph with only an output schema, and a key two schemas give different reducers", () => {
    expect(() => new StateGraph({ output: z.object({ a: z.string() }) } as never)).toThrow(InvalidGraphError);
    const Summed = Annotation.Root({ n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }) });
    const Listed = Annotation.Root({ n: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }) });
    expect(() =>
      new StateGraph({ state: Summed, output: Listed })
        .addNode("n", () => ({}))
        .addEdge(START, "n")
        .compile(),
    ).toThrow(/Channel "n" already exists with a different type/);
  });
});

describe("a node's own input schema (private state between nodes)", () => {
  it("sees only its schema's keys, reads what another node wrote privately; invoke leaves private keys out, getState has them", async () => {
    const Overall = z.object({ a: z.string() });
    const Private = z.object({ private_data: z.string() });
    const seen: Record<string, unknown[]> = { node1: [], node2: [], router: [] };
    const graph = new StateGraph(Overall)
      .addNode("node1", (state) => {
        seen.node1?.push(state);
        return { private_data: "set by node1" } as never;
      })
      .addNode(
        "node2",
        (state: z.infer<typeof Private>) => {
          seen.node2?.push(state);
          return { a: `set by node2 from ${state.private_data}` };
        },
        { input: Private },
      )
      .addEdge(START, "node1")
      .addConditionalEdges("node1", (state) => {
        seen.router?.push(state);
        return "node2";
      })
      .addEdge("node2", END)
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    expect(await graph.invoke({ a: "start" }, config)).toEqual({ a: "set by node2 from set by node1" });
    expect(seen).toEqual({
      node1: [{ a: "start" }],
      node2: [{ private_data: "set by node1" }],
      router: [{ a: "start", private_data: "set by node1" }],
    });
    expect((await graph.getState(config)).values).toEqual({
      a: "set by node2 from set by node1",
      private_data: "set by node1",
    });
    // An input is the state schema's keys: a private key is refused, as any key outside the input.
    await expect(graph.invoke({ a: "x", private_data: "p" } as never, thread())).rejects.toThrow(
      /not an input key/,
    );
  });
});
