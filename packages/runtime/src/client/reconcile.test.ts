import { describe, expect, it } from "vitest";
import { failedJobDue } from "./reconcile.ts";

describe("failedJobDue", () => {
  it("waits the backoff after the first failure", () => {
    expect(failedJobDue(0, 1_000, 30_999, 30_000)).toBe(false);
    expect(failedJobDue(0, 1_000, 31_000, 30_000)).toBe(true);
  });

  it("doubles the wait with each time the job was enqueued again", () => {
    expect(failedJobDue(1, 0, 59_999, 30_000)).toBe(false);
    expect(failedJobDue(1, 0, 60_000, 30_000)).toBe(true);
    expect(failedJobDue(3, 0, 239_999, 30_000)).toBe(false);
    expect(failedJobDue(3, 0, 240_000, 30_000)).toBe(true);
  });

  it("waits an hour at most, however often the job failed", () => {
    expect(failedJobDue(40, 0, 3_599_999, 30_000)).toBe(false);
    expect(failedJobDue(40, 0, 3_600_000, 30_000)).toBe(true);
  });
});
