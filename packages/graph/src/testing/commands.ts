import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Command, END, interrupt, Send, START, StateGraph } from "../index.ts";
import { CallCounter, collect, expectCode, LogState, threadConfig, type UseSaver } from "./helpers.ts";

/** Seed 002's human review: approve (with an edit) routes to `send`, reject goes to END. */
function reviewGraph(saver: CheckpointSaver) {
  return new StateGraph(LogState)
    .addNode(
      "review",
      (state) => {
        const decision = interrupt({ draft: state.value }) as { approved: boolean; edit?: string };
        if (decision.approved) {
          return new Command({
            update: { value: decision.edit ?? state.value, log: "approved" },
            goto: "send",
          });
        }
        return new Command({ update: { log: "rejected" }, goto: END });
      },
      { ends: ["send", END] },
    )
    .addNode("send", (state) => ({ log: `sent ${state.value}` }))
    .addEdge(START, "review")
    .compile({ checkpointer: saver });
}

/** Item 6: Command({ goto, update }) from nodes, Command({ resume, update }) as input. */
export function describeCommands(use: UseSaver): void {
  describe("Command from nodes", () => {
    it("routes with goto and applies its update (approve → send)", () => gotoApprove(use()));
    it("goes to END without running the other branch (reject)", () => gotoEnd(use()));
    it("fans out to several nodes with a list goto", () => gotoList(use()));
    it("refuses a goto to a node the graph does not have", () => gotoUnknown(use()));
    it("applies a list of Commands a node returns, in order, as LangGraph does", () => commandList(use()));
  });
  describe("Command({ resume, update }) as input", () => {
    it("applies the update before the resumed node runs, in the same superstep", () => resumeUpdate(use()));
    it("refuses an update with a key the state does not have, and resumes nothing", () =>
      resumeBadUpdate(use()));
    it("a Command with an update but no resume never walks past the approval: the node asks again", () =>
      updateWithoutResume(use()));
  });
}

async function commandList(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode(
      "plan",
      () => [new Command({ update: { log: "planned" }, goto: "a" }), new Command({ goto: "b" })],
      {
        ends: ["a", "b"],
      },
    )
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", () => ({ log: "b" }))
    .addEdge(START, "plan")
    .compile({ checkpointer: saver });
  const done = await graph.invoke({ value: "v" }, threadConfig("command-list"));
  expect(done.log).toEqual(["planned", "a", "b"]);
  for (const [output, message] of [
    [[{ log: "x" }], "a list of Commands"],
    [[new Send("a", {})], "returned a Send"],
    // What it returned is described, never echoed: errors reach logs.
    ["SSN-123-45-6789", "returned a string;"],
  ] as const) {
    const wrong = new StateGraph(LogState)
      .addNode("plan", () => output, { ends: ["a"] })
      .addNode("a", () => ({}))
      .addEdge(START, "plan")
      .compile({ checkpointer: saver });
    await expect(wrong.invoke({ value: "v" }, threadConfig("command-list-wrong"))).rejects.toMatchObject({
      code: "INVALID_UPDATE",
      message: expect.stringContaining(message),
    });
    await expect(wrong.invoke({ value: "v" }, threadConfig("command-list-wrong"))).rejects.not.toMatchObject({
      message: expect.stringContaining("SSN"),
    });
  }
}

async function updateWithoutResume(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode("approve", (state) => {
      calls.hit("approve");
      return { log: `${state.value} ${interrupt("send it?")}` };
    })
    .addNode("send", () => ({ log: "sent" }))
    .addEdge(START, "approve")
    .addEdge("approve", "send")
    .compile({ checkpointer: saver });
  const config = threadConfig("update-no-resume");
  await graph.invoke({ value: "draft" }, config);
  const again = await graph.invoke(new Command({ update: { value: "edited" } }), config);
  expect(again).toEqual({
    value: "edited",
    log: [],
    __interrupt__: [{ id: expect.any(String), value: "send it?" }],
  });
  expect((await graph.getState(config)).next).toEqual(["approve"]);
  const done = await graph.invoke(new Command({ resume: "yes" }), config);
  expect(done.log).toEqual(["edited yes", "sent"]);
  expect(calls.of("approve")).toBe(3);
}

async function gotoApprove(saver: CheckpointSaver): Promise<void> {
  const graph = reviewGraph(saver);
  const config = threadConfig("goto");
  await graph.invoke({ value: "draft" }, config);
  const done = await graph.invoke(new Command({ resume: { approved: true, edit: "edited" } }), config);
  expect(done).toEqual({ value: "edited", log: ["approved", "sent edited"] });
}

async function gotoEnd(saver: CheckpointSaver): Promise<void> {
  const graph = reviewGraph(saver);
  const config = threadConfig("goto-end");
  await graph.invoke({ value: "draft" }, config);
  const done = await graph.invoke(new Command({ resume: { approved: false } }), config);
  expect(done).toEqual({ value: "draft", log: ["rejected"] });
  expect((await graph.getState(config)).next).toEqual([]);
}

async function gotoList(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("route", () => new Command({ goto: ["x", "y"] }), { ends: ["x", "y"] })
    .addNode("x", () => ({ log: "x" }))
    .addNode("y", () => ({ log: "y" }))
    .addEdge(START, "route")
    .compile({ checkpointer: saver });
  expect((await graph.invoke({ value: "v" }, threadConfig("goto-list"))).log).toEqual(["x", "y"]);
}

async function gotoUnknown(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("route", (s) => new Command({ goto: s.value }), { ends: ["review"] })
    .addNode("review", () => ({}))
    .addEdge(START, "route")
    .compile({ checkpointer: saver });
  // What the node returned is not echoed (it may be users' state, and errors reach logs)...
  const leak = await expectCode(
    graph.invoke({ value: "SSN-123-45-6789" }, threadConfig("goto-bad")),
    "INVALID_UPDATE",
  );
  expect(leak.message).toContain("not a node");
  expect(leak.message).not.toContain("SSN-123");
  // ...but a near miss of a node's name is named.
  const typo = await expectCode(
    graph.invoke({ value: "reveiw" }, threadConfig("goto-typo")),
    "INVALID_UPDATE",
  );
  expect(typo.message).toContain('Did you mean "review"?');
}

async function resumeUpdate(saver: CheckpointSaver): Promise<void> {
  const seen: string[] = [];
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode("ask", (state) => {
      calls.hit("ask");
      const answer = interrupt("answer?");
      seen.push(state.value);
      return { log: `answer ${answer}` };
    })
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
  const config = threadConfig("resume-update");
  await graph.invoke({ value: "before" }, config);
  const done = await graph.invoke(
    new Command({ resume: "yes", update: { value: "patched", log: "update" } }),
    config,
  );
  expect(seen).toEqual(["patched"]);
  expect(done).toEqual({ value: "patched", log: ["update", "answer yes"] });
  expect(calls.of("ask")).toBe(2);
  const history = await collect(graph.getStateHistory(config));
  expect(history.map((snapshot) => snapshot.metadata?.step)).toEqual([0, -1]);
}

async function resumeBadUpdate(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode("ask", () => {
      calls.hit("ask");
      return { log: interrupt("answer?") };
    })
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
  const config = threadConfig("resume-bad-update");
  await graph.invoke({ value: "before" }, config);
  const error = await expectCode(
    graph.invoke(new Command({ resume: "yes", update: { missing: 1 } }), config),
    "INVALID_INPUT",
  );
  expect(error.message).toContain('"missing" is not a state key');
  expect(calls.of("ask")).toBe(1);
  expect((await graph.getState(config)).tasks[0]?.interrupts).toHaveLength(1);
}
