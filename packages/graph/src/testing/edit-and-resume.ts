import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Annotation, Command, END, interrupt, START, StateGraph } from "../index.ts";
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
    it("a second answer to a question already answered is refused, not kept for the next one", () =>
      answeredTwice(use()));
    it("an answer given with nothing pending is taken once: a subgraph's later question is asked", () =>
      takenOnceInSubgraph(use()));
    it("a node retried by its retry policy gets that answer again, as it would an answer by id", () =>
      takenAgainOnRetry(use()));
    it("a sibling that failed beside the node that took it does not take it when run again", () =>
      notTakenByFailedSibling(use()));
    it("a second edit keeps the paused task the first edit kept", () => editTwice(use()));
    it("a second edit keeps a question asked past a static breakpoint in front of its node", () =>
      editTwiceBehindBreakpoint(use()));
    it("the edit's node routes on the state with what the finished siblings wrote", () =>
      routesOnSettled(use()));
    it("an edit without asNode counts as the sibling that finished beside the pause, as LangGraph's", () =>
      inferredFromFinished(use()));
  });
}

async function inferredFromFinished(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(EditState)
    .addNode("pre", () => ({ log: "pre" }))
    .addNode("x", () => {
      calls.hit("x");
      return { log: "x" };
    })
    .addNode("q", () => ({ log: `q:${String(interrupt("approve?"))}` }))
    .addNode("after", () => ({ log: "after" }))
    .addEdge(START, "pre")
    .addEdge("pre", "x")
    .addEdge("pre", "q")
    .addEdge("x", "after")
    .compile({ checkpointer: saver });
  const config = threadConfig("edit-inferred");
  await graph.invoke({}, config);
  // x wrote last (beside the pause), not pre: the edit must not route from pre and run x again.
  await graph.updateState(config, { v: "edited" });
  expect((await graph.getState(config)).next).toEqual(["q", "after"]);
  const result = await graph.invoke(new Command({ resume: "ok" }), config);
  expect(result).toEqual({ log: ["pre", "x", "after", "q:ok"], v: "edited" });
  expect(calls.of("x")).toBe(1);

  // Two siblings finished beside the pause: LangGraph refuses to guess between them.
  const both = new StateGraph(EditState)
    .addNode("x", () => ({ log: "x" }))
    .addNode("y", () => ({ log: "y" }))
    .addNode("q", () => ({ log: `q:${String(interrupt("approve?"))}` }))
    .addEdge(START, "x")
    .addEdge(START, "y")
    .addEdge(START, "q")
    .compile({ checkpointer: saver });
  const ambiguous = threadConfig("edit-ambiguous");
  await both.invoke({}, ambiguous);
  await expectCode(both.updateState(ambiguous, { v: "edited" }), "INVALID_UPDATE");
}

async function answeredTwice(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(EditState)
    .addNode("b", () => ({ log: [`1:${interrupt("first?")}`, `2:${interrupt("second?")}`] }))
    .addEdge(START, "b")
    .compile({ checkpointer: saver });
  const config = threadConfig("answered-twice");
  await graph.invoke({}, config);
  await graph.prepare(new Command({ resume: "yes" }), config);
  // A producer's double click: the same question answered again.
  await expectCode(graph.prepare(new Command({ resume: "oops" }), config), "NOT_INTERRUPTED");
  const result = await graph.invoke(null, config);
  expect(result.__interrupt__?.map((i) => i.value)).toEqual(["second?"]);
}

