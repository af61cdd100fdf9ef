import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Command, END, START, StateGraph, StateSchema } from "../index.ts";

const State = new StateSchema({
  n: z.number().default(0),
  name: z
    .string()
    .transform((s) => s.toUpperCase())
    .optional(),
});

describe("StateSchema checks what nodes write, as LangGraph does", () => {
  it("fails the run when a node writes a value its field's schema refuses, naming node and key", async () => {
    for (const write of [() => ({ n: "bad" }), () => new Command({ update: { n: "bad" }, goto: END })]) {
      const graph = new StateGraph(State)
        .addNode("w", write as unknown as () => { n: number })
        .addEdge(START, "w")
        .compile();
      await expect(graph.invoke({})).rejects.toMatchObject({
        code: "INVALID_UPDATE",
        message: expect.stringMatching(/Node "w" wrote "n".*number/),
      });
    }
  });

  it("stores what the schema makes of a node's write (a transform)", async () => {
    const graph = new StateGraph(State)
      .addNode("w", () => ({ name: "abc" }))
      .addEdge(START, "w")
      .compile();
    expect(await graph.invoke({})).toEqual({ n: 0, name: "ABC" });
  });
});

describe("new StateGraph(z.object({...})) and { stateSchema }, as LangGraph.js takes them", () => {
  const Shape = z.object({ count: z.number().default(0), note: z.string().optional() });

  it("runs a graph over a zod object: each key keeps its last value, defaults apply", async () => {
    const graph = new StateGraph(Shape)
      .addNode("inc", (s) => ({ count: s.count + 1 }))
      .addEdge(START, "inc")
      .addEdge("inc", END)
      .compile();
    expect(await graph.invoke({ note: "hi" })).toEqual({ count: 1, note: "hi" });
    await expect(graph.invoke({ count: "one" } as never)).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("refuses a check on the whole object, which would not be applied between supersteps", () => {
    const Checked = Shape.refine((s) => s.count < 5, "count must stay below 5");
    expect(() => new StateGraph(Checked as never)).toThrow(/a check on the whole state is not applied/);
  });

  it("takes { stateSchema } alone, or with an input schema of its own (what invoke accepts)", () => {
    expect(
      new StateGraph({ stateSchema: Shape } as never)
        .addNode("a", () => ({}))
        .addEdge(START, "a")
        .compile(),
    ).toBeDefined();
    const withInput = new StateGraph({ stateSchema: Shape, input: z.object({ q: z.string() }) } as never)
      .addNode("a", () => ({}))
      .addEdge(START, "a")
      .compile();
    expect(Object.keys(withInput.inputJsonSchema().properties as object)).toEqual(["q"]);
  });
});
