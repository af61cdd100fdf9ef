// Scheduler replicas share their schedules (BullMQ job schedulers): the last one started sets
// them for all. A replica started with other settings says what it replaced: a canary without
// THREAD_TTL_MS stopped the deployment's pruning, and a changed sweep interval applied to every
// replica, without a line in any log.
import { createScheduler } from "@layover/scheduler";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("scheduler_settings");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

function scheduler(id: string, settings: { sweepEveryMs?: number; threadTtlMs?: number }) {
  const lines: Array<{ level: number; msg: string; schedule?: string }> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const { databaseUrl, redisUrl, schema, prefix } = h.deployment;
  const service = createScheduler({
    databaseUrl,
    redisUrl,
    schema,
    prefix,
    logger,
    schedulerId: id,
    ...settings,
  });
  return { service, warned: () => lines.filter((line) => line.level === 40).map((line) => line.msg) };
}

it("says which settings of another replica it replaced, and nothing when they agree", async () => {
  const first = scheduler("s1", { sweepEveryMs: 500, threadTtlMs: 86_400_000 });
  await first.service.start();
  const same = scheduler("s2", { sweepEveryMs: 500, threadTtlMs: 86_400_000 });
  await same.service.start();
  const other = scheduler("s3", {});
  await other.service.start();
  try {
    expect(first.warned()).toEqual([]);
    expect(same.warned()).toEqual([]);
    expect(other.warned()).toEqual([
      expect.stringContaining("SWEEP_EVERY_MS here (2000 ms) replaces the 500 ms another replica set"),
      expect.stringContaining(
        "THREAD_TTL_MS is unset here: this replica stops the pruning of finished threads",
      ),
    ]);
  } finally {
    await Promise.all([first.service.close(), same.service.close(), other.service.close()]);
  }
});