async function takenOnceInSubgraph(saver: CheckpointSaver): Promise<void> {
  const ask = (name: string) => () => ({ log: `${name}:${String(interrupt(`${name}?`))}` });
  const sub = new StateGraph(EditState)
    .addNode("s1", ask("s1"))
    .addNode("s2", ask("s2"))
    .addNode("s3", ask("s3"))
    .addEdge(START, "s1")
    .addEdge("s1", "s2")
    .addEdge("s2", "s3")
    .compile();
  const graph = new StateGraph(EditState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("sub", sub)
    .addEdge(START, "a")
    .addEdge("a", "sub")
    .compile({ checkpointer: saver, interruptBefore: ["sub"] });
  const config = threadConfig("taken-once-sub");
  await graph.invoke({}, config);
  const first = await graph.invoke(new Command({ resume: "A" }), config);
  expect(first.__interrupt__?.map((i) => i.value)).toEqual(["s2?"]);
  const second = await graph.invoke(new Command({ resume: "B" }), config);
  expect(second.__interrupt__?.map((i) => i.value)).toEqual(["s3?"]);
}

async function takenAgainOnRetry(saver: CheckpointSaver): Promise<void> {
  let attempts = 0;
  const graph = new StateGraph(EditState)
    .addNode("a", () => ({ log: "a" }))
    .addNode(
      "b",
      () => {
        const answer = interrupt("approve?");
        attempts += 1;
        if (attempts === 1) throw new Error("transient");
        return { log: `b:${String(answer)}` };
      },
      { retryPolicy: { maxAttempts: 3, initialInterval: 1, jitter: false } },
    )
    .addEdge(START, "a")
    .addEdge("a", "b")
    .compile({ checkpointer: saver, interruptBefore: ["b"] });
  const config = threadConfig("taken-retry");
  await graph.invoke({}, config);
  expect(await graph.invoke(new Command({ resume: "yes" }), config)).toEqual({ log: ["a", "b:yes"] });
}

async function notTakenByFailedSibling(saver: CheckpointSaver): Promise<void> {
  let failB = true;
  const graph = new StateGraph(EditState)
    .addNode("go", () => ({ log: "go" }))
    .addNode("a", () => ({ log: `a:${String(interrupt("qa"))}` }))
    .addNode("b", () => {
      if (failB) throw new Error("b is down");
      return { log: `b:${String(interrupt("qb"))}` };
    })
    .addEdge(START, "go")
    .addEdge("go", "a")
    .addEdge("go", "b")
    .compile({ checkpointer: saver, interruptBefore: ["a", "b"] });
  const config = threadConfig("failed-sibling");
  await graph.invoke({}, config);
  await expect(graph.invoke(new Command({ resume: "for a" }), config)).rejects.toThrow("b is down");
  failB = false;
  const again = await graph.invoke(null, config);
  expect(again.__interrupt__?.map((i) => i.value)).toEqual(["qb"]);
}

// "x" is what a person's edit counts as (updateState's asNode): b's ends make it reachable, as
// LangGraph's compile wants.
function pausedBeside(saver: CheckpointSaver, a: () => typeof EditState.Update) {
  return new StateGraph(EditState)
    .addNode("a", a)
    .addNode("b", () => ({ log: `b:${String(interrupt("q"))}` }), { ends: ["x"] })
    .addNode("c", (s) => ({ log: `c:${s.v}` }))
    .addNode("x", () => ({}))
    .addEdge(START, "a")
    .addEdge(START, "b")
    .addEdge("a", "c")
    .addEdge("x", END)
    .compile({ checkpointer: saver });
}

async function editTwice(saver: CheckpointSaver): Promise<void> {
  const graph = pausedBeside(saver, () => ({ log: "a" }));
  const config = threadConfig("edit-twice");
  await graph.invoke({}, config);
  await graph.updateState(config, { v: "1" }, "x");
  expect((await graph.getState(config)).next).toEqual(["b", "c"]);
  // The person fixes a typo in the edit: the paused question is still waiting.
  await graph.updateState(config, { v: "2" }, "x");
  expect((await graph.getState(config)).next).toEqual(["b", "c"]);
  expect(await graph.invoke(new Command({ resume: "ok" }), config)).toEqual({
    log: ["a", "b:ok", "c:2"],
    v: "2",
  });
}

async function editTwiceBehindBreakpoint(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(EditState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", (s) => ({ log: `b:${String(interrupt("q"))}:${s.v}` }), { ends: ["x"] })
    .addNode("x", () => ({}))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("x", END)
    .compile({ checkpointer: saver, interruptBefore: ["b"] });
  const config = threadConfig("edit-twice-breakpoint");
  await graph.invoke({}, config);
  await graph.invoke(null, config); // past the breakpoint: b asks
  for (const v of ["1", "2"]) {
    await graph.updateState(config, { v }, "x");
    expect((await graph.getState(config)).next).toEqual(["b"]);
  }
  expect(await graph.invoke(new Command({ resume: "ok" }), config)).toEqual({ log: ["a", "b:ok:2"], v: "2" });
}

async function routesOnSettled(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(EditState)
    .addNode("a", () => ({ v: "from a" }))
    .addNode("b", () => ({ log: `b:${String(interrupt("q"))}` }))
    .addNode("yes", () => ({ log: "yes" }))
    .addNode("no", () => ({ log: "no" }))
    .addEdge(START, "a")
    .addEdge(START, "b")
    .addConditionalEdges("b", (s) => (s.v === "from a" ? "yes" : "no"), ["yes", "no"])
    .compile({ checkpointer: saver });
  const config = threadConfig("routes-on-settled");
  await graph.invoke({}, config);
  await graph.updateState(config, { log: "edited" }, "b");
  const state = await graph.getState(config);
  expect(state.values).toEqual({ log: ["edited"], v: "from a" });
  expect(state.next).toEqual(["yes"]);
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
