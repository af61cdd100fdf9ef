// The scheduler against real Postgres, Redis and BullMQ: timeouts that auto-reject, the sweep
// racing people, cron ticks with two replicas, and work Redis lost.
import { isLayoverError, isTimeoutRejection } from "@layover/graph";
import { createDb, createDispatcher, sweepExpiredInterrupts } from "@layover/runtime";
import { createScheduler } from "@layover/scheduler";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkpointCounts,
  checkpointForks,
  createHarness,
  type Harness,
  runAdmin,
} from "./support/harness.ts";

let h: Harness;
let stopScheduler: () => Promise<void>;

beforeAll(async () => {
  h = await createHarness("scheduler");
  await h.startWorker({ id: "worker-a" });
  stopScheduler = await h.startScheduler({ id: "scheduler-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function parkedTimed(input: Record<string, unknown>, graphId = "timed") {
  const { runId, threadId } = await h.client.runs.start({ graphId, input });
  const parked = await h.client.runs.wait(runId);
  expect(parked.status).toBe("interrupted");
  return { threadId, interruptId: parked.interrupts[0]?.id as string, interrupts: parked.interrupts };
}

/** The run that finishes the thread once its interrupt is answered (by a person or the sweep). */
async function finalState(threadId: string) {
  for (let i = 0; i < 200; i++) {
    const runs = await h.client.threads.runs(threadId);
    const last = runs.at(-1);
    if (runs.length > 1 && last) return h.client.runs.wait(last.runId, { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`thread ${threadId} was never resumed`);
}

describe("interrupt timeouts", () => {
  it("auto-rejects an interrupt past its own timeout: the node gets the documented rejection", async () => {
    const { threadId, interruptId, interrupts: waited } = await parkedTimed({ timeoutMs: 300 });
    const pending = await h.client.threads.get(threadId);
    expect(pending.tasks[0]?.interrupts[0]).toMatchObject({ timeoutMs: 300, deadline: expect.any(Date) });
    // The wait read it in another statement: the same interrupt, the same deadline.
    expect(waited).toEqual(pending.tasks[0]?.interrupts);
    const result = await finalState(threadId);
    expect(result.status).toBe("success");
    expect(result.values.timedOut).toBe(true);
    expect(isTimeoutRejection(result.values.decision)).toBe(true);
    expect(result.values.decision).toMatchObject({ action: "reject", reason: "timeout" });
    const { interrupts } = await h.client.interrupts.list({ status: "expired", threadId });
    expect(interrupts.find((i) => i.id === interruptId)).toMatchObject({ threadId, resolvedBy: "timeout" });
    // A person answering after the timed-out run finished is told so, not "not interrupted".
    await expect(h.client.threads.resume(threadId, "late")).rejects.toMatchObject({
      code: "INTERRUPT_ALREADY_RESOLVED",
      message: expect.stringContaining("expired by timeout at"),
    });
  });

  it("resumes with the interrupt's onTimeout value, or the graph's default", async () => {
    const own = await parkedTimed({ timeoutMs: 200, onTimeout: "auto-approved" });
    expect((await finalState(own.threadId)).values).toMatchObject({
      decision: "auto-approved",
      timedOut: false,
    });
    const byGraph = await parkedTimed({}, "timed-default");
    expect((await finalState(byGraph.threadId)).values).toMatchObject({ decision: "escalated" });
  });

  it("waits forever without any timeout", async () => {
    const { threadId } = await parkedTimed({});
    expect((await h.client.threads.get(threadId)).tasks[0]?.interrupts[0]?.deadline).toBeNull();
  });
});

describe("a person's resume racing the sweep", () => {
  it("exactly one wins each of 1,000 races against two sweepers; the loser is told it expired by timeout", async () => {
    await stopScheduler(); // this test drives the sweep itself
    const parked = [];
    for (let i = 0; i < 1_000; i += 100) {
      parked.push(...(await Promise.all(Array.from({ length: 100 }, () => parkedTimed({ timeoutMs: 1 })))));
    }
    const redis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
    const dispatcher = createDispatcher(redis, h.prefix);
    const db = createDb(h.pool, h.schema);
    // Two scheduler replicas sweeping at once, racing 1,000 people.
    const sweeper = async () => {
      let total = 0;
      for (let i = 0; i < 50; i++) total += await sweepExpiredInterrupts(db, dispatcher, { batchSize: 50 });
      return total;
    };
    const sweeping = Promise.all([sweeper(), sweeper()]).then(([a, b]) => a + b);
    const people = await Promise.allSettled(parked.map((p) => h.client.threads.resume(p.threadId, "yes")));
    const expiredBySweep = await sweeping;
    const won = people.filter((p) => p.status === "fulfilled").length;
    expect(won + expiredBySweep).toBe(1_000);
    for (const p of people) {
      if (p.status === "fulfilled") continue;
      expect(
        isLayoverError(p.reason, "INTERRUPT_ALREADY_RESOLVED"),
        String(p.reason?.stack ?? p.reason),
      ).toBe(true);
      expect(p.reason.message).toContain("expired by timeout at");
    }
    const { rows } = await h.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT thread_id)::int AS threads FROM "${h.schema}".runs
        WHERE kind = 'resume' AND thread_id = ANY($1)`,
      [parked.map((p) => p.threadId)],
    );
    expect(rows[0]).toEqual({ n: 1_000, threads: 1_000 });
    await dispatcher.close();
    redis.disconnect();
    stopScheduler = await h.startScheduler({ id: "scheduler-a" });
  }, 120_000);
});

describe("cron runs", () => {
  it("starts one run per tick of a per-second schedule, even with two scheduler replicas", async () => {
    const stopSecond = await h.startScheduler({ id: "scheduler-b" });
    const began = Date.now();
    const cron = await h.client.crons.create({ graphId: "linear", schedule: "* * * * * *", input: {} });
    expect((await h.client.crons.list()).map((c) => c.id)).toContain(cron.id);
    const cronRuns = async () =>
      (
        await h.pool.query(`SELECT thread_id FROM "${h.schema}".runs WHERE thread_id LIKE $1`, [
          `cron-${cron.id}-%`,
        ])
      ).rows.map((r) => r.thread_id as string);
    while ((await cronRuns()).length < 3) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await h.client.crons.delete(cron.id)).toBe(true);
    await stopSecond();
    const seconds = (Date.now() - began) / 1000;
    const rows = await cronRuns();
    const ticks = new Set(rows);
    expect(rows.length).toBe(ticks.size); // no tick started twice
    expect(ticks.size).toBeLessThanOrEqual(Math.ceil(seconds) + 1); // at most one run per second
  });
});

describe("reconciliation", () => {
  it("finishes every run, none twice, after Redis loses all of the deployment's keys mid-load", async () => {
    const stopSlow = await h.startWorker({ id: "worker-slow", budget: { steps: 1, ms: 1_000 } });
    const started = await Promise.all(
      Array.from({ length: 200 }, () => h.client.runs.start({ graphId: "linear", input: {} })),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const redis = new Redis(h.redisUrl);
    const keys = await redis.keys(`${h.prefix}:steps:*`);
    if (keys.length > 0) await redis.del(...keys); // what FLUSHALL does to this deployment
    redis.disconnect();
    const results = await Promise.all(started.map((s) => h.client.runs.wait(s.runId, { timeoutMs: 60_000 })));
    expect(results.every((r) => r.status === "success" && r.values.count === 10)).toBe(true);
    const threadIds = started.map((s) => s.threadId);
    expect(await checkpointForks(h, threadIds)).toEqual([]);
    const counts = await checkpointCounts(h, threadIds);
    expect(threadIds.every((t) => counts.get(t) === 11)).toBe(true); // the input and ten supersteps, each once
    await stopSlow();
  }, 120_000);

  it("logs what its start-up reconciliation enqueued again, as the scheduled one does", async () => {
    await stopScheduler(); // alone, the new scheduler's start-up pass is the one that finds the run
    await h.queue.pause();
    const { runId } = await h.client.runs.start({ graphId: "linear", input: {} });
    await h.queue.obliterate({ force: true }); // its job lost
    await h.queue.resume();
    await h.pool.query(`UPDATE "${h.schema}".runs SET updated_at = now() - interval '1 hour' WHERE id = $1`, [
      runId,
    ]);
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const scheduler = createScheduler({
      databaseUrl: h.databaseUrl,
      redisUrl: h.redisUrl,
      schema: h.schema,
      prefix: h.prefix,
      logger,
      reconcileEveryMs: 3_600_000,
    });
    await scheduler.start();
    try {
      expect(lines.some((line) => line.includes("runs whose job was lost re-enqueued"))).toBe(true);
      expect((await h.client.runs.wait(runId)).status).toBe("success");
    } finally {
      await scheduler.close();
    }
  });
});

describe("the operator CLI", () => {
  const admin = (...args: string[]) => runAdmin(h, args);

  it("lists pending interrupts with their age and graph, and resumes one", async () => {
    const { threadId } = await parkedTimed({});
    const run = admin;
    const listed = await run("interrupts", "--graph", "timed", "--show-values");
    const line = listed.stdout.split("\n").find((l) => l.includes(threadId));
    expect(line).toMatch(/^\d+[smhd]\s+timed\s+/);
    expect(line).toContain('{"question":"ok?"}');
    const interruptId = (await h.client.threads.get(threadId)).tasks[0]?.interrupts[0]?.id as string;
    expect(line).toContain(interruptId);
    // A mistyped interrupt id is refused; it is not taken as the answer.
    await expect(
      run("resume", threadId, '"typo"', "--interrupt", interruptId.slice(0, 8)),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining("--interrupt takes an interrupt id"),
    });
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
    const resumed = await run("resume", threadId, '"from the ops desk"', "--interrupt", interruptId);
    expect(resumed.stdout).toContain(`resumed thread ${threadId}`);
    const result = await finalState(threadId);
    expect(result.values.decision).toBe("from the ops desk");
    const { interrupts } = await h.client.interrupts.list({ status: "resolved", threadId });
    expect(interrupts.find((i) => i.threadId === threadId)?.resolvedBy).toMatch(/^operator:/);
  });

  it("keeps its own answer on stdout and the client's warnings on stderr (a resume while Redis is away)", async () => {
    const { threadId } = await parkedTimed({});
    const resumed = await runAdmin(h, ["approve", threadId], { REDIS_URL: "redis://127.0.0.1:1" });
    expect(resumed.stdout.trim().split("\n")).toEqual([
      expect.stringContaining(`resumed thread ${threadId}`),
    ]);
    expect(resumed.stderr).toContain("reconcile() will enqueue it");
    expect((await h.client.interrupts.list({ threadId, status: "pending" })).interrupts).toEqual([]);
  });

  it("warns when no worker listens under its LAYOVER_PREFIX: the answer is recorded, its run waits unseen", async () => {
    const right = await parkedTimed({});
    const answered = await runAdmin(h, ["approve", right.threadId]);
    expect(answered.stderr).not.toContain("no worker is connected");
    const wrong = await parkedTimed({});
    const misplaced = await runAdmin(h, ["approve", wrong.threadId], { LAYOVER_PREFIX: `${h.prefix}-typo` });
    expect(misplaced.stdout).toContain(`resumed thread ${wrong.threadId}`);
    expect(misplaced.stderr).toContain(
      `no worker is connected to this Redis under LAYOVER_PREFIX "${h.prefix}-typo"`,
    );
  });

  it("refuses arguments it would not use, saying so, and answers nothing", async () => {
    const { threadId } = await parkedTimed({});
    const refusals = [
      // An answer given where approve takes none, and a reason the shell split in two.
      [["approve", threadId, '{"choice":"edit"}'], "an answer of your own goes in --value"],
      [["reject", threadId, "--reason", "too", "expensive"], 'unexpected "expensive"'],
      [["approve", threadId, "--reason", "cheap"], "--reason does not apply to approve"],
      [["resume", threadId, "yes"], "is not JSON"],
      [["interrupts", "--older-than", "90"], "--older-than takes a duration"],
      [["interrupts", "--limit", "5000"], "--limit takes a whole number from 1 to 1000"],
      [["prune-threads"], "prune-threads needs --older-than"],
      [["prune-threads", "--older-than", "90d", "--limit", "0"], "--limit takes a whole number above 0"],
      [["prune-threads", "--older-than", "90d", "--limit", "0x10"], "--limit takes a whole number above 0"],
      // A flag given twice took its last value: a cron line's "--older-than 90d $EXTRA" pruned by 1s.
      [["prune-threads", "--older-than", "90d", "--older-than", "1s"], "--older-than is given twice"],
      [["reject", threadId, "--reason", "fraud", "--reason", "typo"], "--reason is given twice"],
      // A graph no worker registered: "(no pending interrupts)", "cleared", and exit 0.
      [["interrupts", "--graph", "timd"], 'No graph "timd" is registered'],
      [["clear-cache", "cached-lookp"], 'No graph "cached-lookp" is registered'],
    ] as const;
    for (const [args, message] of refusals) {
      const failed = await admin(...args).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed, args.join(" ")).toMatchObject({ code: 1, stderr: expect.stringContaining(message) });
      expect(failed?.stderr).toContain("Nothing was changed.");
    }
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
  });

  it("lists crons and deletes one, which frees its thread for delete-thread", async () => {
    const { threadId } = await parkedTimed({});
    const cron = await h.client.crons.create({
      graphId: "timed",
      schedule: "0 3 * * *",
      timezone: "Europe/Paris",
      input: {},
      threadId,
    });
    const line = (await admin("crons")).stdout.split("\n").find((l) => l.startsWith(cron.id));
    expect(line).toMatch(new RegExp(`timed +0 3 \\* \\* \\* +Europe/Paris +${threadId} +never`));
    // A cron's thread is not deleted: the refusal names the command that deletes the cron.
    await expect(admin("delete-thread", threadId)).rejects.toMatchObject({
      stderr: expect.stringContaining("layover-admin delete-cron"),
    });
    expect((await admin("delete-cron", cron.id)).stdout).toContain(`deleted cron ${cron.id}`);
    expect((await h.client.crons.list()).map((c) => c.id)).not.toContain(cron.id);
    await expect(admin("delete-cron", cron.id)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`No cron "${cron.id}"`),
    });
    expect((await admin("delete-thread", threadId)).stdout).toContain(`deleted thread ${threadId}`);
  });

  it("prints its usage for --help, and says when the schema holds no Layover tables", async () => {
    const help = await admin("approve", "--help");
    expect(help.stdout).toContain("layover-admin interrupts [--graph <id>]");
    const elsewhere = await runAdmin(h, ["interrupts"], { LAYOVER_SCHEMA: "no_layover_here" }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(elsewhere).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No Layover tables in schema "no_layover_here": check LAYOVER_SCHEMA'),
    });
  });

  it("deletes a thread with its runs and checkpoints, and refuses one whose run is in progress", async () => {
    const { threadId } = await parkedTimed({});
    const deleted = await admin("delete-thread", threadId);
    expect(deleted.stdout).toMatch(
      new RegExp(`deleted thread ${threadId}: 1 runs, 1 interrupts, \\d+ checkpoints`),
    );
    await expect(h.client.threads.get(threadId)).rejects.toMatchObject({ code: "THREAD_NOT_FOUND" });
    await expect(admin("delete-thread", threadId)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`No thread "${threadId}"`),
    });
  });

  it("prunes threads nothing touched for a while, waiting ones only when asked", async () => {
    const { threadId: parked } = await parkedTimed({});
    const { runId, threadId: done } = await h.client.runs.start({ graphId: "linear", input: {} });
    await h.client.runs.wait(runId);
    await h.pool.query(
      `UPDATE "${h.schema}".threads SET updated_at = now() - interval '100 days' WHERE id = ANY($1)`,
      [[parked, done]],
    );
    // --dry-run counts them and changes nothing.
    const counted = await admin("prune-threads", "--older-than", "90d", "--include-interrupted", "--dry-run");
    expect(counted.stdout).toMatch(/^would prune [2-9]\d* threads untouched since .*nothing was changed/);
    expect((await h.client.threads.get(done)).status).toBe("idle");
    const pruned = await admin("prune-threads", "--older-than", "90d");
    expect(pruned.stdout).toMatch(/^pruned [1-9]\d* threads untouched since /);
    await expect(h.client.threads.get(done)).rejects.toMatchObject({ code: "THREAD_NOT_FOUND" });
    expect((await h.client.threads.get(parked)).status).toBe("interrupted");
    await admin("prune-threads", "--older-than", "90d", "--include-interrupted");
    await expect(h.client.threads.get(parked)).rejects.toMatchObject({ code: "THREAD_NOT_FOUND" });
  });

  it("prints a thread id that holds control characters escaped, one line per interrupt", async () => {
    // Producers choose thread ids: one holding a newline and a terminal escape forged a row.
    const threadId = `order-1\n9s     timed   forged-thread-id   ask   none\u001b[2K`;
    const { runId } = await h.client.runs.start({ graphId: "timed", input: {}, threadId });
    expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
    const listed = await admin("interrupts", "--graph", "timed", "--limit", "1000");
    const lines = listed.stdout.split("\n");
    expect(lines.filter((line) => line.includes("forged-thread-id"))).toEqual([
      expect.stringContaining(JSON.stringify(threadId)),
    ]);
    expect(listed.stdout).not.toContain("\u001b");
  });

  it("escapes DEL and the C1 controls too (U+009B starts a terminal's escape sequence), in thread ids and questions", async () => {
    const threadId = `order-2\u009b2J\u007fc1`;
    const { runId } = await h.client.runs.start({
      graphId: "approval",
      input: { item: "\u009b31mpaid" },
      threadId,
    });
    expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
    const listed = await admin("interrupts", "--graph", "approval", "--show-values", "--limit", "1000");
    const line = listed.stdout.split("\n").find((l) => l.includes("order-2"));
    expect(line).toContain("order-2\\u009b2J\\u007fc1");
    expect(line).toContain("approve \\u009b31mpaid?");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
    expect(listed.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it("writes control characters in its errors as escapes, and a resume's resolvedBy holds none", async () => {
    // An id the operator pasted with an escape in it comes back in the error: shown, not obeyed.
    const failed = await admin("delete-thread", "x\u001b[2Ky").catch((error: { stderr: string }) => error);
    expect((failed as { stderr: string }).stderr).toContain("\\u001b[2Ky");
    expect((failed as { stderr: string }).stderr).not.toContain("\u001b");
    // Who answered is shown to operators ("already resolved by …"): a newline forged a line.
    const { threadId } = await parkedTimed({});
    await expect(
      h.client.threads.resume(threadId, "yes", { resolvedBy: "bot\nresumed thread other\u001b[2K" }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("control characters"),
    });
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
  });

  it("says when more interrupts are pending than it lists", async () => {
    await parkedTimed({});
    await parkedTimed({});
    const listed = await admin("interrupts", "--graph", "timed", "--limit", "1");
    expect(listed.stdout.trim().split("\n")).toHaveLength(3); // header, one interrupt, the note
    expect(listed.stdout).toContain("more are pending: these are the oldest 1");
  });
});
