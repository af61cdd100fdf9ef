import { JobLockEnv, SERVICE_ONLY_ENV, ServiceEnv } from "@layover/runtime";
import { describe, expect, it } from "vitest";
import { parseWorkerEnv, WorkerEnv } from "./config.ts";
import { createWorker, type WorkerOptions } from "./worker.ts";

describe("worker environment", () => {
  it("defaults to the local services and a lean in-process budget", () => {
    const env = parseWorkerEnv({});
    expect(env).toMatchObject({
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
      REDIS_URL: "redis://127.0.0.1:6379",
      LAYOVER_SCHEMA: "layover",
      WORKER_CONCURRENCY: 8,
      WORKER_POSTGRES_LANES: 2,
      STEP_BUDGET_STEPS: 16,
      LAYOVER_LOG_PAYLOADS: false,
    });
    expect(env.INTERRUPT_TIMEOUT_MS).toBeUndefined();
  });

  it("refuses a connection URL that is not one, naming the variable, and takes the ones that are", () => {
    expect(() => parseWorkerEnv({ REDIS_URL: "redis//127.0.0.1:6379" })).toThrow(
      /REDIS_URL: a URL such as redis:/,
    );
    expect(() => parseWorkerEnv({ DATABASE_URL: "127.0.0.1:5432/postgres" })).toThrow(/DATABASE_URL: a URL/);
    expect(() => parseWorkerEnv({ DATABASE_URL: "mysql://db/x" })).toThrow(/DATABASE_URL/);
    const env = parseWorkerEnv({
      DATABASE_URL: "postgresql://app:s3cret@db.internal:6432/layover?sslmode=require",
      REDIS_URL: "rediss://:pw@cache:6380/2",
    });
    expect(env.REDIS_URL).toBe("rediss://:pw@cache:6380/2");
    // Unix sockets, as the drivers take them.
    expect(parseWorkerEnv({ REDIS_URL: "/var/run/redis/redis.sock" }).REDIS_URL).toBe(
      "/var/run/redis/redis.sock",
    );
    expect(parseWorkerEnv({ DATABASE_URL: "socket:/var/run/postgresql?db=layover" }).DATABASE_URL).toContain(
      "socket:",
    );
  });

  it("coerces numbers and booleans from strings", () => {
    const env = parseWorkerEnv({
      WORKER_CONCURRENCY: "3",
      INTERRUPT_TIMEOUT_MS: "60000",
      LAYOVER_LOG_PAYLOADS: "true",
    });
    expect(env).toMatchObject({
      WORKER_CONCURRENCY: 3,
      INTERRUPT_TIMEOUT_MS: 60_000,
      LAYOVER_LOG_PAYLOADS: true,
    });
  });

  it("takes a blank variable as unset, not as 0 (which would turn Postgres's timeouts off)", () => {
    const env = parseWorkerEnv({ DATABASE_QUERY_TIMEOUT_MS: " ", MARK_RUNNING_AFTER_MS: "\t" });
    expect(env).toMatchObject({ DATABASE_QUERY_TIMEOUT_MS: 60_000, MARK_RUNNING_AFTER_MS: 50 });
  });

  it("refuses a timer longer than Node's timers can wait (they would fire after 1 ms)", () => {
    for (const name of [
      "SHUTDOWN_TIMEOUT_MS",
      "STALLED_INTERVAL_MS",
      "LOCK_DURATION_MS",
      "STEP_BUDGET_MS",
      "REGISTER_EVERY_MS",
    ]) {
      expect(() => parseWorkerEnv({ [name]: "3000000000" }), name).toThrow(
        new RegExp(`${name}: .*2147483647`),
      );
    }
  });

  it("names every bad variable at once", () => {
    const bad = { WORKER_CONCURRENCY: "many", LAYOVER_SCHEMA: "Bad-Name", LOG_LEVEL: "loud" };
    let message = "";
    try {
      parseWorkerEnv(bad);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of Object.keys(bad)) expect(message).toContain(name);
  });

  it("treats an empty variable as unset, and refuses values out of range", () => {
    expect(parseWorkerEnv({ METRICS_PORT: "", DATABASE_URL: "" })).toMatchObject({
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
    });
    expect(parseWorkerEnv({ METRICS_PORT: "" }).METRICS_PORT).toBeUndefined();
    expect(parseWorkerEnv({ WORKER_POSTGRES_LANES: "0" }).WORKER_POSTGRES_LANES).toBe(0); // a plain pool
    for (const bad of [
      { WORKER_CONCURRENCY: "100000" },
      { WORKER_POSTGRES_LANES: "-1" },
      { WORKER_POSTGRES_LANES: "65" },
      { LOCK_DURATION_MS: "1" },
      { SHUTDOWN_TIMEOUT_MS: "0" },
    ])
      expect(() => parseWorkerEnv(bad)).toThrow(Object.keys(bad)[0]);
  });
});

describe("createWorker's options", () => {
  it("refuses a lane count that is not one (0 to 64), with InvalidConfigError", () => {
    for (const postgresLanes of [-1, 1.5, 65, "2"])
      expect(
        () => createWorker({ graphs: {}, postgresLanes } as unknown as WorkerOptions),
        String(postgresLanes),
      ).toThrow(
        expect.objectContaining({
          code: "INVALID_CONFIG",
          message: expect.stringContaining("postgresLanes"),
        }),
      );
  });
  it("reads, besides every service's variables, exactly those the start-up warnings know as the worker's", () => {
    const shared = [...Object.keys(ServiceEnv.shape), ...Object.keys(JobLockEnv), "LAYOVER_LOG_PAYLOADS"];
    const own = Object.keys(WorkerEnv.shape).filter((name) => !shared.includes(name));
    expect(own.sort()).toEqual([...SERVICE_ONLY_ENV.worker].sort());
  });
});
