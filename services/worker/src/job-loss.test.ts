// Which of a worker's job attempts are lost, as BullMQ's failed renewals and its handing a job out
// again say, and the order attempts of one job leave in (test/job-lost-signal.int.test.ts runs
// them against real BullMQ).
import { describe, expect, it } from "vitest";
import { JobLosses } from "./job-loss.ts";

describe("JobLosses", () => {
  it("loses the attempts of the jobs a failed renewal names, and no other", () => {
    const losses = new JobLosses();
    const one = losses.track("job-1");
    const other = losses.track("job-2");
    losses.lose(["job-1"]);
    expect([one.loss.lost, other.loss.lost]).toEqual([true, false]);
  });

  it("loses an attempt when this worker is handed its job again (with a new lock) while it runs", () => {
    const losses = new JobLosses();
    const first = losses.track("job-1");
    const again = losses.track("job-1");
    expect([first.loss.lost, again.loss.lost]).toEqual([true, false]);
    // BullMQ renews the newest attempt's lock; when that fails, it is lost too.
    losses.lose(["job-1"]);
    expect(again.loss.lost).toBe(true);
  });

  it("lets an older attempt leave only after the newer ones (BullMQ stops renewing the id's lock when one returns)", async () => {
    const losses = new JobLosses();
    const first = losses.track("job-1");
    const second = losses.track("job-1");
    const order: string[] = [];
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const firstLeft = first.leave().then(() => order.push("first"));
    await turn();
    expect(order).toEqual([]);
    // Handed out a third time while both run: the first and the second wait for it.
    const third = losses.track("job-1");
    const secondLeft = second.leave().then(() => order.push("second"));
    await turn();
    expect(order).toEqual([]);
    await third.leave().then(() => order.push("third"));
    await Promise.all([firstLeft, secondLeft]);
    expect(order).toEqual(["third", "second", "first"]);
  });

  it("does not lose an attempt that left, nor one that begins after the renewal failed", async () => {
    const losses = new JobLosses();
    const ended = losses.track("job-1");
    await ended.leave();
    losses.lose(["job-1"]);
    const next = losses.track("job-1");
    expect([ended.loss.lost, next.loss.lost]).toEqual([false, false]);
  });
});
