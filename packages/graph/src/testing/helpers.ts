import { randomUUID } from "node:crypto";
import type { CheckpointSaver } from "@layover/checkpoint";
import { expect } from "vitest";
import { Annotation, type CompiledStateGraph, START, StateGraph } from "../index.ts";

/** Makes the saver the suite runs against: once per suite, shared by its tests. */
export type SaverMaker = () => CheckpointSaver | Promise<CheckpointSaver>;

/** What each test reaches: the suite's saver. Only valid inside a test. */
export type UseSaver = () => CheckpointSaver;

/** A config on a thread no other test (or run against a shared database) uses. */
export function threadConfig(label = "thread") {
  return { configurable: { thread_id: `engine-${label}-${randomUUID()}` } };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * Awaits `promise`, expects it to reject with a Layover error carrying `code`, and returns
 * the error so the test can check what its message tells the user.
 */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<Error & { code: string }> {
  let error: unknown;
  let rejected = false;
  try {
    await promise;
  } catch (caught) {
    rejected = true;
    error = caught;
  }
  expect(rejected, `expected a rejection with code ${code}`).toBe(true);
  expect((error as { code?: unknown }).code, String(error)).toBe(code);
  return error as Error & { code: string };
}

/** Runs `fn` and expects it to throw a Layover error carrying `code`; returns the error. */
export function expectThrowsCode(fn: () => unknown, code: string): Error & { code: string } {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected a throw with code ${code}`).toBeDefined();
  expect((error as { code?: unknown }).code, String(error)).toBe(code);
  return error as Error & { code: string };
}

/**
 * Lets `parties` concurrent callers continue only once all of them have arrived: two
 * racing steps both run their node before either commits.
 */
export function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived >= parties) release();
    return all;
  };
}

/** Appends lists (or single items): the reducer most tests use to see every write. */
export function appendReducer<T>(left: T[], right: T | T[]): T[] {
  return left.concat(Array.isArray(right) ? right : [right]);
}

/** A state with a last-value `value` and an appending `log`. */
export const LogState = Annotation.Root({
  value: Annotation<string>(),
  log: Annotation<string[], string | string[]>({ reducer: appendReducer, default: () => [] }),
});

/** Counts calls per name, so tests can tell which nodes ran (again), and with which idempotency keys. */
export class CallCounter {
  private readonly counts = new Map<string, number>();
  private readonly keysSeen = new Map<string, string[]>();
  hit(name: string, idempotencyKey?: string): number {
    const next = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, next);
    if (idempotencyKey !== undefined) this.keysSeen.set(name, [...this.keys(name), idempotencyKey]);
    return next;
  }
  of(name: string): number {
    return this.counts.get(name) ?? 0;
  }
  /** The idempotency keys `name` ran with, in call order. */
  keys(name: string): string[] {
    return this.keysSeen.get(name) ?? [];
  }
}

/**
 * Nodes a → b → c on LogState, each appending `name(value)` to `log` and counting its calls;
 * `fail.node` names a node that throws while it is set; `interruptBefore` as compile takes it.
 */
export function linearGraph(
  saver: CheckpointSaver,
  calls: CallCounter,
  fail: { node?: string | undefined } = {},
  interruptBefore: string[] = [],
) {
  const node = (name: string) => (state: { value: string }, config: { idempotencyKey: string }) => {
    calls.hit(name, config.idempotencyKey);
    if (fail.node === name) throw new Error(`${name} failed`);
    return { log: `${name}(${state.value})` };
  };
  return new StateGraph(LogState)
    .addNode("a", node("a"))
    .addNode("b", node("b"))
    .addNode("c", node("c"))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", "c")
    .compile({ checkpointer: saver, interruptBefore });
}

/** A LogState graph whose only node, "sub", is `subgraph`: how the tests run a subgraph as a node. */
export function withSubgraphNode(saver: CheckpointSaver, subgraph: CompiledStateGraph<any, any>) {
  return new StateGraph(LogState)
    .addNode("sub", subgraph)
    .addEdge(START, "sub")
    .compile({ checkpointer: saver });
}

/** Steps `stepper` until its run stops (anything but "next"); the statuses it went through. */
export async function stepToEnd(stepper: { step(): Promise<{ status: string }> }): Promise<string[]> {
  const statuses: string[] = [];
  for (;;) {
    const { status } = await stepper.step();
    statuses.push(status);
    if (status !== "next") return statuses;
  }
}
