// A task's result is stored as the task finishes (durability "sync" and "async"), as LangGraph.js
// stores each call's __return__: a process that dies while a later task runs does not lose it, and
// the workflow that runs again does not repeat the side effect (a card charged twice).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { entrypoint, MemorySaver, task } from "../index.ts";

describe("a crash after a task finished", () => {
  it.each(["sync", "async"] as const)(
    "durability %s: the finished task's result is stored before the workflow ends, and not run again",
    async (durability) => {
      const saver = new MemorySaver();
      const runs: Record<string, number> = {};
      let hang = true;
      let release: () => void = () => undefined;
      const charge = task("charge", async (amount: number) => {
        runs.charge = (runs.charge ?? 0) + 1;
        return { charged: amount };
      });
      const ship = task("ship", async () => {
        runs.ship = (runs.ship ?? 0) + 1;
        if (hang) await new Promise<void>((resolve) => (release = resolve)); // the process dies here
        return "shipped";
      });
      const wf = entrypoint({ name: "order", checkpointer: saver }, async (amount: number) => {
        const receipt = await charge(amount);
        return { receipt, shipping: await ship() };
      });
      const config = { configurable: { thread_id: randomUUID() }, durability };
      const dying = wf.invoke(100, config);
      for (let i = 0; i < 50 && runs.ship === undefined; i++) await new Promise((r) => setTimeout(r, 5));
      expect(runs).toEqual({ charge: 1, ship: 1 });

      // What another process finds: the charge is recorded...
      const tuple = await saver.getTuple({ threadId: config.configurable.thread_id, ns: "" } as never);
      expect(tuple?.pendingWrites.some((w: any) => w.channel === "__return__")).toBe(true);

      // ...and a worker that picks the run up again does not charge the card twice.
      hang = false;
      await expect(wf.invoke(null, config)).resolves.toEqual({
        receipt: { charged: 100 },
        shipping: "shipped",
      });
      expect(runs.charge).toBe(1);
      release();
      await dying.catch(() => undefined);
    },
  );
});
