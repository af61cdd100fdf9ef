// Node timeouts, as LangGraph.js 1.7.3's `addNode(name, fn, { timeout })`: a hard cap on one
// attempt (runTimeout, or a number) and a cap on an attempt's silence (idleTimeout), refreshed by
// what the node does that can be seen (its custom stream, pushMessage, task() calls, LangChain
// callbacks) or by config.heartbeat() alone (refreshOn "heartbeat"). A timed-out attempt's signal
// aborts, what it does after is dropped, and it fails with NodeTimeoutError, which a RetryPolicy
// retries.
import { setTimeout as sleep } from "node:timers/promises";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import {
  type AddNodeOptions,
  Annotation,
  Command,
  entrypoint,
  getConfig,
  interrupt,
  isNodeTimeoutError,
  MemorySaver,
  MessagesAnnotation,
  type NodeConfig,
  NodeTimeoutError,
  pushMessage,
  Send,
  START,
  StateGraph,
  task,
} from "./index.ts";

function oneNode(fn: (state: unknown, config: NodeConfig) => unknown, options: AddNodeOptions) {
  return new StateGraph(MessagesAnnotation)
    .addNode("slow", fn as never, options)
    .addEdge(START, "slow")
    .compile();
}

/**
 * Progress every STEP_MS, STEPS times (320 ms in all), under an idle timeout of IDLE_MS: each step
 * has 110 ms to spare on a loaded machine, and the whole takes twice the idle timeout, so only a
 * refreshed clock lets it finish.
 */
const STEPS = 8;
const STEP_MS = 40;
const IDLE_MS = 150;

/** Waits `ms`, or rejects when `signal` aborts (as a fetch given the node's signal does). */
const wait = (ms: number, signal: AbortSignal | undefined) => sleep(ms, undefined, signal ? { signal } : {});

describe("addNode(…, { timeout })", () => {
  it("fails an attempt past its runTimeout with NodeTimeoutError, and aborts the node's signal", async () => {
    let aborted = false;
    const graph = oneNode(
      async (_s, config) => {
        config.signal?.addEventListener("abort", () => {
          aborted = true;
        });
        await wait(5_000, config.signal);
        return {};
      },
      { timeout: { runTimeout: 50 } },
    );
    const started = performance.now();
    const error = await graph.invoke({ messages: [] }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(NodeTimeoutError);
    expect(isNodeTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ node: "slow", kind: "run", timeout: 50, runTimeout: 50 });
    expect((error as NodeTimeoutError).elapsed).toBeGreaterThanOrEqual(45);
    expect(aborted).toBe(true);
  });

  it("takes a number as the runTimeout, and lets a node that finishes in time finish", async () => {
    const quick = oneNode(async () => ({ messages: [{ role: "user", content: "ok", id: "1" }] }), {
      timeout: 1_000,
    });
    expect((await quick.invoke({ messages: [] })).messages).toHaveLength(1);
    const slow = oneNode((_s, config) => wait(5_000, config.signal), { timeout: 40 });
    await expect(slow.invoke({ messages: [] })).rejects.toMatchObject({
      name: "NodeTimeoutError",
      kind: "run",
    });
  });

  it("refreshes an idleTimeout while the node shows progress, and fails it once the node goes silent", async () => {
    const steady = oneNode(
      async (_s, config) => {
        for (let i = 0; i < STEPS; i++) {
          await wait(STEP_MS, config.signal);
          config.writer(i);
        }
        return {};
      },
      { timeout: { idleTimeout: IDLE_MS } },
    );
    await expect(steady.invoke({ messages: [] })).resolves.toBeDefined();
    const pushing = oneNode(
      async (_s, config) => {
        for (let i = 0; i < STEPS; i++) {
          await wait(STEP_MS, config.signal);
          pushMessage({ role: "assistant", content: `step ${i}`, id: `p${i}` });
        }
        return {};
      },
      { timeout: { idleTimeout: IDLE_MS } },
    );
    expect((await pushing.invoke({ messages: [] })).messages).toHaveLength(STEPS);
    const stalls = oneNode(
      async (_s, config) => {
        pushMessage({ role: "assistant", content: "thinking", id: "p" });
        await wait(5_000, config.signal);
        return {};
      },
      { timeout: { idleTimeout: 60 } },
    );
    await expect(stalls.invoke({ messages: [] })).rejects.toMatchObject({ kind: "idle", timeout: 60 });
  });

  it('with refreshOn "heartbeat", counts only config.heartbeat() as progress', async () => {
    const writing = (beat: boolean) =>
      oneNode(
        async (_s, config) => {
          for (let i = 0; i < STEPS; i++) {
            await wait(STEP_MS, config.signal);
            config.writer(i);
            if (beat) config.heartbeat?.();
          }
          return {};
        },
        { timeout: { idleTimeout: IDLE_MS, refreshOn: "heartbeat" } },
      );
    await expect(writing(true).invoke({ messages: [] })).resolves.toBeDefined();
    await expect(writing(false).invoke({ messages: [] })).rejects.toMatchObject({ kind: "idle" });
  });

  it("is retried by a RetryPolicy, and what the timed-out attempt does later is dropped", async () => {
    let attempts = 0;
    const graph = oneNode(
      async () => {
        attempts += 1;
        if (attempts === 1) {
          await sleep(250); // ignores its signal, as a node may
          pushMessage({ role: "assistant", content: "late", id: "late" });
          return { messages: [{ role: "assistant", content: "stale", id: "stale" }] };
        }
        return { messages: [{ role: "assistant", content: "fresh", id: "fresh" }] };
      },
      { timeout: 150, retryPolicy: { maxAttempts: 2, initialInterval: 1 } },
    );
    const result = await graph.invoke({ messages: [] });
    await sleep(200); // the first attempt's late push has happened
    expect(attempts).toBe(2);
    expect(result.messages.map((m) => m.id)).toEqual(["fresh"]);
  });

  it("refuses a timeout that is not a positive number of milliseconds, naming the node", () => {
    const build = (timeout: unknown) => () => oneNode(() => ({}), { timeout } as never);
    for (const bad of [
      0,
      -5,
      "5s",
      Number.NaN,
      { runTimeout: 0 },
      { idleTimeout: "1m" },
      { refreshOn: "never", runTimeout: 5 },
    ])
      expect(build(bad)).toThrow(/Node "slow": timeout/);
    expect(build({})).not.toThrow(); // no timeout at all, as LangGraph's
  });

  it("counts a chat model's tokens under the node as progress (LangChain callbacks)", async () => {
    const model = new FakeListChatModel({ responses: ["abcdefgh"], sleep: STEP_MS });
    const graph = oneNode(
      async (_s, config) => {
        let text = "";
        for await (const chunk of await model.stream("hi", config as never)) text += chunk.content;
        return { messages: [{ role: "assistant", content: text, id: "m" }] };
      },
      { timeout: { idleTimeout: IDLE_MS } }, // 8 tokens STEP_MS apart
    );
    expect((await graph.invoke({ messages: [] })).messages[0]?.content).toBe("abcdefgh");
  });
});

