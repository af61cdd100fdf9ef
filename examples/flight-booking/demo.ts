// The README's main command (`pnpm demo`): the distributed flight-booking demo. Two worker
// processes serve the graph over Postgres and Redis (DATABASE_URL / REDIS_URL, default
// localhost); this producer starts 20 bookings, which all park at the approval gate; a separate
// approver process answers them; the table shows who parked and who resumed each booking.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createClient } from "@layover/runtime";
import pino from "pino";
import { demoDecision, demoRequests } from "./bookings.ts";

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = process.env.LAYOVER_PREFIX ?? "layover-demo";
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const env = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, LAYOVER_PREFIX: prefix, LOG_LEVEL: "warn" };

async function startWorker(id: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [here("../../services/worker/src/cli.ts"), "--graphs", here("graphs.ts")],
    { env: { ...env, WORKER_ID: id, LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "inherit"] },
  );
  let seen = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes("worker started")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker ${id} exited with ${code} before starting:\n${seen}`)));
  });
  return child;
}

const workers = [await startWorker("worker-1"), await startWorker("worker-2")];
const client = createClient({ databaseUrl, redisUrl, prefix, logger: pino({ level: "warn" }) });
try {
  const batch = Date.now().toString(36);
  const started = await Promise.all(
    demoRequests().map((userRequest, i) =>
      client.runs.start({ graphId: "flight-booking", threadId: `booking-${batch}-${i + 1}`, input: { userRequest } }),
    ),
  );
  const parked = await Promise.all(started.map((s) => client.runs.wait(s.runId, { timeoutMs: 30_000 })));
  console.log(`producer: started ${started.length} bookings; ${parked.filter((p) => p.status === "interrupted").length} parked at the approval gate`);
  console.log("first interrupt payload:", JSON.stringify(parked[0]?.interrupts[0]?.value));

  const approver = spawn(process.execPath, [here("approve.ts"), ...started.map((s) => s.threadId)], {
    env,
    stdio: "inherit",
  });
  const [code] = await once(approver, "exit");
  if (code !== 0) throw new Error(`the approver process failed (exit ${code})`);

  console.log(`\n${"booking".padEnd(22)} ${"decision".padEnd(8)} ${"parked by".padEnd(10)} ${"resumed by".padEnd(10)} outcome`);
  for (const [i, s] of started.entries()) {
    const state = await client.threads.get(s.threadId);
    const [start, resume] = await client.threads.runs(s.threadId);
    const cells = [s.threadId.padEnd(22), demoDecision(i).choice.padEnd(8), String(start?.parkedBy).padEnd(10)];
    console.log(`${cells.join(" ")} ${String(resume?.startedBy).padEnd(10)} ${String(state.values.bookingConfirmation)}`);
  }
} finally {
  await client.close();
  for (const worker of workers) worker.kill("SIGTERM");
  await Promise.all(workers.map((w) => (w.exitCode === null ? once(w, "exit") : undefined)));
}
