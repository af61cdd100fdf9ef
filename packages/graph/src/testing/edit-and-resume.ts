import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Annotation, Command, interrupt, START, StateGraph } from "../index.ts";
import { appendReducer, CallCounter, expectCode, threadConfig, type UseSaver } from "./helpers.ts";

const EditState = Annotation.Root({
  log: Annotation<string[], string | string[]>({ reducer: appendReducer, default: () => [] }),
  v: Annotation<string>(),
});

/**
 * A person who edits the state of a paused thread (`updateState`) and then answers it, as
 * LangGraph's "review and edit" pattern does: the edit keeps what the paused superstep
 * finished, and the answer reaches the node that asks again.
 */
export function describeEditAndResume(use: UseSaver): void {
  describe("editing a paused thread, then resuming it", () => {
    it("edit, then approve: the node asking again gets the answer", () => editThenApprove(use()));
    it("keeps what a sibling of the paused task finished when the edit counts as the paused node", () =>
      editKeepsSibling(use()));
    it("a resume at a static breakpoint continues past it, and interrupt() there gets the value", () =>
      resumeAtBreakpoint(use()));
    it("a resume of a thread with nothing to run is still refused", () => nothingToRun(use()));
  });
}

function askChain(saver: CheckpointSaver, calls: CallCounter, options: { interruptBefore?: ["b"] } = {}) {
  return new StateGraph(EditState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", () => {
      calls.hit("b");
      return { log: `b:${String(interrupt("approve?"))}` };
    })
    .addNode("c", (s) => ({ log: `c saw ${s.v ?? "nothing"}` }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", "c")
    .compile({ checkpointer: saver, ...options });
}

async function editThenApprove(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = askChain(saver, calls);
  const config = threadConfig("edit-approve");
  await graph.invoke({}, config);
  await graph.updateState(config, { v: "edited" });
  expect((await graph.getState(config)).next).toEqual(["b"]);
  const result = await graph.invoke(new Command({ resume: "yes" }), config);
  expect(result).toEqual({ log: ["a", "b:yes", "c saw edited"], v: "edited" });
  expect(calls.of("b")).toBe(2);
}

async function editKeepsSibling(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(EditState)
    .addNode("a", () => {
      calls.hit("a");
      return { log: "a" };
    })
    .addNode("b", () => ({ log: `b:${String(interrupt("approve?"))}` }))
    .addNode("c", (s) => ({ log: `c saw ${s.v}` }))
    .addEdge(START, "a")
    .addEdge(START, "b")
    .addEdge("a", "c")
    .compile({ checkpointer: saver });
  const config = threadConfig("edit-sibling");
  await graph.invoke({}, config);
  // The person answers for b by editing the state instead of resuming it.
  await graph.updateState(config, { v: "by hand" }, "b");
  const edited = await graph.getState(config);
  expect(edited.values).toEqual({ log: ["a"], v: "by hand" });
  expect(edited.next).toEqual(["c"]);
  expect(await graph.invoke(null, config)).toEqual({ log: ["a", "c saw by hand"], v: "by hand" });
  expect(calls.of("a")).toBe(1);
}

async function resumeAtBreakpoint(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = askChain(saver, calls, { interruptBefore: ["b"] });
  const config = threadConfig("resume-breakpoint");
  expect(await graph.invoke({}, config)).toMatchObject({ log: ["a"] });
  expect(calls.of("b")).toBe(0);
  const result = await graph.invoke(new Command({ resume: "go" }), config);
  expect(result).toEqual({ log: ["a", "b:go", "c saw nothing"] });
  expect(calls.of("b")).toBe(1);
}

async function nothingToRun(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(EditState)
    .addNode("a", () => ({ log: "a" }))
    .addEdge(START, "a")
    .compile({ checkpointer: saver });
  const config = threadConfig("resume-finished");
  await graph.invoke({}, config);
  await expectCode(graph.invoke(new Command({ resume: "late" }), config), "NOT_INTERRUPTED");
}
