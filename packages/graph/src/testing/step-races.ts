import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { interrupt, type NodeConfig, START, StateGraph } from "../index.ts";
import { barrier, collect, LogState, threadConfig, type UseSaver } from "./helpers.ts";

interface Seen {
  taskIds: string[];
  keys: string[];
}

/** A graph whose only node records its task id, waits at `gate`, then finishes (or asks). */
function gatedGraph(saver: CheckpointSaver, seen: Seen, gate: () => Promise<void>, ask: boolean) {
  return new StateGraph(LogState)
    .addNode("work", async (_state: unknown, config: NodeConfig) => {
      seen.taskIds.push(config.metadata.langgraph_task_id);
      seen.keys.push(config.idempotencyKey);
      await gate();
      return { log: ask ? `answer ${interrupt("ok?")}` : "worked" };
    })
    .addEdge(START, "work")
    .compile({ checkpointer: saver });
}

/** A saver whose next `put` fails, as if the worker died between running and committing. */
function crashOnNextPut(saver: CheckpointSaver): CheckpointSaver {
  let crash = true;
  return {
    getTuple: (ref) => saver.getTuple(ref),
    list: (key, options) => saver.list(key, options),
    putWrites: (args) => saver.putWrites(args),
    deleteThread: (threadId) => saver.deleteThread(threadId),
    put: async (args) => {
      if (!crash) return saver.put(args);
      crash = false;
      throw new Error("worker crashed before commit");
    },
  };
}

/** Two workers on one thread: deterministic ids, and exactly one commit per superstep. */
export function describeStepRaces(use: UseSaver): void {
  describe("step seam under races and crashes", () => {
    it("two racing steps from the same head: exactly one commits, the other gets CheckpointConflictError", () =>
      racingCommits(use()));
    it("re-running a superstep from the same checkpoint gives the same task and interrupt ids", () =>
      deterministicIds(use()));
    it("a step that crashed before committing runs again with the same task id and idempotency key", () =>
      crashAndRetry(use()));
  });
}

async function racingCommits(saver: CheckpointSaver): Promise<void> {
  const seen: Seen = { taskIds: [], keys: [] };
  const gate = barrier(2);
  const config = threadConfig("race");
  const one = gatedGraph(saver, seen, gate, false);
  const two = gatedGraph(saver, seen, gate, false);
  const { checkpointId } = await one.prepare({ value: "v" }, config);
  const results = await Promise.allSettled([one.step(config), two.step(config)]);
  const refused = results.filter((result) => result.status === "rejected");
  expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
  expect(refused).toHaveLength(1);
  expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: "CHECKPOINT_CONFLICT" });
  const history = await collect(one.getStateHistory(config));
  expect(history.map((snapshot) => snapshot.parentConfig?.configurable?.checkpoint_id)).toEqual([
    checkpointId,
    undefined,
  ]);
  expect(history[0]?.values.log).toEqual(["worked"]);
}

async function deterministicIds(saver: CheckpointSaver): Promise<void> {
  const seen: Seen = { taskIds: [], keys: [] };
  const gate = barrier(2);
  const config = threadConfig("deterministic");
  const one = gatedGraph(saver, seen, gate, true);
  const two = gatedGraph(saver, seen, gate, true);
  await one.prepare({ value: "v" }, config);
  const [a, b] = await Promise.all([one.step(config), two.step(config)]);
  expect([a?.status, b?.status]).toEqual(["interrupted", "interrupted"]);
  expect(a?.interrupts).toHaveLength(1);
  expect(a?.interrupts).toEqual(b?.interrupts);
  expect(seen.taskIds[0]).toBe(seen.taskIds[1]);
  expect(seen.keys[0]).toBe(seen.keys[1]);
  const state = await one.getState(config);
  expect(state.tasks.map((task) => task.id)).toEqual([seen.taskIds[0]]);
  expect(state.tasks[0]?.interrupts).toEqual(a?.interrupts);
}

async function crashAndRetry(saver: CheckpointSaver): Promise<void> {
  const seen: Seen = { taskIds: [], keys: [] };
  const config = threadConfig("crash");
  const open = async () => {};
  await gatedGraph(saver, seen, open, false).prepare({ value: "v" }, config);
  const crashing = gatedGraph(crashOnNextPut(saver), seen, open, false);
  await expect(crashing.step(config)).rejects.toThrow("worker crashed before commit");
  const retried = await gatedGraph(saver, seen, open, false).step(config);
  expect(retried.status).toBe("done");
  expect(seen.taskIds).toHaveLength(2);
  expect(seen.taskIds[0]).toBe(seen.taskIds[1]);
  expect(seen.keys[0]).toBe(seen.keys[1]);
  const logs = (await collect(crashing.getStateHistory(config))).map((snapshot) => snapshot.values.log);
  expect(logs).toEqual([["worked"], []]);
}
