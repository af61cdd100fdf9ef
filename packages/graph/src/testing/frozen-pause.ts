// Run by interrupt.test.ts with `node --frozen-intrinsics`: a graph that pauses, where
// Error.stackTraceLimit cannot be set. Prints what invoke came to.
import { Annotation, interrupt, MemorySaver, START, StateGraph } from "../index.ts";

const State = Annotation.Root({ answer: Annotation<string>() });
const graph = new StateGraph(State)
  .addNode("ask", () => ({ answer: interrupt("name?") }))
  .addEdge(START, "ask")
  .compile({ checkpointer: new MemorySaver() });
const paused = await graph.invoke({}, { configurable: { thread_id: "frozen" } });
console.log(JSON.stringify({ paused: paused.__interrupt__?.length ?? 0 }));
