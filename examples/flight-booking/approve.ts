// The person at the approval inbox, as a separate process: lists the pending approvals and
// answers each one (approve, reject with a reason, or edit the date), then waits for the
// bookings to finish. Usage: node approve.ts <thread id>...
import { createClient } from "@layover/runtime";
import pino from "pino";
import { demoDecision } from "./bookings.ts";

const threadIds = process.argv.slice(2);
const client = createClient({
  ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  prefix: process.env.LAYOVER_PREFIX ?? "layover-demo",
  identity: `approver-pid-${process.pid}`,
  logger: pino({ level: "warn" }),
});
try {
  const runs = await Promise.all(
    threadIds.map((threadId, i) => client.threads.resume(threadId, demoDecision(i), { idempotencyKey: `demo-${threadId}` })),
  );
  const results = await Promise.all(runs.map((r) => client.runs.wait(r.runId, { timeoutMs: 60_000 })));
  const failed = results.filter((r) => r.status !== "success");
  console.log(`approver: answered ${runs.length} bookings; ${results.length - failed.length} finished`);
  if (failed.length > 0) process.exitCode = 1;
} finally {
  await client.close();
}
