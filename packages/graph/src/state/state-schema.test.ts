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
