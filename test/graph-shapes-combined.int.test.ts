// Differential tests of graph shapes that combine subgraphs, Send, timeouts and cancels: each
// runs in-process (the engine and its MemorySaver) and through the runtime (two workers and a
// scheduler; real Postgres, Redis and BullMQ); what a user sees must match.
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { Command, type CompiledStateGraph, MemorySaver } from "@layover/graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionsOf } from "./fixtures/executions.ts";
import { shapeGraphs } from "./fixtures/shape-graphs.ts";
import {
  type Answer,
  byId,
  differential,
  just,
  local,
  remote,
  type Seen,
  withoutIds,
} from "./support/differential.ts";
import { checkpointForks, createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
const stops: Record<string, () => Promise<void>> = {};

beforeAll(async () => {
  h = await createHarness("graph-shapes-combined");
  stops.a = await h.startWorker({ id: "worker-a" });
  stops.b = await h.startWorker({ id: "worker-b" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("5. timeouts inside a subgraph and in Send branches", () => {
  let stopScheduler: () => Promise<void>;
  beforeAll(async () => {
    stopScheduler = await h.startScheduler({ id: "scheduler-shapes", sweepEveryMs: 100 });
  });
  afterAll(async () => {
    await stopScheduler();
  });

  /** The thread's last run, once it settled past `parked` (the sweep's resumes are runs too). */
  async function settledAfterSweeps(threadId: string) {
    for (let i = 0; i < 300; i++) {
      const runs = await h.client.threads.runs(threadId);
      const last = runs.at(-1);
      if (last && runs.length > 1) {
        const result = await h.client.runs.wait(last.runId, { timeoutMs: 20_000 });
        if (result.status !== "interrupted") return result;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`thread ${threadId} never settled`);
  }

  it("the sweep expires an interrupt inside a subgraph: the node gets its onTimeout value", async () => {
    const mine = local("timed-sub");
    await mine.start({ timeoutMs: 300 });
    const expected = await mine.resume({ action: "expired" });
    const { runId, threadId } = await h.client.runs.start({
      graphId: "timed-sub",
      input: { timeoutMs: 300 },
    });
    const parked = await h.client.runs.wait(runId);
    expect(parked.interrupts).toEqual([
      expect.objectContaining({ node: "sub", timeoutMs: 300, onTimeout: { action: "expired" } }),
    ]);
    const done = await settledAfterSweeps(threadId);
    expect(done).toMatchObject({
      status: "success",
      values: { decision: { action: "expired" }, timedOut: false },
    });
    expect(done.values).toEqual(expected.values);
    expect(executionsOf(threadId)).toEqual(executionsOf(mine.threadId));
    const { interrupts } = await h.client.interrupts.list({ status: "expired", threadId });
    expect(interrupts.map((i) => i.id)).toEqual(parked.interrupts.map((i) => i.id));
  });

  /** The result of the thread's run after its first `n`, once that run settled (a sweep's resume). */
  async function runAfter(threadId: string, n: number) {
    for (let i = 0; i < 300; i++) {
      const run = (await h.client.threads.runs(threadId))[n];
      if (run) return h.client.runs.wait(run.runId, { timeoutMs: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`thread ${threadId} has no run ${n + 1}`);
  }

  it("the sweep expires one of a subgraph's two questions; the other still waits, then is answered", async () => {
    const mine = local("timed-pair-sub");
    const asked = await mine.start({});
    const x = asked.interrupts.find((i) => (i.value as { ask: string }).ask === "x?") as { id: string };
    const localPartial = await mine.resume({ [x.id]: "x expired" });
    const localDone = await mine.resume("Y");
    const { runId, threadId } = await h.client.runs.start({ graphId: "timed-pair-sub", input: {} });
    const parked = await h.client.runs.wait(runId);
    expect(parked.interrupts.map((i) => [i.value, i.timeoutMs])).toEqual([
      [{ ask: "x?" }, 300],
      [{ ask: "y?" }, undefined],
    ]);
    const swept = await runAfter(threadId, 1);
    expect(swept.status).toBe("interrupted");
    expect(swept.interrupts.map((i) => i.value)).toEqual(localPartial.interrupts.map((i) => i.value));
    expect(swept.interrupts[0]?.id).toBe(parked.interrupts[1]?.id);
    const done = await h.client.runs.wait((await h.client.threads.resume(threadId, "Y")).runId);
    expect(done).toMatchObject({ status: "success", values: { log: ["x expired, Y"] } });
    expect(done.values).toEqual(localDone.values);
    expect(executionsOf(threadId)).toEqual(executionsOf(mine.threadId));
  });

  for (const graphId of ["fanout", "fanout-sub"] as const) {
    it(`${graphId}: branches nobody answered expire; each gets its own onTimeout value, once`, async () => {
      const { runId, threadId } = await h.client.runs.start({
        graphId,
        input: { items: ["a", "b", "c"], timeoutMs: 600 },
      });
      const parked = await h.client.runs.wait(runId);
      expect(parked.interrupts).toHaveLength(3);
      const a = parked.interrupts.find((i) => (i.value as { review: string }).review === "a") as {
        id: string;
      };
      await h.client.runs.wait((await h.client.threads.resume(threadId, { [a.id]: "ok-a" })).runId);
      const done = await settledAfterSweeps(threadId);
      expect(done, JSON.stringify(done.error)).toMatchObject({ status: "success" });
      expect(done.values.results).toEqual(["a:ok-a", "b:expired b", "c:expired c", "summary of 3"]);
      expect(executionsOf(threadId)).toMatchObject({
        "review:a": 2,
        "review:b": 2,
        "review:c": 2,
        summary: 1,
      });
      expect(await checkpointForks(h, [threadId])).toEqual([]);
    });
  }
});

describe("6. cancelling a run parked inside a subgraph", () => {
  it("frees the thread; a new start asks afresh, as a new input does in-process", async () => {
    const mine = local("sub-twice");
    await mine.start({ value: "v" });
    await mine.resume("Ada");
    const restarted = await mine.start({ value: "w" });
    const r = remote(h, "sub-twice");
    await r.start({ value: "v" });
    const second = await r.resume("Ada");
    expect(second.tasks).toEqual([{ name: "sub", interrupts: [{ ask: "city?", of: "Ada" }] }]);
    expect(await h.client.runs.cancel(r.lastRunId())).toEqual({ status: "cancelled" });
    const freed = await h.client.threads.get(r.threadId);
    // Nothing to answer: the task the head still plans, as the engine's getState lists it.
    expect(freed).toMatchObject({ status: "idle", tasks: [{ name: "sub", interrupts: [] }] });
    const cancelled = await h.client.interrupts.list({ status: "cancelled", threadId: r.threadId });
    expect(cancelled.interrupts.map((i) => i.id)).toEqual(second.interrupts.map((i) => i.id));
    const again = await r.start({ value: "w" });
    expect(withoutIds(again, true)).toEqual(withoutIds(restarted, true));
    expect(again.tasks).toEqual([{ name: "sub", interrupts: [{ ask: "name?", of: "w" }] }]);
    const localDone = await mine.resume("Bob").then(() => mine.resume("Paris"));
    await r.resume("Bob");
    const done = await r.resume("Paris");
    expect(done.values).toMatchObject({ value: "w", log: ["w: Bob from Paris"] });
    expect(withoutIds(done, true)).toEqual(withoutIds(localDone, true));
    expect(executionsOf(r.threadId)).toEqual(executionsOf(mine.threadId));
    expect(await r.history()).toEqual(await mine.history());
  });
});

describe("combined shapes", () => {
  const item = (v: { item: string; ask?: string }) => `${v.item}${v.ask ? ` ${v.ask}` : ""}`;
  const answerAll = byId(
    () => true,
    (v) => `ok-${item(v)}`,
  );
  const answerOnly = (picked: string[]) =>
    byId(
      (v) => picked.includes(item(v)),
      (v) => `ok-${item(v)}`,
    );

  it("Send branches running a subgraph that asks twice, answered in parts", async () => {
    const { shown, remote: r } = await differential(
      h,
      "fanout-sub-twice",
      { items: ["a", "b", "c"] },
      [answerOnly(["a name?"]), answerAll, answerAll],
      { pausedValues: false },
    );
    // The engine's order: by branch, the question asked again in its branch's place.
    expect(shown.remote[1]?.interrupts.map((i) => item(i.value as never))).toEqual([
      "a city?",
      "b name?",
      "c name?",
    ]);
    expect(shown.remote[3]?.values.results).toHaveLength(7);
    expect(executionsOf(r.threadId)).toMatchObject({ "first:a": 2, "second:a": 2, summary: 1 });
  });

  it("a subgraph fanning out with Send of its own, answered in parts", async () => {
    const { shown } = await differential(
      h,
      "sub-sends",
      { items: ["a", "b", "c"] },
      [answerOnly(["b"]), answerAll],
      { pausedValues: false },
    );
    // Every branch's question belongs to the parent's task that runs the subgraph, in branch order.
    expect(shown.remote[0]?.tasks).toEqual([
      { name: "sub", interrupts: [{ item: "a" }, { item: "b" }, { item: "c" }] },
    ]);
    expect(shown.remote[2]?.values.results).toEqual(["a:ok-a", "b:ok-b", "c:ok-c", "after 3"]);
  });

  it("a subgraph routes its parent with Command.PARENT after the answer", async () => {
    const approve = await differential(h, "sub-routes-parent", { request: "LAX-JFK" }, [
      just({ choice: "approve" }),
    ]);
    expect(approve.shown.remote[1]?.values).toMatchObject({
      outcome: "booked LAX-JFK",
      log: ["decided approve"],
    });
    const reject = await differential(h, "sub-routes-parent", { request: "LAX-JFK" }, [
      just({ choice: "reject", reason: "too dear" }),
    ]);
    expect(reject.shown.remote[1]?.values).toMatchObject({ outcome: "cancelled: too dear" });
    expect(executionsOf(reject.remote.threadId)).toEqual({ gate: 2, cancel: 1 });
  });

  it("a node calling a subgraph twice, each call asking", async () => {
    const { shown } = await differential(h, "call-twice", {}, [just("Ada"), just("Bob")]);
    expect(shown.remote[1]?.interrupts.map((i) => i.value)).toEqual([{ ask: "name?", of: "second" }]);
    expect(shown.remote[2]?.values.names).toEqual(["Ada", "Bob"]);
  });

  it("a node calling a subgraph, then asking itself: nothing is asked twice", async () => {
    const { shown } = await differential(h, "call-then-ask", {}, [just("Ada"), just("yes")]);
    expect(shown.remote[1]?.interrupts.map((i) => i.value)).toEqual([{ confirm: "Ada" }]);
    expect(shown.remote[2]?.values.names).toEqual(["Ada", "confirmed yes"]);
  });

  it("Send branches that ask beside a plain node: the plain node runs once", async () => {
    const { shown, remote: r } = await differential(
      h,
      "sends-beside-node",
      { items: ["a", "b"] },
      [answerOnly(["a"]), answerAll],
      { pausedValues: false },
    );
    expect(shown.remote[2]?.values.results).toEqual(["audited", "a:ok-a", "b:ok-b", "summary of 3"]);
    expect(executionsOf(r.threadId)).toMatchObject({ plan: 1, audit: 1, summary: 1 });
  });
});

describe("around a subgraph: a breakpoint before it, an update with the answer", () => {
  it("pauses before the subgraph node, continues, then takes an answer with an update", async () => {
    const graph = (shapeGraphs["sub-node"] as CompiledStateGraph).withCheckpointer(new MemorySaver());
    const config = { configurable: { thread_id: `local-${randomUUID()}` } };
    await graph.invoke({ value: "v" }, { ...config, interruptBefore: ["sub"] });
    const asked = await graph.invoke(null, config);
    const done = await graph.invoke(new Command({ resume: "Ada", update: { value: "changed" } }), config);

    const { runId, threadId } = await h.client.runs.start({
      graphId: "sub-node",
      input: { value: "v" },
      config: { interruptBefore: ["sub"] },
    });
    expect(await h.client.runs.wait(runId)).toMatchObject({ status: "interrupted", interrupts: [] });
    expect(await h.client.threads.get(threadId)).toMatchObject({
      next: ["sub"],
      tasks: [{ name: "sub", interrupts: [] }],
    });
    const continued = await h.client.runs.wait((await h.client.threads.continue(threadId)).runId);
    expect(continued.interrupts.map((i) => i.value)).toEqual(asked.__interrupt__?.map((i) => i.value));
    const resumed = await h.client.threads.resume(threadId, "Ada", { update: { value: "changed" } });
    const result = await h.client.runs.wait(resumed.runId);
    expect(result.values).toEqual(done);
    expect(executionsOf(threadId)).toEqual(executionsOf(config.configurable.thread_id));
  });
});

describe("a park and its resume on different workers", () => {
  it("two levels of subgraphs: parked by one worker, resumed by another that never ran it", async () => {
    await stops.b?.();
    const mine = local("nested-nodes");
    await mine.start({ value: "v" });
    const r = remote(h, "nested-nodes");
    await r.start({ value: "v" });
    const parkedRun = r.lastRunId();
    stops.c = await h.startWorker({ id: "worker-c" });
    await stops.a?.();
    await mine.resume("Ada");
    await r.resume("Ada");
    const localDone = await mine.resume("London");
    const done = await r.resume("London");
    expect(withoutIds(done, true)).toEqual(withoutIds(localDone, true));
    expect(await h.client.runs.get(parkedRun)).toMatchObject({ parkedBy: "worker-a" });
    expect(await h.client.runs.get(r.lastRunId())).toMatchObject({ finishedBy: "worker-c" });
    expect(executionsOf(r.threadId)).toEqual(executionsOf(mine.threadId));
    expect(await r.history()).toEqual(await mine.history());
  });
});

describe("on worker processes: each call served by a process that never ran the thread", () => {
  beforeAll(async () => {
    // Only the processes below serve runs now (a stopped worker's stop does nothing).
    for (const stop of Object.values(stops)) await stop();
  });

  async function stop(worker: ChildProcess | undefined): Promise<void> {
    if (worker === undefined) return;
    worker.kill("SIGTERM");
    if (worker.exitCode === null) await once(worker, "exit");
  }

  async function replace(old: ChildProcess | undefined, id: string): Promise<ChildProcess> {
    await stop(old);
    return h.spawnWorker(id);
  }

  /** `differential` with a new worker process for the start and for each answer. */
  async function onFreshProcesses(
    graphId: Parameters<typeof local>[0],
    input: Record<string, unknown>,
    answers: Answer[],
    { pausedValues = true } = {},
  ) {
    const mine = local(graphId);
    const r = remote(h, graphId);
    let worker = await replace(undefined, `${graphId}-0`);
    const shown: Array<[Seen, Seen]> = [[await mine.start(input), await r.start(input)]];
    for (const [i, answer] of answers.entries()) {
      worker = await replace(worker, `${graphId}-${i + 1}`);
      const [localSeen, remoteSeen] = shown.at(-1) as [Seen, Seen];
      shown.push([
        await mine.resume(answer(localSeen.interrupts)),
        await r.resume(answer(remoteSeen.interrupts)),
      ]);
    }
    await stop(worker);
    for (const [i, [localSeen, remoteSeen]] of shown.entries()) {
      const values = pausedValues || localSeen.interrupts.length === 0;
      expect(withoutIds(remoteSeen, values), `after call ${i}`).toEqual(withoutIds(localSeen, values));
    }
    expect(await r.history()).toEqual(await mine.history());
    return shown.map(([, remoteSeen]) => remoteSeen);
  }

  it("a subgraph compiled with a saver of its own (one process's memory) resumes where it paused", async () => {
    const shown = await onFreshProcesses("own-saver-sub", { value: "v" }, [just("Ada"), just("Bob")]);
    // The subgraph as a node took "Ada"; called again from the next node, it asked and took "Bob".
    expect(shown.map((seen) => seen.interrupts.map((i) => i.value))).toEqual([
      [{ ask: "name?", of: "v" }],
      [{ ask: "name?", of: "Ada again" }],
      [],
    ]);
    expect(shown[2]?.values.log).toEqual(["Ada, then Bob"]);
  }, 60_000);

  it("two levels of subgraphs called from node functions", async () => {
    await onFreshProcesses("nested-calls", { value: "v" }, [just("Ada"), just("London")]);
  }, 60_000);

  it("Send branches running a subgraph that asks twice, answered in parts", async () => {
    const all = byId(
      () => true,
      (v: { item: string; ask: string }) => `${v.item}-${v.ask}`,
    );
    const first = byId(
      (v: { item: string }) => v.item === "a",
      () => "A",
    );
    await onFreshProcesses("fanout-sub-twice", { items: ["a", "b"] }, [first, all, all], {
      pausedValues: false,
    });
  }, 60_000);
});
