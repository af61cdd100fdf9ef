// An aborted workflow (invoke's signal; on workers, runs.cancel) starts no task() after the abort:
// it stops at its next call with the signal's reason, as LangGraph.js 1.7.3 rejects with an
// AbortError and saves nothing past it. Before, the workflow went on calling tasks, with side
// effects, to its end, and the cancelled run's value was saved.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { entrypoint, MemorySaver, task } from "../index.ts";

describe("an aborted workflow", () => {
  it("starts no task after the abort, rejects with the signal's reason, and goes on later from its finished tasks", async () => {
    const done: number[] = [];
    const step = task("step", async (i: number) => {
      await sleep(40);
      done.push(i);
      return i;
    });
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async () => {
      for (let i = 0; i < 5; i++) await step(i);
      return "done";
    });
    const config = { configurable: { thread_id: randomUUID() } };
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 60);
    await expect(wf.invoke("go", { ...config, signal: stop.signal })).rejects.toMatchObject({
      name: "AbortError",
    });
    await sleep(150);
    expect(done).toEqual([0, 1]); // the call under way finished; none started after the abort
    expect((await wf.getState(config)).next).toEqual(["wf"]);
    // Continued, it gives back the finished calls and runs the rest.
    await expect(wf.invoke(null, config)).resolves.toBe("done");
    expect(done).toEqual([0, 1, 2, 3, 4]);
  });
});
