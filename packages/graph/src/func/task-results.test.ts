// A task's result comes back after a pause as a state value does: a LangChain message as a
// message, a Date as a Date (LangGraph.js 1.7.3 gives a Date back as a string).
import { randomUUID } from "node:crypto";
import { AIMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { Command, entrypoint, interrupt, MemorySaver, task } from "../index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });

describe("a task's result", () => {
  it("keeps a result a state may hold — a LangChain message, a Date — across a pause, as it was", async () => {
    const reply = task("reply", async () => [new AIMessage({ content: "LHR at 9", id: "m1" }), new Date(0)]);
    const approve = task("approve", async () => interrupt("send it?"));
    const runs: unknown[] = [];
    const wf = entrypoint({ name: "chat", checkpointer: new MemorySaver() }, async () => {
      const [message, when] = await reply();
      runs.push(message);
      return { ok: await approve(), message, when };
    });
    const config = thread();
    await wf.invoke({}, config);
    const done = (await wf.invoke(new Command({ resume: true }), config)) as Record<string, unknown>;
    expect(done.message).toBeInstanceOf(AIMessage);
    expect(done.message).toMatchObject({ content: "LHR at 9", id: "m1" });
    expect(done.when).toEqual(new Date(0));
    expect(runs[1]).toBeInstanceOf(AIMessage); // given back after the pause, not run again
  });
});
