// What createWorker and createScheduler refuse in the options a program gives them, before any
// connection opens (as their environment is checked at start): a number out of range, a key
// they do not take, an id or schema Postgres cannot hold. Each once started anyway and then
// failed every job, spun a timer every millisecond, or — a thread TTL of 0 — deleted every
// finished thread at once.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { InMemoryStore } from "@layover/graph";
import { SCHEDULER_QUEUE } from "@layover/runtime";
import { createScheduler } from "@layover/scheduler";
import { getRedis } from "@layover/testing";
import { createWorker } from "@layover/worker";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";
import { graphs } from "./fixtures/graphs.ts";
import { countRows, createHarness } from "./support/harness.ts";

const run = promisify(execFile);
let redisUrl = "";
beforeAll(async () => {
  redisUrl = await getRedis();
});

/** What `create` threw: its code and message. */
function refusal(create: () => unknown): { code?: string; message: string } {
  try {
    create();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("accepted");
}

describe("createWorker", () => {
  it("refuses a number out of range, an unstorable id, a misspelt key, a bad schema or graph id, naming each", () => {
    const linear = { linear: graphs.linear };
    for (const [options, named] of [
      [{ concurrency: 0 }, "concurrency must be a whole number from 1 to 1000"],
      [{ concurrency: "8" }, "concurrency must be"],
      [{ lockDurationMs: Number.NaN }, "lockDurationMs must be a whole number of milliseconds"],
      [{ registerEveryMs: 0 }, "registerEveryMs must be"],
      [{ postgresStartTimeoutMs: 0 }, "postgresStartTimeoutMs must be"],
      [{ workerID: "w-1" }, '"workerID" is workerId here'],
      [{ registerEveryMs: 3e9 }, "registerEveryMs must be"],
      [{ stalledIntervalMs: -1 }, "stalledIntervalMs must be"],
      [{ workerId: "w\u0000x" }, "workerId must be a non-empty string"],
      [{ budget: { steps: 0, ms: 250 } }, "steps must be"],
      [{ timeouts: { queryTimeoutMs: -1 } }, "queryTimeoutMs must be"],
      [
        { timeouts: { queryTimeoutMs: 1_000, statementTimeoutMs: 5_000 } },
        "must be shorter than queryTimeoutMs",
      ],
      [{ timeouts: { queryTimeoutMs: 0, statementTimeoutMs: 2e9 } }, "statementTimeoutMs must be"],
      [{ timeouts: null }, "createWorker's timeouts must be an object"],
      [{ budget: { steps: 4 } }, "ms: missing"],
      [{ prefix: "" }, "prefix must be 1 to 256 printable ASCII characters without spaces"],
      // Redis refuses such a name for the connections BullMQ names after it: nothing could count the workers.
      [{ prefix: "layover eu" }, "prefix must be 1 to 256 printable ASCII characters without spaces"],
      [{ prefix: "pre\nfix" }, "prefix must be"],
      [{ prefix: "layover-é" }, "prefix must be"],
      [{ graphs: { mem: graphs.linear.withStore(new InMemoryStore()) } }, "compiled with an InMemoryStore"],
      [{ concurency: 4 }, "concurency: not an option of createWorker"],
      [{ schema: "Bad-Schema" }, 'Invalid schema name "Bad-Schema"'],
      [{ schema: "a".repeat(70) }, "at most 63 characters"],
      [{ graphs: { "a\u0000b": graphs.linear } }, "graph id"],
      [{ graphs: { "x\ud800": graphs.linear } }, "half a surrogate pair"],
    ] as const) {
      const error = refusal(() => createWorker({ graphs: linear, redisUrl, ...(options as object) }));
      expect(error, JSON.stringify(options)).toMatchObject({ code: "INVALID_CONFIG" });
      expect(error.message, JSON.stringify(options)).toContain(named);
    }
  });
});

describe("createScheduler", () => {
  it("refuses a thread TTL of 0 (which pruned every finished thread at once) and other numbers out of range", () => {
    for (const [options, named] of [
      [
        { threadTtlMs: 0 },
        "threadTtlMs must be a whole number of milliseconds (leave it out to keep threads)",
      ],
      [{ threadTtlMs: -1 }, "threadTtlMs must be"],
      [{ threadTtlMs: 1e15 }, "threadTtlMs must be"],
      [{ sweepBatchSize: 0 }, "sweepBatchSize must be"],
      [{ sweepEveryMs: 0 }, "sweepEveryMs must be"],
      [{ reconcileEveryMs: 0 }, "reconcileEveryMs must be"],
      [{ schedulerId: "" }, "schedulerId must be"],
      [{ sweepEvery: 1000 }, "sweepEvery: not an option of createScheduler"],
      [{ schema: "pg_x" }, 'not "pg_"'],
      [{ prefix: "" }, "prefix must be 1 to 256 printable ASCII"],
      [{ prefix: "layover eu" }, "prefix must be 1 to 256 printable ASCII"],
    ] as const) {
      const error = refusal(() => createScheduler({ redisUrl, ...(options as object) }));
      expect(error, JSON.stringify(options)).toMatchObject({ code: "INVALID_CONFIG" });
      expect(error.message, JSON.stringify(options)).toContain(named);
    }
  });
});

it("a refused service leaves no connection open: the process exits by itself", async () => {
  const script = new URL("./fixtures/refused-services.ts", import.meta.url);
  const started = Date.now();
  const { stdout } = await run(process.execPath, [script.pathname, redisUrl], { timeout: 20_000 });
  expect(stdout.trim().split("\n")).toEqual(Array.from({ length: 6 }, () => "INVALID_CONFIG"));
  expect(Date.now() - started).toBeLessThan(10_000);
});

describe("layover-worker's command line", () => {
  const CLI = fileURLToPath(new URL("../services/worker/src/cli.ts", import.meta.url));
  /** What the CLI, run with `args`, exits with and says on stderr (it fails before it connects). */
  const exited = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [CLI, ...args], {
      timeout: 20_000,
      env: { ...process.env, REDIS_URL: redisUrl, ...env },
    }).then(
      () => ({ code: 0, stderr: "", stdout: "" }),
      (error: { code: number; stderr: string; stdout: string }) => ({
        code: error.code,
        stderr: error.stderr,
        stdout: error.stdout,
      }),
    );

  it("warns at start of a variable meant for it that it does not read: a typo, the scheduler's", async () => {
    const { stdout } = await exited(["--graphs", "absent.mjs"], {
      WORKER_CONCURENCY: "2",
      THREAD_TTL_MS: "86400000",
    });
    const warned = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((line) => line.level === 40)
      .map((line) => line.msg);
    // (The environment the tests run in may hold more of its own.)
    expect(warned).toEqual(
      expect.arrayContaining([
        "WORKER_CONCURENCY is not a variable the worker reads (did you mean WORKER_CONCURRENCY?): ignored.",
        "THREAD_TTL_MS is read by the scheduler, not the worker: this worker ignores it.",
      ]),
    );
  });

  it("names the import a module that is there could not find, not the module as missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "layover-cli-"));
    try {
      const module = join(dir, "graphs.mjs");
      await writeFile(module, 'import "./helper-not-there.mjs";\nexport const graphs = {};\n');
      const { code, stderr } = await exited(["--graphs", module]);
      expect(code).toBe(1);
      expect(stderr).toContain("helper-not-there.mjs");
      expect(stderr).not.toContain("no such module");
      expect(await exited(["--graphs", join(dir, "absent.mjs")])).toMatchObject({
        code: 1,
        stderr: expect.stringContaining("no such module"),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a LAYOVER_PREFIX with a space before it connects: its workers would run jobs nothing could count", async () => {
    const { code, stderr } = await exited(["--graphs", "absent.mjs"], { LAYOVER_PREFIX: "layover eu" });
    expect(code).toBe(1);
    expect(stderr).toContain("LAYOVER_PREFIX");
    expect(stderr).toContain("printable ASCII characters without spaces");
  });

  it("refuses --graphs given twice or empty: one module would have been served silently", async () => {
    expect(await exited(["--graphs", "a.mjs", "--graphs", "b.mjs"])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("--graphs given 2 times"),
    });
    expect(await exited(["--graphs="])).toMatchObject({ code: 1, stderr: expect.stringContaining("Usage") });
  });
});

describe("a metrics port already in use", () => {
  it("fails the start with InvalidConfigError before the worker registers its graphs or the scheduler sets schedules", async () => {
    const h = await createHarness("metrics_port_taken");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "0.0.0.0", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const common = { databaseUrl: h.databaseUrl, redisUrl: h.redisUrl, schema: h.schema, prefix: h.prefix };
      const worker = createWorker({ ...common, graphs: { linear: graphs.linear }, metricsPort: port });
      await expect(worker.start()).rejects.toMatchObject({
        code: "INVALID_CONFIG",
        message: expect.stringContaining(`Cannot serve metrics on port ${port}`),
      });
      await worker.close();
      expect(await countRows(h, "graph_registrations")).toBe(0);
      const scheduler = createScheduler({ ...common, metricsPort: port });
      await expect(scheduler.start()).rejects.toMatchObject({ code: "INVALID_CONFIG" });
      await scheduler.close();
      // A start that fails after the port was bound lets it go: tried again, it starts.
      const free = createServer();
      await new Promise<void>((resolve) => free.listen(0, "0.0.0.0", resolve));
      const freePort = (free.address() as AddressInfo).port;
      await new Promise((resolve) => free.close(resolve));
      const retried = createWorker({ ...common, graphs: { linear: graphs.linear }, metricsPort: freePort });
      await h.pool.query(`ALTER TABLE "${h.schema}".graph_registrations RENAME TO graph_registrations_away`);
      await expect(retried.start()).rejects.toMatchObject({ code: "42P01" });
      await h.pool.query(`ALTER TABLE "${h.schema}".graph_registrations_away RENAME TO graph_registrations`);
      await retried.start();
      await retried.close();
      const redis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
      const schedules = new Queue(SCHEDULER_QUEUE, { connection: redis, prefix: h.prefix });
      expect(await schedules.getJobSchedulersCount()).toBe(0);
      await schedules.close();
      redis.disconnect();
    } finally {
      taken.close();
      await h.close();
    }
  });
});
