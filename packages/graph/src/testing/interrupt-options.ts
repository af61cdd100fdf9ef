import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Annotation, Command, interrupt, START, StateGraph } from "../index.ts";
import { CallCounter, collect, expectCode, threadConfig, type UseSaver } from "./helpers.ts";

const DecisionState = Annotation.Root({
  decision: Annotation<{ approved: boolean; note?: string | undefined }>(),
  note: Annotation<string>(),
});

const Decision = z.object({ approved: z.boolean(), note: z.string().optional() });

function approvalGraph(saver: CheckpointSaver, calls: CallCounter) {
  return new StateGraph(DecisionState)
    .addNode("approve", () => {
      calls.hit("approve");
      const decision = interrupt(
        { question: "Book it?" },
        { timeout: "15m", onTimeout: { approved: false, note: "timed out" }, schema: Decision },
      );
      return { decision };
    })
    .addEdge(START, "approve")
    .compile({ checkpointer: saver });
}

/** interrupt(value, { timeout, onTimeout, schema }): stored, shown, and enforced on resume. */
export function describeInterruptOptions(use: UseSaver): void {
  describe("interrupt() options", () => {
    it("shows timeout, onTimeout and the resume schema in getState's task interrupts", () =>
      optionsInSnapshot(use()));
    it("refuses a resume value that fails the schema with InvalidResumeError and changes nothing", () =>
      invalidResume(use()));
    it("checks each value of a resume map against its own interrupt's schema", () => invalidResumeMap(use()));
    it("refuses an unparseable timeout at the interrupt() call", () => badTimeout(use()));
    it("refuses an onTimeout its own schema refuses at the interrupt() call", () => unfitOnTimeout(use()));
    it("refuses an option it does not take (timout) at the interrupt() call", () => misspeltOption(use()));
    it("a check only the node can run (a refine) fails the run, and says so rather than 'resume again'", () =>
      refinedResume(use()));
  });
}

async function optionsInSnapshot(saver: CheckpointSaver): Promise<void> {
  const graph = approvalGraph(saver, new CallCounter());
  const config = threadConfig("options");
  const paused = await graph.invoke({ note: "n" }, config);
  const state = await graph.getState(config);
  expect(state.next).toEqual(["approve"]);
  const [record] = state.tasks[0]?.interrupts ?? [];
  expect(record).toMatchObject({
    id: paused.__interrupt__?.[0]?.id,
    value: { question: "Book it?" },
    timeoutMs: 15 * 60_000,
    onTimeout: { approved: false, note: "timed out" },
  });
  expect(record?.resumeSchema).toMatchObject({
    type: "object",
    properties: { approved: { type: "boolean" } },
    required: ["approved"],
  });
}

async function invalidResume(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = approvalGraph(saver, calls);
  const config = threadConfig("bad-resume");
  await graph.invoke({ note: "n" }, config);
  const before = await graph.getState(config);
  const historyBefore = await collect(graph.getStateHistory(config));
  const error = await expectCode(
    graph.invoke(new Command({ resume: { approved: "yes" } }), config),
    "INVALID_RESUME",
  );
  expect(error.name).toBe("InvalidResumeError");
  expect(error.message).toContain("approved");
  expect(error.message).toContain(before.tasks[0]?.interrupts[0]?.id);
  expect(calls.of("approve")).toBe(1);
  expect(await graph.getState(config)).toEqual(before);
  expect(await collect(graph.getStateHistory(config))).toEqual(historyBefore);
  const done = await graph.invoke(new Command({ resume: { approved: true, note: "fine" } }), config);
  expect(done.decision).toEqual({ approved: true, note: "fine" });
}

async function invalidResumeMap(saver: CheckpointSaver): Promise<void> {
  const graph = approvalGraph(saver, new CallCounter());
  const config = threadConfig("bad-map");
  const paused = await graph.invoke({ note: "n" }, config);
  const id = paused.__interrupt__?.[0]?.id as string;
  await expectCode(graph.invoke(new Command({ resume: { [id]: "yes" } }), config), "INVALID_RESUME");
  expect((await graph.getState(config)).tasks[0]?.interrupts.map((i) => i.id)).toEqual([id]);
}

async function badTimeout(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(DecisionState)
    .addNode("approve", () => ({ decision: interrupt("ok?", { timeout: "soon" }) }))
    .addEdge(START, "approve")
    .compile({ checkpointer: saver });
  const error = await expectCode(graph.invoke({}, threadConfig("timeout")), "INVALID_INPUT");
  expect(error.message).toContain('"soon"');
}

async function unfitOnTimeout(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(DecisionState)
    .addNode("approve", () => ({
      decision: interrupt("ok?", { timeout: "1h", onTimeout: "maybe", schema: z.enum(["yes", "no"]) }),
    }))
    .addEdge(START, "approve")
    .compile({ checkpointer: saver });
  const error = await expectCode(graph.invoke({}, threadConfig("unfit-on-timeout")), "INVALID_INPUT");
  expect(error.message).toContain("onTimeout does not fit its schema");
  expect(error.message).not.toContain("maybe"); // the issue texts name the options, not the value
}

async function misspeltOption(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(DecisionState)
    .addNode("approve", () => ({ decision: interrupt("ok?", { timout: "1h" } as never) }))
    .addEdge(START, "approve")
    .compile({ checkpointer: saver });
  const error = await expectCode(graph.invoke({}, threadConfig("misspelt-option")), "INVALID_INPUT");
  expect(error.message).toContain('takes no "timout"');
}

async function refinedResume(saver: CheckpointSaver): Promise<void> {
  const Note = z.object({ note: z.string() }).refine((v) => v.note.startsWith("ok"), "must start with ok");
  const graph = new StateGraph(DecisionState)
    .addNode("approve", () => ({ decision: interrupt("ok?", { schema: Note }) }))
    .addEdge(START, "approve")
    .compile({ checkpointer: saver });
  const config = threadConfig("refined");
  await graph.invoke({}, config);
  const error = await expectCode(
    graph.invoke(new Command({ resume: { note: "nope" } }), config),
    "INVALID_RESUME",
  );
  expect(error.message).toContain("must start with ok");
  expect(error.message).toContain("the run failed");
  expect(error.message).not.toContain("resume again");
}
