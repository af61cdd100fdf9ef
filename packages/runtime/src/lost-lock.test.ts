import { describe, expect, it } from "vitest";
import { lostLockError } from "./lost-lock.ts";

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
    expect(
      lostLockError(coded("Job t.input.r is not in the active state. moveToFinished", -3)),
    ).toBeUndefined();
    expect(lostLockError(new Error("connect ECONNREFUSED 127.0.0.1:6379"))).toBeUndefined();
    expect(lostLockError("could not renew lock for job x")).toBeUndefined();
  });
});
