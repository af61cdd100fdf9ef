import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Command, interrupt, type RetryPolicy, START, StateGraph } from "../index.ts";
import { CallCounter, expectCode, LogState, threadConfig, type UseSaver } from "./helpers.ts";

const FAST: RetryPolicy = { maxAttempts: 3, initialInterval: 1, maxInterval: 2, jitter: false };

/** A node that throws on its first `failures` attempts, then succeeds. */
function flakyGraph(saver: CheckpointSaver, calls: CallCounter, failures: number, policy?: RetryPolicy) {
  return new StateGraph(LogState)
    .addNode(
      "flaky",
      () => {
        const attempt = calls.hit("flaky");
        if (attempt <= failures) throw new Error(`transient failure ${attempt}`);
        return { log: `ok after ${attempt}` };
      },
      policy ? { retryPolicy: policy } : {},
    )
    .addEdge(START, "flaky")
    .compile({ checkpointer: saver });
}

/** Item 11: retryPolicy retries a failing node; an interrupt is never retried. */
export function describeRetry(use: UseSaver): void {
  describe("retryPolicy", () => {
    it("retries a failing node until it succeeds", () => retriesUntilSuccess(use()));
    it("gives up after maxAttempts with the node's own error", () => givesUp(use()));
    it("does not retry errors retryOn rejects", () => retryOnRejects(use()));
    it("does not retry without a policy", () => noPolicy(use()));
    it("makes 3 attempts under a policy that does not say how many, as LangGraph does", () =>
      defaultAttempts(use()));
    it("never retries an interrupt", () => interruptNotRetried(use()));
    it("does not retry Layover's own typed errors by default (a bad update is a bug, not a blip)", () =>
      typedErrorNotRetried(use()));
    it("by default retries a server error and a dropped connection, not a client error (HTTP 4xx), as LangGraph does", () =>
      httpStatuses(use()));
  });
}

async function retriesUntilSuccess(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const result = await flakyGraph(saver, calls, 2, FAST).invoke({ value: "v" }, threadConfig("retry"));
  expect(result.log).toEqual(["ok after 3"]);
  expect(calls.of("flaky")).toBe(3);
}

async function givesUp(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = flakyGraph(saver, calls, 5, { ...FAST, maxAttempts: 2 });
  const config = threadConfig("retry-give-up");
  await expect(graph.invoke({ value: "v" }, config)).rejects.toThrow("transient failure 2");
  expect(calls.of("flaky")).toBe(2);
  const state = await graph.getState(config);
  expect(state.tasks[0]?.error).toMatchObject({ message: "transient failure 2" });
}

async function retryOnRejects(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const policy = { ...FAST, retryOn: (error: unknown) => !String(error).includes("transient failure 1") };
  const graph = flakyGraph(saver, calls, 5, policy);
  await expect(graph.invoke({ value: "v" }, threadConfig("retry-on"))).rejects.toThrow("transient failure 1");
  expect(calls.of("flaky")).toBe(1);
}

async function noPolicy(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = flakyGraph(saver, calls, 1);
  await expect(graph.invoke({ value: "v" }, threadConfig("no-retry"))).rejects.toThrow("transient failure 1");
  expect(calls.of("flaky")).toBe(1);
}

async function defaultAttempts(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const { maxAttempts: _, ...unsaid } = FAST;
  const graph = flakyGraph(saver, calls, 5, unsaid);
  await expect(graph.invoke({ value: "v" }, threadConfig("retry-default"))).rejects.toThrow(
    "transient failure 3",
  );
  expect(calls.of("flaky")).toBe(3);
}

async function interruptNotRetried(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode(
      "ask",
      () => {
        calls.hit("ask");
        return { log: interrupt("ok?") };
      },
      { retryPolicy: FAST },
    )
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
  const config = threadConfig("retry-interrupt");
  const paused = await graph.invoke({ value: "v" }, config);
  expect(paused.__interrupt__).toHaveLength(1);
  expect(calls.of("ask")).toBe(1);
  expect((await graph.invoke(new Command({ resume: "yes" }), config)).log).toEqual(["yes"]);
  expect(calls.of("ask")).toBe(2);
}

async function typedErrorNotRetried(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode(
      "bad",
      () => {
        calls.hit("bad");
        return { notAKey: 1 };
      },
      { retryPolicy: FAST },
    )
    .addEdge(START, "bad")
    .compile({ checkpointer: saver });
  const error = await expectCode(graph.invoke({ value: "v" }, threadConfig("retry-typed")), "INVALID_UPDATE");
  expect(error.message).toContain('"notAKey"');
  expect(calls.of("bad")).toBe(1);
}

/** A node that fails like an HTTP client's call, with `status` (on the error or its response). */
async function attemptsOnStatus(saver: CheckpointSaver, failure: Record<string, unknown>): Promise<number> {
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode(
      "call_api",
      () => {
        calls.hit("call_api");
        throw Object.assign(new Error("request failed"), failure);
      },
      { retryPolicy: FAST },
    )
    .addEdge(START, "call_api")
    .compile({ checkpointer: saver });
  await expect(
    graph.invoke({ value: "v" }, threadConfig(`status-${JSON.stringify(failure)}`)),
  ).rejects.toThrow("request failed");
  return calls.of("call_api");
}

async function httpStatuses(saver: CheckpointSaver): Promise<void> {
  expect(await attemptsOnStatus(saver, { status: 503 })).toBe(3);
  expect(await attemptsOnStatus(saver, { status: 401 })).toBe(1);
  expect(await attemptsOnStatus(saver, { response: { status: 404 } })).toBe(1);
  expect(await attemptsOnStatus(saver, { status: 429 })).toBe(3); // rate limited: worth waiting for
  expect(await attemptsOnStatus(saver, { code: "ECONNABORTED" })).toBe(1);
  // A network blip's code (Node's, a driver's) is not one of Layover's typed errors: retried.
  expect(await attemptsOnStatus(saver, { code: "ECONNRESET" })).toBe(3);
  expect(await attemptsOnStatus(saver, { code: "57P01" })).toBe(3);
  expect(await attemptsOnStatus(saver, { error: { code: "insufficient_quota" } })).toBe(1);
}
