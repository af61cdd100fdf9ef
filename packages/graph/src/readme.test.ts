// The README's first example ("A graph that waits for a person"), as written there, gives
// what its comments say.
import { expect, it } from "vitest";
import { z } from "zod";
import { Command, END, interrupt, MemorySaver, START, StateGraph, StateSchema } from "./index.ts";

it("README: a graph that waits for a person", async () => {
  const State = new StateSchema({ approved: z.boolean().default(false) });

  const graph = new StateGraph(State)
    .addNode("approval", () => ({ approved: interrupt("Do you approve this action?") }))
    .addEdge(START, "approval")
    .addEdge("approval", END)
    .compile({ checkpointer: new MemorySaver() });

  const config = { configurable: { thread_id: "thread-1" } };
  const paused = await graph.invoke({ approved: false }, config); // → { approved: false, __interrupt__: [{ id, value }] }
  expect(paused).toEqual({
    approved: false,
    __interrupt__: [{ id: expect.any(String), value: "Do you approve this action?" }],
  });
  const done = await graph.invoke(new Command({ resume: true }), config); // → { approved: true }
  expect(done).toEqual({ approved: true });
});
