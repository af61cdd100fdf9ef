import { CheckpointConflictError } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { classifyFailure, isPostgresSaverError } from "./errors.ts";
import { backoffDelay, withRetry } from "./retry.ts";

function failure(code: string | undefined, message = "failed"): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe("classifyFailure", () => {
  it.each([
    ["40001", "serialization failure"],
    ["40P01", "deadlock"],
    ["08006", "connection failure"],
    ["08001", "cannot establish a connection"],
    ["57P01", "admin shutdown (pg_terminate_backend, restart)"],
    ["57P03", "cannot connect now (starting up)"],
    ["53300", "too many connections"],
    ["ECONNRESET", "socket reset"],
    ["ECONNREFUSED", "nothing listening"],
  ])("retries %s (%s)", (code) => {
    expect(classifyFailure(failure(code))).toBe("transient");
  });

  it("retries node-postgres connection failures that carry no code", () => {
    expect(classifyFailure(failure(undefined, "Connection terminated unexpectedly"))).toBe("transient");
    expect(
      classifyFailure(failure(undefined, "Client has encountered a connection error and is not queryable")),
    ).toBe("transient");
    // A pg Client's own connectionTimeoutMillis (a PipelinedPool's lane connecting), not a pool's.
    expect(classifyFailure(failure(undefined, "timeout expired"))).toBe("transient");
    expect(classifyFailure(failure(undefined, "lock timeout expired"))).toBe("permanent");
  });

  it("reports missing tables as a schema problem and anything else as permanent", () => {
    expect(classifyFailure(failure("42P01"))).toBe("schema-missing");
    expect(classifyFailure(failure("3F000"))).toBe("schema-missing");
    expect(classifyFailure(failure("23505"))).toBe("permanent");
    expect(classifyFailure(failure("22P02"))).toBe("permanent");
    expect(classifyFailure(new Error("boom"))).toBe("permanent");
  });
});

describe("backoffDelay", () => {
  it("draws below an exponential cap, bounded by maxDelayMs", () => {
    const options = { baseDelayMs: 10, maxDelayMs: 100 };
    expect(backoffDelay(1, options, () => 1)).toBe(10);
    expect(backoffDelay(3, options, () => 1)).toBe(40);
    expect(backoffDelay(10, options, () => 1)).toBe(100);
    expect(backoffDelay(10, options, () => 0)).toBe(0);
  });
});

describe("withRetry", () => {
  const fast = { baseDelayMs: 1, maxDelayMs: 2 };

  it("retries transient failures until the operation succeeds", async () => {
    let attempts = 0;
    const retries: number[] = [];
    const result = await withRetry(
      "op",
      { ...fast, onRetry: (info) => retries.push(info.attempt) },
      async () => {
        attempts += 1;
        if (attempts < 3) throw failure(attempts === 1 ? "40001" : "57P01");
        return "done";
      },
    );
    expect(result).toBe("done");
    expect(retries).toEqual([1, 2]);
  });

  it("gives up after maxAttempts with POSTGRES_UNAVAILABLE, keeping the cause", async () => {
    let attempts = 0;
    const error = await withRetry("op", { ...fast, maxAttempts: 3 }, async () => {
      attempts += 1;
      throw failure("40P01", "deadlock detected");
    }).catch((caught: unknown) => caught);
    expect(attempts).toBe(3);
    expect(isPostgresSaverError(error, "POSTGRES_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toContain("deadlock detected");
    expect((error as { sqlstate?: string }).sqlstate).toBe("40P01");
  });

  it("never retries a compare-and-set conflict or a permanent failure", async () => {
    let attempts = 0;
    const conflict = new CheckpointConflictError({
      threadId: "t",
      ns: "",
      expectedHead: null,
      actualHead: "x",
    });
    await expect(
      withRetry("op", fast, async () => {
        attempts += 1;
        throw conflict;
      }),
    ).rejects.toBe(conflict);
    const permanent = await withRetry("op", fast, async () => {
      attempts += 1;
      throw failure("23505", "duplicate key");
    }).catch((caught: unknown) => caught);
    expect(attempts).toBe(2);
    expect(isPostgresSaverError(permanent, "POSTGRES_QUERY_FAILED")).toBe(true);
  });
});