describe("task() and entrypoint() timeouts", () => {
  it("times out a task() call's attempt, retried by its retry policy, and an entrypoint's run", async () => {
    let calls = 0;
    const flaky = task(
      { name: "flaky", timeout: 150, retry: { maxAttempts: 2, initialInterval: 1 } },
      async () => {
        calls += 1;
        if (calls === 1) await sleep(5_000, undefined, { signal: getConfig().signal as AbortSignal });
        return "done";
      },
    );
    const workflow = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async () => flaky());
    expect(await workflow.invoke("go", { configurable: { thread_id: "t" } })).toBe("done");
    expect(calls).toBe(2);
    const slow = entrypoint({ name: "slow", checkpointer: new MemorySaver(), timeout: 40 }, async () => {
      await sleep(5_000, undefined, { signal: getConfig().signal as AbortSignal });
      return "never";
    });
    await expect(slow.invoke("go", { configurable: { thread_id: "u" } })).rejects.toMatchObject({
      name: "NodeTimeoutError",
      node: "slow",
    });
  });

  it("refuses a task option it does not know, and a bad timeout, naming the task", () => {
    expect(() => task({ name: "t", retries: 3 } as never, () => 1)).toThrow(
      /task "t" does not take "retries"/,
    );
    expect(() => task({ name: "t", timeout: -1 }, () => 1)).toThrow(/task "t": timeout/);
    expect(() => entrypoint({ name: "e", timeout: "1m" } as never, () => 1)).toThrow(
      /entrypoint "e": timeout/,
    );
  });

  it("refuses a timeout longer than a timer can wait, a node's or a Send's", () => {
    expect(() => oneNode(() => ({}), { timeout: 2 ** 31 })).toThrow(/at most 2147483647/);
    expect(() => new Send("slow", {}, { timeout: 2 ** 31 })).toThrow(
      /new Send\("slow", args, \{ timeout \}\).*2147483647/,
    );
    expect(() => new Send("slow", {}, { timeout: { idleTimeout: -5 } })).toThrow(/new Send\("slow"/);
  });
});

