// The person at the approval inbox, as a separate process: lists the pending approvals and
// answers each one (approve, reject with a reason, or edit the date), then waits for the
// bookings to finish. Usage: node approve.ts <thread id>...
import { isLayoverError } from "@layover/graph";
import { createClient } from "@layover/runtime";
import pino from "pino";
import { demoDecision } from "./bookings.ts";

const threadIds = process.argv.slice(2);
const client = createClient({
  ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  prefix: process.env.LAYOVER_PREFIX ?? "layover-demo",
  schema: process.env.LAYOVER_SCHEMA ?? "layover_demo",
  identity: `approver-pid-${process.pid}`,
  logger: pino({ level: "warn" }),
});
try {
  const answers = await Promise.allSettled(
    threadIds.map((threadId, i) =>
      client.threads.resume(threadId, demoDecision(i), { idempotencyKey: `demo-${threadId}` }),
    ),
  );
  const runs = answers.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
  // Too late: the booking's approval window passed and the scheduler already rejected it.
  const late = answers.flatMap((a) =>
    a.status === "rejected" &&
    (isLayoverError(a.reason, "INTERRUPT_ALREADY_RESOLVED") || isLayoverError(a.reason, "NOT_INTERRUPTED"))
      ? [a.reason]
      : [],
  );
  const failures = answers.length - runs.length - late.length;
  const results = await Promise.all(runs.map((r) => client.runs.wait(r.runId, { timeoutMs: 60_000 })));
  const finished = results.filter((r) => r.status === "success").length;
  console.log(`approver: answered ${runs.length} bookings (${late.length} too late); ${finished} finished`);
  if (failures > 0 || finished < runs.length) process.exitCode = 1;
} finally {
  await client.close();
}
