// What a worker concludes when its run's last commit was retried after a lost answer: it
// announces success only for the run ended with the checkpoint it stored.
import { describe, expect, it } from "vitest";
import { unseenOutcome } from "./final-commit.ts";

const stored = "1f0c0000-0000-6000-8000-000000000001";

describe("unseenOutcome", () => {
  it("is settled when the run ended (or parked) with the stored checkpoint", () => {
    expect(unseenOutcome({ status: "success", checkpoint_id: stored }, stored)).toBe("settled");
    expect(unseenOutcome({ status: "interrupted", checkpoint_id: stored }, stored, "interrupted")).toBe(
      "settled",
    );
  });

  it("is cancelled when the run was cancelled before the commit settled it", () => {
    expect(unseenOutcome({ status: "cancelled", checkpoint_id: stored }, stored)).toBe("cancelled");
  });

  it("is other for a success with another checkpoint, a run still running or failed, or none", () => {
    const other = "1f0c0000-0000-6000-8000-000000000002";
    expect(unseenOutcome({ status: "success", checkpoint_id: other }, stored)).toBe("other");
    expect(unseenOutcome({ status: "running", checkpoint_id: stored }, stored)).toBe("other");
    expect(unseenOutcome({ status: "error", checkpoint_id: stored }, stored)).toBe("other");
    expect(unseenOutcome(undefined, stored)).toBe("other");
    expect(unseenOutcome({ status: "interrupted", checkpoint_id: stored }, stored)).toBe("other");
    expect(unseenOutcome({ status: "success", checkpoint_id: stored }, stored, "interrupted")).toBe("other");
  });
});