describe("a Send's own timeout (LangGraph.js 1.7.3's new Send(node, arg, { timeout }))", () => {
  const Lookups = Annotation.Root({
    done: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  /** One Send per lookup: each takes its `ms`, with the Send's `timeout` if it has one; a timeout is handled. */
  function lookups(sends: Array<{ name: string; ms: number; timeout?: number }>, nodeTimeout?: number) {
    return new StateGraph(Lookups)
      .addNode("fan", () => ({}))
      .addNode(
        "lookup",
        async (job: { name: string; ms: number }, config: NodeConfig) => {
          await wait(job.ms, config.signal);
          return { done: [`${job.name} answered`] };
        },
        {
          ...(nodeTimeout === undefined ? {} : { timeout: nodeTimeout }),
          errorHandler: (job: { name: string }, error) => {
            const e = error.error as NodeTimeoutError;
            return { done: [`${job.name}: ${e.name} (${e.kind}, ${e.timeout} ms)`] };
          },
        },
      )
      .addEdge(START, "fan")
      .addConditionalEdges("fan", () =>
        sends.map(({ timeout, ...job }) => new Send("lookup", job, timeout === undefined ? {} : { timeout })),
      );
  }

  it("times its task out alone: the Sends beside it to the same node run without it", async () => {
    const graph = lookups([
      { name: "slow", ms: 600, timeout: 40 },
      { name: "quick", ms: 10 },
      { name: "unhurried", ms: 200 },
    ]).compile();
    expect((await graph.invoke({})).done).toEqual([
      "slow: NodeTimeoutError (run, 40 ms)",
      "quick answered",
      "unhurried answered",
    ]);
  });

  it("takes the node's timeout's place, shorter or longer", async () => {
    const graph = lookups(
      [
        { name: "held to less", ms: 600, timeout: 40 },
        { name: "given more", ms: 200, timeout: 2_000 },
        { name: "the node's", ms: 600 },
      ],
      100,
    ).compile();
    expect((await graph.invoke({})).done).toEqual([
      "held to less: NodeTimeoutError (run, 40 ms)",
      "given more answered",
      "the node's: NodeTimeoutError (run, 100 ms)",
    ]);
  });

  it("is kept with the checkpoint: a task planned before a pause keeps it when the run goes on", async () => {
    const saver = new MemorySaver();
    const sends = [{ name: "slow", ms: 600, timeout: 40 }];
    const before = lookups(sends).compile({ checkpointer: saver, interruptBefore: ["lookup"] });
    const config = { configurable: { thread_id: "send-timeout" } };
    await before.invoke({}, config);
    // Another process, the same graph: it runs the planned Send from the stored checkpoint.
    const after = lookups(sends).compile({ checkpointer: saver });
    expect((await after.invoke(null, config)).done).toEqual(["slow: NodeTimeoutError (run, 40 ms)"]);
  });
});

describe("a timed-out attempt that runs on", () => {
  it("touches neither the next attempt (its calls, pauses, stream) nor the superstep", async () => {
    let attempts = 0;
    const echo = task("echo", async (word: string) => `r-${word}`);
    const graph = new StateGraph(MessagesAnnotation)
      .addNode(
        "n",
        async (_s, config) => {
          attempts += 1;
          if (attempts === 1) {
            // Past its timeout (300 ms), ignoring the signal, while the next attempt waits (301–501 ms).
            await sleep(420);
            config.writer("late chunk");
            await echo("LATE").catch(() => "refused");
            return {};
          }
          await sleep(200);
          const a = await echo("A");
          const b = await echo("B");
          const answer = interrupt("go?");
          return { messages: [{ role: "assistant", content: `${a} ${b} ${answer}`, id: "m" }] };
        },
        { timeout: 300, retryPolicy: { maxAttempts: 2, initialInterval: 1 } },
      )
      .addEdge(START, "n")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    const custom: unknown[] = [];
    for await (const chunk of await graph.stream({ messages: [] }, { ...config, streamMode: "custom" }))
      custom.push(chunk);
    expect(custom).toEqual([]);
    const done = await graph.invoke(new Command({ resume: "yes" }), config);
    expect(done.messages[0]?.content).toBe("r-A r-B yes");
  });

  it("does not hold the superstep for a task() call it left running", async () => {
    const hangs = task("hangs", async () => {
      await sleep(1_000); // ignores any signal
      return 1;
    });
    const graph = oneNode(async () => ({ n: await hangs() }), { timeout: 50 });
    const started = performance.now();
    await expect(graph.invoke({ messages: [] })).rejects.toMatchObject({ name: "NodeTimeoutError" });
    expect(performance.now() - started).toBeLessThan(700);
  });

  it("counts the work of a subgraph it calls as its progress", async () => {
    const sub = new StateGraph(MessagesAnnotation);
    const names = ["s1", "s2", "s3", "s4", "s5", "s6"];
    let previous = START as string;
    for (const name of names) {
      sub.addNode(name, async () => {
        await sleep(STEP_MS);
        return {};
      });
      sub.addEdge(previous, name);
      previous = name;
    }
    const compiled = sub.compile();
    const graph = oneNode(async (state) => compiled.invoke(state as never), {
      timeout: { idleTimeout: IDLE_MS },
    });
    await expect(graph.invoke({ messages: [] })).resolves.toBeDefined(); // 240 ms in all, STEP_MS between tasks
  });
});
