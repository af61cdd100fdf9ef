// Runs a graph shape two ways and compares what a user sees: in-process (the engine and its
// MemorySaver: invoke, then invoke(Command({ resume }))) and through the runtime (runs.start,
// runs.wait, threads.get, threads.resume, interrupts.list). Interrupt ids differ between the
// two (they derive from task ids, which derive from checkpoint ids); everything else must not.
import { randomUUID } from "node:crypto";
import { PostgresSaver } from "@layover/checkpoint-postgres";
import { Command, type CompiledStateGraph, MemorySaver } from "@layover/graph";
import { expect } from "vitest";
import { executionsOf, idempotencyKeysOf } from "../fixtures/executions.ts";
import { shapeGraphs } from "../fixtures/shape-graphs.ts";
import { checkpointForks, type Harness } from "./harness.ts";

export type GraphId = keyof typeof shapeGraphs;
export interface Shown {
  id: string;
  value: unknown;
}
/** What a user sees after a call: the state, the pending questions, what runs next. */
export interface Seen {
  values: Record<string, unknown>;
  interrupts: Shown[];
  next: string[];
  tasks: Array<{ name: string; interrupts: unknown[] }>;
}
/** What to answer, given what is asked: one value, or `{ [id]: value }`. */
export type Answer = (asked: Shown[]) => unknown;

export interface Side {
  threadId: string;
  start(input: Record<string, unknown>): Promise<Seen>;
  resume(answer: unknown): Promise<Seen>;
  history(): Promise<Array<{ step: unknown; source: unknown; values: string; writes: string }>>;
}

export function local(graphId: GraphId): Side {
  const graph = (shapeGraphs[graphId] as CompiledStateGraph).withCheckpointer(new MemorySaver());
  const threadId = `local-${randomUUID()}`;
  const config = { configurable: { thread_id: threadId } };
  const seen = async (result: Record<string, unknown>): Promise<Seen> => {
    const { __interrupt__, ...values } = result;
    const state = await graph.getState(config);
    return {
      values,
      interrupts: ((__interrupt__ as Shown[] | undefined) ?? []).map(({ id, value }) => ({ id, value })),
      next: state.next,
      tasks: state.tasks
        .filter((t) => t.interrupts.length > 0)
        .map((t) => ({ name: t.name, interrupts: t.interrupts.map((i) => i.value) })),
    };
  };
  return {
    threadId,
    start: async (input) => seen(await graph.invoke(input, config)),
    resume: async (answer) => seen(await graph.invoke(new Command({ resume: answer }), config)),
    async history() {
      const list = [];
      for await (const s of graph.getStateHistory(config)) list.push(entry(s.metadata, s.values));
      return list;
    },
  };
}

/** The graph reading the runtime's checkpoints, as a worker would. */
export function storedGraph(h: Harness, graphId: GraphId) {
  return (shapeGraphs[graphId] as CompiledStateGraph).withCheckpointer(
    new PostgresSaver({ pool: h.pool, schema: h.schema }),
  );
}

