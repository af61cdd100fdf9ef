import { EventEmitter } from "node:events";
import type { Worker } from "bullmq";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { logWorkerErrors, lostLockError } from "./lost-lock.ts";

const coded = (message: string, code: number) => Object.assign(new Error(message), { code });

describe("lostLockError", () => {
  it("reads BullMQ's errors for a job whose lock was lost", () => {
    expect(lostLockError(new Error("could not renew lock for job t.input.r"))).toBe("renewal");
    expect(lostLockError(coded("Missing key for job t.input.r. moveToFinished", -1))).toBe("not held");
    expect(lostLockError(coded("Missing lock for job t.input.r. moveToDelayed", -2))).toBe("not held");
    expect(lostLockError(coded("Lock mismatch for job t.input.r. Cmd moveToFinished from active", -6))).toBe(
      "not held",
    );
  });

  it("leaves every other error alone", () => {
    expect(lostLockError(new Error("connect ECONNREFUSED 127.0.0.1:6379"))).toBeUndefined();
    expect(lostLockError("could not renew lock for job x")).toBeUndefined();
  });
});

describe("logWorkerErrors", () => {
  it("says an error BullMQ repeats at once (a Redis out of memory) once a window, then how often it came", () => {
    vi.useFakeTimers();
    try {
      const lines: Array<{ level: number; msg: string; repeated?: number; err?: { message: string } }> = [];
      const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      const worker = new EventEmitter();
      logWorkerErrors(worker as unknown as Worker, logger, "scheduler worker error");
      const oom = () => new Error("OOM command not allowed when used memory > 'maxmemory'.");
      for (let i = 0; i < 5_000; i++) worker.emit("error", oom());
      worker.emit("error", new Error("something else"));
      vi.advanceTimersByTime(10_000); // the burst stopped: how long it lasted is still said
      worker.emit("error", oom());
      expect(lines.map((line) => [line.err?.message.slice(0, 3), line.repeated])).toEqual([
        ["OOM", undefined],
        ["som", undefined],
        ["OOM", 4_999],
        ["OOM", undefined],
      ]);
      expect(lines[2]?.msg).toBe("scheduler worker error: the same error 4999 more times in 10 s");
    } finally {
      vi.useRealTimers();
    }
  });

  it("says a job's lost lock once, however often BullMQ fails to renew it", () => {
    const lines: Array<{ level: number; jobIds?: string[] }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    // The Worker's events as BullMQ emits them while a thawed job runs on past its lost lock.
    const worker = new EventEmitter();
    logWorkerErrors(worker as unknown as Worker, logger, "worker error");
    worker.emit("lockRenewalFailed", ["a", "b"]);
    worker.emit("error", new Error("could not renew lock for job a"));
    worker.emit("lockRenewalFailed", ["a", "b"]);
    worker.emit("lockRenewalFailed", ["a", "b", "c"]);
    expect(lines.map((line) => [line.level, line.jobIds])).toEqual([
      [40, ["a", "b"]],
      [40, ["c"]],
    ]);
  });

  // BullMQ's -3: the job's hash is there and its lock held this worker's token (moveToFinished
  // checks both first), but Redis's active list no longer has it: some of the queue's keys went
  // outside BullMQ's scripts. The soak's key deletion (SCAN, then DEL) caught it at error. BullMQ
  // had removed the lock first, so the attempt's retry that follows fails "Missing lock" (-2):
  // the same event, said once (seen with BullMQ 6.7.0 on a real Redis).
  it("says a job Redis no longer lists as active once, at warn, not error: Postgres holds its work", () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const worker = new EventEmitter();
    logWorkerErrors(worker as unknown as Worker, logger, "worker error");
    worker.emit("error", coded("Job t.input.r is not in the active state. moveToFinished", -3));
    worker.emit("error", coded("Missing lock for job t.input.r. moveToDelayed", -2));
    worker.emit("error", coded("Missing lock for job t.other.r. moveToDelayed", -2));
    worker.emit("error", coded("Job t.input.r is not in the active state. moveToFinished", -4));
    expect(lines.map((line) => line.level)).toEqual([40, 30, 50]);
    expect(lines[0]?.msg).toContain("deleted outside BullMQ or evicted");
    expect(lines[1]?.msg).toContain("its lock was lost");
    expect(lines[2]?.msg).toBe("worker error");
  });
});
