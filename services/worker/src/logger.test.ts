import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { PAYLOAD_PATHS } from "./logger.ts";

function capture(redact: boolean) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = pino(redact ? { redact: { paths: PAYLOAD_PATHS, censor: "[redacted]" } } : {}, stream);
  return { logger, lines };
}

describe("worker logs", () => {
  it("redact users' state and resume payloads by default, keeping the ids", () => {
    const { logger, lines } = capture(true);
    logger
      .child({ threadId: "t-1", runId: "r-1" })
      .info({ input: { card: "4111" }, job: { resume: "yes" } }, "step");
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({
      threadId: "t-1",
      runId: "r-1",
      input: "[redacted]",
      job: { resume: "[redacted]" },
    });
    expect(lines[0]).not.toContain("4111");
  });
});
