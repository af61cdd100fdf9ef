// The README's main command (`pnpm demo`): the distributed flight-booking demo. Two worker
// processes serve the graph over Postgres and Redis (DATABASE_URL / REDIS_URL, default
// localhost); this producer starts 20 bookings, which all park at the approval gate; a separate
// approver process answers all but two; those two were requested with a short approval window
// (DEMO_TIMEOUT_MS, default 3000) and the scheduler process rejects them when it passes; the
// table shows who parked and who resumed each booking.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createClient } from "@layover/runtime";
import pino from "pino";
import { demoDecision, demoRequests } from "./bookings.ts";

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = process.env.LAYOVER_PREFIX ?? "layover-demo";
const schema = process.env.LAYOVER_SCHEMA ?? "layover_demo"; // its own tables, as its own queues
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const timeoutMs = Number(process.env.DEMO_TIMEOUT_MS || "3000");
if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
  throw new Error(
    `DEMO_TIMEOUT_MS must be milliseconds above 0; got ${JSON.stringify(process.env.DEMO_TIMEOUT_MS)}.`,
  );
const UNANSWERED = 2;
const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  LAYOVER_PREFIX: prefix,
  LAYOVER_SCHEMA: schema,
  // Everyone else's approval window: long enough for any approver.
  BOOKING_APPROVAL_TIMEOUT_MS: "600000",
};

/** Starts a service process and resolves once it logs `ready`. */
async function startService(
  args: string[],
  id: Record<string, string>,
  ready: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...env, ...id, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let seen = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(ready)) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`${args[0]} exited with ${code} before starting:\n${seen}`)),
    );
  });
  return child;
}

const workerArgs = [here("../../services/worker/src/cli.ts"), "--graphs", here("graphs.ts")];
const services = [
  await startService(workerArgs, { WORKER_ID: "worker-1" }, "worker started"),
  await startService(workerArgs, { WORKER_ID: "worker-2" }, "worker started"),
  await startService(
    [here("../../services/scheduler/src/cli.ts")],
    { SCHEDULER_ID: "scheduler", SWEEP_EVERY_MS: "500" }, // the scheduler's alone: workers warn of it
    "scheduler started",
  ),
];
const client = createClient({ databaseUrl, redisUrl, prefix, schema, logger: pino({ level: "warn" }) });
try {
  const batch = Date.now().toString(36);
  const started = await Promise.all(
    demoRequests().map((userRequest, i) =>
      client.runs.start({
        graphId: "flight-booking",
        threadId: `booking-${batch}-${i + 1}`,
        input: { userRequest, ...(i >= 20 - UNANSWERED ? { approvalWindowMs: timeoutMs } : {}) },
      }),
    ),
  );
  const parked = await Promise.all(started.map((s) => client.runs.wait(s.runId, { timeoutMs: 30_000 })));
  console.log(
    `producer: started ${started.length} bookings; ${parked.filter((p) => p.status === "interrupted").length} parked at the approval gate`,
  );
  console.log("first interrupt payload:", JSON.stringify(parked[0]?.interrupts[0]?.value));

  const answered = started.slice(0, started.length - UNANSWERED);
  const approver = spawn(process.execPath, [here("approve.ts"), ...answered.map((s) => s.threadId)], {
    env,
    stdio: "inherit",
  });
  const [code] = await once(approver, "exit");
  if (code !== 0) throw new Error(`the approver process failed (exit ${code})`);
  console.log(`nobody answers the last ${UNANSWERED}: the scheduler rejects them after ${timeoutMs} ms`);
  for (const s of started.slice(-UNANSWERED)) await waitForResume(s.threadId);

  console.log(
    `\n${"booking".padEnd(22)} ${"decision".padEnd(8)} ${"parked by".padEnd(10)} ${"resumed by".padEnd(10)} outcome`,
  );
  for (const [i, s] of started.entries()) {
    const state = await client.threads.get(s.threadId);
    const [start, resume] = await client.threads.runs(s.threadId);
    const decision = i < answered.length ? demoDecision(i).choice : "(none)";
    const cells = [s.threadId.padEnd(22), decision.padEnd(8), String(start?.parkedBy).padEnd(10)];
    console.log(
      `${cells.join(" ")} ${String(resume?.startedBy).padEnd(10)} ${String(state.values.bookingConfirmation)}`,
    );
  }
} finally {
  await client.close();
  for (const service of services) service.kill("SIGTERM");
  await Promise.all(services.map((s) => (s.exitCode === null ? once(s, "exit") : undefined)));
}

/** Waits until the scheduler has resumed the thread and its run has finished. */
async function waitForResume(threadId: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const resume = (await client.threads.runs(threadId)).find((run) => run.kind === "resume");
    if (resume) {
      await client.runs.wait(resume.runId, { timeoutMs: 30_000 });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`booking ${threadId} was never resumed by the timeout sweep`);
}
