// The README's main command, run as a user runs it: worker, scheduler and approver processes.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  createTestSchema,
  deleteRedisPrefix,
  getRedis,
  serviceEnv,
  uniqueRedisPrefix,
} from "@layover/testing";
import { expect, it } from "vitest";

it("books, rejects, edits and times out 20 bookings across two worker processes", async () => {
  const schema = await createTestSchema("demo");
  const redisUrl = await getRedis();
  const prefix = uniqueRedisPrefix("demo");
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [fileURLToPath(new URL("demo.ts", import.meta.url))],
      {
        env: serviceEnv(
          { databaseUrl: schema.url, redisUrl, schema: schema.name, prefix },
          { DEMO_TIMEOUT_MS: "1000" },
        ),
      },
    );
    expect(stdout).toContain("20 parked at the approval gate");
    const rows = stdout.split("\n").filter((line) => line.startsWith("booking-"));
    expect(rows).toHaveLength(20);
    expect(rows.filter((r) => r.includes("BOOKED"))).toHaveLength(12);
    expect(rows.filter((r) => r.includes("Rejected by user: Found cheaper on Kayak"))).toHaveLength(6);
    expect(rows.filter((r) => r.includes("Rejected by timeout"))).toHaveLength(2);
    expect(rows.every((r) => /worker-[12]\s+worker-[12]/.test(r))).toBe(true);
  } finally {
    await deleteRedisPrefix(redisUrl, prefix);
    await schema.drop();
  }
}, 120_000);
