// A resume's "values" stream begins with the state it resumes from, its Command's update applied,
// as LangGraph.js 1.7.3's (compared in a script): it began without the update.
import { describe, expect, it } from "vitest";
import { Annotation, Command, interrupt, MemorySaver, START, StateGraph } from "./index.ts";

const State = Annotation.Root({
  v: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  x: Annotation<string>(),
});

describe('a resume with an update, streamed as "values"', () => {
  it("begins with the state it resumes from, the update applied", async () => {
    const graph = new StateGraph(State)
      .addNode("b", () => ({ v: [`b:${interrupt("q")}`] }))
      .addEdge(START, "b")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    await graph.invoke({ v: [] }, config);
    const chunks: unknown[] = [];
    const stream = await graph.stream(new Command({ resume: "R", update: { x: "X" } }), {
      ...config,
      streamMode: "values",
    });
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toEqual([
      { v: [], x: "X" },
      { v: ["b:R"], x: "X" },
    ]);
  });
});
