// The engine on PostgresSaver, end to end: what a superstep costs (statements, bytes), list
// deltas produced by the engine's own append hints, retention between an interrupt and its
// resume, and a run whose connections are killed mid-way.
import { Annotation, Command, END, interrupt, START, StateGraph } from "@layover/graph";
import { describe, expect, it } from "vitest";
import { message, newKey } from "./test-support/checkpoints.ts";
import { useCountedSaver } from "./test-support/counted-saver.ts";
import { channelBytes, terminateBackends } from "./test-support/pools.ts";

const t = useCountedSaver("engine_pg", 3);

const ChatState = Annotation.Root({
  messages: Annotation<unknown[], unknown[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  turns: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }),
  approved: Annotation<boolean>(),
});

/** A graph whose node appends one message per superstep until `turns` reaches `steps`, then asks for approval. */
function chatGraph(
  steps: number,
  options: { approval?: boolean; onTurn?: (turn: number) => Promise<void> } = {},
) {
  return new StateGraph(ChatState)
    .addNode("talk", async (state: typeof ChatState.State) => {
      await options.onTurn?.(state.turns);
      return { messages: [message(state.turns, 100)], turns: state.turns + 1 };
    })
    .addNode("approve", () => ({ approved: interrupt("send?") as boolean }))
    .addEdge(START, "talk")
    .addConditionalEdges("talk", (state: typeof ChatState.State) =>
      state.turns < steps ? "talk" : options.approval ? "approve" : END,
    )
    .addEdge("approve", END)
    .compile({ checkpointer: t.saver });
}

async function historyLength(threadId: string): Promise<number> {
  let count = 0;
  for await (const _ of t.saver.list({ threadId, ns: "" })) count += 1;
  return count;
}

describe("the engine on PostgresSaver", () => {
  it("commits each superstep with one statement and no multi-statement transaction", async () => {
    const { threadId } = newKey("linear");
    const start = t.counted.statements.length;
    const result = await chatGraph(10).invoke({}, { configurable: { thread_id: threadId } });
    expect(result.turns).toBe(10);
    const sent = t.counted.statements.slice(start);
    const puts = sent.filter((name) => name.startsWith("layover_put_checkpoint"));
    expect(puts).toHaveLength(await historyLength(threadId));
    expect(puts).toHaveLength(11);
    expect(sent.filter((text) => /^\s*BEGIN/i.test(text))).toEqual([]);
    expect(sent.length - puts.length).toBeLessThanOrEqual(2);
  });

  it("a worker's stepper stores a job's held supersteps in one statement, lists as deltas", async () => {
    const { threadId } = newKey("held");
    const config = { configurable: { thread_id: threadId } };
    const graph = chatGraph(10);
    await graph.prepare({}, config);
    const stepper = graph.stepper(config, { holdAsync: true });
    const sent = await t.statementsOf(async () => {
      while ((await stepper.step()).status === "next");
    });
    // One head read, then the ten supersteps in one put.
    expect(sent.filter((name) => name.startsWith("layover_put_checkpoint"))).toHaveLength(1);
    expect(sent).toHaveLength(2);
    expect(await historyLength(threadId)).toBe(11);
    expect((await graph.getState(config)).values.messages).toEqual(
      Array.from({ length: 10 }, (_, i) => message(i, 100)),
    );
    // The input's empty list, then each superstep's message once: a delta on the one before it.
    const stored = await channelBytes(t.admin, t.schema.name, threadId, "messages");
    expect(stored.rows).toBe(11);
    expect(stored.full).toBe(1);
    expect(stored.bytes).toBeLessThan(
      1.2 * JSON.stringify(Array.from({ length: 10 }, (_, i) => message(i, 100))).length,
    );
  });

  it("stores a message list grown by the engine's reducer as deltas: O(N) over 100 and 500 supersteps", async () => {
    const sizes: Record<number, { bytes: number; rows: number; full: number }> = {};
    for (const steps of [100, 500]) {
      const { threadId } = newKey(`chat-${steps}`);
      const result = await chatGraph(steps).invoke(
        {},
        { configurable: { thread_id: threadId }, recursionLimit: 1000 },
      );
      expect(result.messages).toEqual(Array.from({ length: steps }, (_, i) => message(i, 100)));
      sizes[steps] = await channelBytes(t.admin, t.schema.name, threadId, "messages");
      const finalBytes = JSON.stringify(result.messages).length;
      expect(sizes[steps]!.bytes).toBeLessThan(3.2 * finalBytes);
    }
    expect(sizes[500]!.bytes / sizes[100]!.bytes).toBeLessThan(10);
    expect(sizes[500]!.full).toBeLessThan(10);
  }, 120_000);

  it("resumes an interrupted thread after keep_latest pruned its history", async () => {
    const { threadId } = newKey("prune-then-resume");
    const config = { configurable: { thread_id: threadId }, recursionLimit: 100 };
    const graph = chatGraph(30, { approval: true });
    const paused = await graph.invoke({}, config);
    expect(paused.__interrupt__).toHaveLength(1);
    expect(await historyLength(threadId)).toBeGreaterThan(30);

    const pruned = await t.saver.prune({ threadIds: [threadId] }, { strategy: "keep_latest" });
    expect(pruned.materialized).toBeGreaterThanOrEqual(1);
    expect(await historyLength(threadId)).toBe(1);

    const done = await graph.invoke(new Command({ resume: true }), config);
    expect(done.approved).toBe(true);
    expect(done.messages).toEqual(Array.from({ length: 30 }, (_, i) => message(i, 100)));
    expect((await graph.getState(config)).values.messages).toHaveLength(30);
  });

  it("finishes a run whose connections are terminated mid-way, committing each superstep once", async () => {
    const { threadId } = newKey("terminated-run");
    let terminated = 0;
    const graph = chatGraph(12, {
      onTurn: async (turn) => {
        if (turn === 4 || turn === 8) terminated += await terminateBackends(t.admin, t.counted.appName);
      },
    });
    const result = await graph.invoke({}, { configurable: { thread_id: threadId } });
    expect(terminated).toBeGreaterThan(0);
    expect(result.messages).toEqual(Array.from({ length: 12 }, (_, i) => message(i, 100)));
    expect(await historyLength(threadId)).toBe(13);
  });
});
