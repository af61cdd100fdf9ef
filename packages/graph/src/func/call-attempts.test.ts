// A retried task() call's attempts each run in a context of their own, as a node's: what a failed
// attempt leaves running (a timer that asks) reaches neither the next attempt's counters nor the
// ids of its questions, so a resume finds the question it answers.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Command, entrypoint, interrupt, MemorySaver, task } from "../index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });

describe("a retried task() call's attempts", () => {
  it("a retried task's failed attempt that asks late reaches neither the next attempt's question nor its id", async () => {
    let calls = 0;
    const approve = task(
      { name: "approve", retry: { maxAttempts: 2, initialInterval: 1, jitter: false } },
      async () => {
        calls += 1;
        if (calls === 1) {
          // Something the failed attempt left running asks after the retry began.
          setTimeout(() => {
            try {
              interrupt("left behind");
            } catch {}
          }, 5);
          throw new Error("flaky");
        }
        await sleep(30);
        return interrupt("approve?") as string;
      },
    );
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async () => approve());
    const config = thread();
    const paused = (await wf.invoke({}, config)) as unknown as { __interrupt__: Array<{ value: unknown }> };
    expect(paused.__interrupt__.map((i) => i.value)).toEqual(["approve?"]);
    // The resume runs the call again (its first attempt now): the answer finds the same question.
    await expect(wf.invoke(new Command({ resume: "yes" }), config)).resolves.toBe("yes");
  });
});
