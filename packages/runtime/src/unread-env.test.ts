// A variable meant for a service that it does not read is said at start (each was dropped
// without a word, and the default ran): another service's, a misspelt Layover one, a near miss.
import { describe, expect, it } from "vitest";
import { unreadEnvWarnings } from "./unread-env.ts";

const reads = ["DATABASE_URL", "REDIS_URL", "LAYOVER_PREFIX", "LAYOVER_LOG_PAYLOADS", "SWEEP_EVERY_MS"];

describe("unreadEnvWarnings", () => {
  it("names another service's variable, a misspelt Layover one and a near miss, never a value", () => {
    const warnings = unreadEnvWarnings("scheduler", reads, {
      INTERRUPT_TIMEOUT_MS: "3600000",
      LAYOVER_LOG_PAYLOAD: "true",
      WORKER_CONCURENCY: "2",
      DATABSE_URL: "postgres://secret@db/x",
      SWEEP_EVERY_MS: "500",
      PATH: "/usr/bin",
      HOSTNAME: "web-1",
      NODE_ENV: "production",
      SCHEDULER_NAME: "   ",
    });
    expect(warnings).toEqual([
      "INTERRUPT_TIMEOUT_MS is read by the worker, not the scheduler: this scheduler ignores it.",
      "LAYOVER_LOG_PAYLOAD is not a variable the scheduler reads (did you mean LAYOVER_LOG_PAYLOADS?): ignored.",
      "WORKER_CONCURENCY is not a variable the scheduler reads: ignored.",
      "DATABSE_URL is not a variable the scheduler reads (did you mean DATABASE_URL?): ignored.",
    ]);
    expect(warnings.join(" ")).not.toContain("secret");
  });
});
