// lockFence's decisions, over a PauseWatch driven by hand and a lock read counted (its Redis read
// is Dispatcher.holdsLock; test/run-stream-thawed-ahead.e2e.test.ts runs it on real workers).
import { describe, expect, it } from "vitest";
import type { WorkerContext } from "./context.ts";
import { isJobLockLost, JobLockLostError, JobLoss } from "./job-loss.ts";
import { lockFence } from "./lock-fence.ts";

/** `answers`: each read's answer; "held, then still": held, but the process stood still again before reading it. */
function fenceOver(answers: Array<boolean | "held, then still">) {
  let stoodStill = false;
  const reads: number[] = [];
  const ctx = {
    pauses: { stoodStillSince: () => stoodStill },
    dispatcher: {
      holdsLock: async () => {
        reads.push(1);
        const answer = answers.shift() ?? true;
        stoodStill = answer === "held, then still";
        return answer !== false;
      },
    },
  } as unknown as WorkerContext;
  const loss = new JobLoss();
  const check = lockFence(ctx, { key: "k", token: "t" }, { startedAt: performance.now(), loss }) as () =>
    | Promise<void>
    | undefined;
  const standStill = () => {
    stoodStill = true;
  };
  return { check, reads, standStill, loss };
}

describe("lockFence", () => {
  it("reads nothing while the process has not stood still", () => {
    const { check, reads } = fenceOver([]);
    expect(check()).toBeUndefined();
    expect(check()).toBeUndefined();
    expect(reads).toHaveLength(0);
  });

  it("after a stand-still reads the lock once, then lets commits through while it holds", async () => {
    const { check, reads, standStill } = fenceOver([true]);
    standStill();
    await check();
    expect(check()).toBeUndefined();
    expect(reads).toHaveLength(1);
  });

  it("reads again when the process stood still while the answer was on its way (it may be stale)", async () => {
    const { check, reads, standStill } = fenceOver(["held, then still", false]);
    standStill();
    await expect(check()).rejects.toBeInstanceOf(JobLockLostError);
    expect(reads).toHaveLength(2);
  });

  it("refuses the commit and every one after it once another worker holds the lock", async () => {
    const { check, reads, standStill } = fenceOver([false]);
    standStill();
    await expect(check()).rejects.toBeInstanceOf(JobLockLostError);
    // No stand-still since, but the job is no longer this worker's.
    await expect(check()).rejects.toMatchObject({ code: "JOB_LOCK_LOST" });
    expect(reads).toHaveLength(1);
  });

  it("aborts the job's signal when it finds the lock another worker's: the job's running nodes stop", async () => {
    const { check, standStill, loss } = fenceOver([false]);
    standStill();
    await expect(check()).rejects.toBeInstanceOf(JobLockLostError);
    expect(loss.signal.aborted).toBe(true);
    // An AbortError, as fetch's, caused by the loss: a node's abort checks and isJobLockLost both see it.
    expect(loss.signal.reason).toMatchObject({ name: "AbortError" });
    expect(isJobLockLost(loss.signal.reason)).toBe(true);
  });

  it("refuses every commit without reading once BullMQ found the job lost", async () => {
    const { check, reads, loss } = fenceOver([true]);
    loss.lose();
    await expect(check()).rejects.toBeInstanceOf(JobLockLostError);
    expect(reads).toHaveLength(0);
  });

  it("is found as a cause: a node whose subgraph's commit it refused failed with it", () => {
    const wrapped = new Error("node failed", {
      cause: new Error("subgraph", { cause: new JobLockLostError() }),
    });
    expect(isJobLockLost(wrapped)).toBe(true);
    expect(isJobLockLost(new Error("other"))).toBe(false);
    expect(isJobLockLost(undefined)).toBe(false);
  });
});
