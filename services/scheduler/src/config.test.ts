import { JobLockEnv, SERVICE_ONLY_ENV, ServiceEnv } from "@layover/runtime";
import { describe, expect, it } from "vitest";
import { parseSchedulerEnv, SchedulerEnv } from "./config.ts";

describe("scheduler environment", () => {
  it("keeps threads unless THREAD_TTL_MS is set, and prunes hourly when it is", () => {
    const env = parseSchedulerEnv({});
    expect(env.THREAD_TTL_MS).toBeUndefined();
    expect(env).toMatchObject({ PRUNE_THREADS_EVERY_MS: 3_600_000, SWEEP_EVERY_MS: 2_000 });
    expect(parseSchedulerEnv({ THREAD_TTL_MS: " " }).THREAD_TTL_MS).toBeUndefined();
  });

  it("deletes expired node cache entries every 10 minutes unless told, refusing a timer of 0", () => {
    expect(parseSchedulerEnv({}).PRUNE_CACHE_EVERY_MS).toBe(600_000);
    expect(parseSchedulerEnv({ PRUNE_CACHE_EVERY_MS: "60000" }).PRUNE_CACHE_EVERY_MS).toBe(60_000);
    expect(() => parseSchedulerEnv({ PRUNE_CACHE_EVERY_MS: "0" })).toThrow(/PRUNE_CACHE_EVERY_MS/);
  });

  it("takes a TTL of days, longer than any timer could wait", () => {
    expect(parseSchedulerEnv({ THREAD_TTL_MS: "7776000000" }).THREAD_TTL_MS).toBe(90 * 86_400_000);
  });

  it("refuses a TTL that is not a positive whole number of milliseconds, naming it", () => {
    for (const value of ["0", "-5", "90d", "1.5"])
      expect(() => parseSchedulerEnv({ THREAD_TTL_MS: value }), value).toThrow(/THREAD_TTL_MS/);
    // Past a century no date is left to prune before: every prune tick would fail.
    expect(() => parseSchedulerEnv({ THREAD_TTL_MS: "1000000000000000" })).toThrow(/THREAD_TTL_MS: at most/);
    expect(() => parseSchedulerEnv({ LAYOVER_SCHEMA: "a".repeat(70) })).toThrow(
      /LAYOVER_SCHEMA: at most 63 characters/,
    );
    expect(() => parseSchedulerEnv({ PRUNE_THREADS_EVERY_MS: "0" })).toThrow(/PRUNE_THREADS_EVERY_MS/);
  });

  it("takes its job locks' settings as the worker does, at least a second each", () => {
    expect(parseSchedulerEnv({})).toMatchObject({ LOCK_DURATION_MS: 30_000, STALLED_INTERVAL_MS: 30_000 });
    expect(parseSchedulerEnv({ LOCK_DURATION_MS: "5000", STALLED_INTERVAL_MS: "2000" })).toMatchObject({
      LOCK_DURATION_MS: 5_000,
      STALLED_INTERVAL_MS: 2_000,
    });
    expect(() => parseSchedulerEnv({ LOCK_DURATION_MS: "500" })).toThrow(/LOCK_DURATION_MS/);
  });
  it("reads, besides every service's variables, exactly those the start-up warnings know as the scheduler's", () => {
    const shared = [...Object.keys(ServiceEnv.shape), ...Object.keys(JobLockEnv), "LAYOVER_LOG_PAYLOADS"];
    const own = Object.keys(SchedulerEnv.shape).filter((name) => !shared.includes(name));
    expect(own.sort()).toEqual([...SERVICE_ONLY_ENV.scheduler].sort());
  });
});