export function remote(h: Harness, graphId: GraphId): Side & { lastRunId(): string } {
  const threadId = `remote-${randomUUID()}`;
  let runId = "";
  const seen = async (): Promise<Seen> => {
    const result = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    if (result.status === "error") throw new Error(`run failed: ${JSON.stringify(result.error)}`);
    const thread = await h.client.threads.get(threadId);
    const listed = await h.client.interrupts.list({ status: "pending", threadId });
    // runs.wait, threads.get and interrupts.list show the same questions (the list, across
    // threads, oldest first: ids break the tie of one park's).
    const ids = result.interrupts.map((i) => i.id);
    expect(thread.tasks.flatMap((t) => t.interrupts.map((i) => i.id))).toEqual(ids);
    expect(listed.interrupts.map((i) => i.id).sort()).toEqual([...ids].sort());
    // The engine reading what the runtime stored sees the same tasks, questions and ids.
    const engine = await storedGraph(h, graphId).getState({ configurable: { thread_id: threadId } });
    const asked = (tasks: Array<{ id: string; name: string; interrupts: Array<{ id: string }> }>) =>
      tasks
        .filter((t) => t.interrupts.length > 0)
        .map((t) => ({ id: t.id, name: t.name, interrupts: t.interrupts.map((i) => i.id) }));
    expect(asked(thread.tasks)).toEqual(asked(engine.tasks));
    if (result.status === "interrupted") {
      expect(thread.next).toEqual(engine.next);
      // In the engine's order: the tasks', each task's in the order it asked.
      expect(result.interrupts.map((i) => i.id)).toEqual(asked(engine.tasks).flatMap((t) => t.interrupts));
    }
    return {
      values: result.values,
      interrupts: result.interrupts.map(({ id, value }) => ({ id, value })),
      next: result.status === "interrupted" ? thread.next : [],
      tasks: thread.tasks
        .filter((t) => t.interrupts.length > 0)
        .map((t) => ({ name: t.name, interrupts: t.interrupts.map((i) => i.value) })),
    };
  };
  return {
    threadId,
    lastRunId: () => runId,
    async start(input) {
      ({ runId } = await h.client.runs.start({ graphId, threadId, input }));
      return seen();
    },
    async resume(answer) {
      ({ runId } = await h.client.threads.resume(threadId, answer));
      return seen();
    },
    async history() {
      const list = [];
      for await (const s of h.client.threads.history(threadId)) list.push(entry(s.metadata, s.values));
      return list;
    },
  };
}

/** JSON with its objects' keys sorted (jsonb keeps its own key order). */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
/** A history entry as compared: its step, source, values and writes. */
export function entry(metadata: Record<string, unknown> | undefined, values: unknown) {
  return {
    step: metadata?.step,
    source: metadata?.source,
    values: canonical(values),
    writes: canonical(metadata?.writes ?? null),
  };
}
/** Interrupt ids differ between the two paths (their task ids do); what they ask, and in what order, must not. */
export const withoutIds = (seen: Seen, values: boolean) => ({
  ...seen,
  values: values ? canonical(seen.values) : undefined,
  interrupts: seen.interrupts.map((i) => canonical(i.value)),
  tasks: seen.tasks.map(canonical),
});

/**
 * Runs `graphId` from `input` then through `answers` on both paths, checking after each call
 * that both show the same; returns what each showed, and the two sides.
 */
export async function differential(
  h: Harness,
  graphId: GraphId,
  input: Record<string, unknown>,
  answers: Answer[],
  { pausedValues = true } = {},
) {
  const sides = { local: local(graphId), remote: remote(h, graphId) };
  const shown: Record<"local" | "remote", Seen[]> = { local: [], remote: [] };
  for (const name of ["local", "remote"] as const) {
    const side = sides[name];
    shown[name].push(await side.start(input));
    for (const answer of answers) {
      const asked = (shown[name].at(-1) as Seen).interrupts;
      shown[name].push(await side.resume(answer(asked)));
    }
  }
  shown.local.forEach((seen, i) => {
    // Paused, the runtime shows the stored checkpoint's values: its finished tasks' writes are
    // pending until the superstep completes (README, "Reads without the graph's code").
    const values = pausedValues || seen.interrupts.length === 0;
    expect(withoutIds(shown.remote[i] as Seen, values), `after call ${i}`).toEqual(withoutIds(seen, values));
  });
  expect(executionsOf(sides.remote.threadId)).toEqual(executionsOf(sides.local.threadId));
  // A node that runs again (a resume) keeps its idempotency key, on both paths.
  expect(idempotencyKeysOf(sides.remote.threadId)).toEqual(idempotencyKeysOf(sides.local.threadId));
  expect(await sides.remote.history()).toEqual(await sides.local.history());
  expect(await checkpointForks(h, [sides.remote.threadId])).toEqual([]);
  return { shown, ...sides };
}

/** Answers the one question asked with `value`. */
export const just =
  (value: unknown): Answer =>
  () =>
    value;
/** Answers by id the questions whose value `pick` chooses, with `answer(value)`. */
export const byId =
  (pick: (value: any) => boolean, answer: (value: any) => unknown): Answer =>
  (asked) =>
    Object.fromEntries(asked.filter((i) => pick(i.value)).map((i) => [i.id, answer(i.value)]));
