import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

function capture(logPayloads = false) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: "info", logPayloads, name: "test" }, stream);
  return { logger, lines };
}

describe("service logs", () => {
  it("redact users' state and resume payloads by default, keeping the ids", () => {
    const { logger, lines } = capture();
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

  it("log only the kind of a thrown value that is not an Error (it may be the user's data itself)", () => {
    const { logger, lines } = capture();
    logger.warn({ err: { status: 402, body: { card: "4111-SECRET" } } }, "run failed");
    logger.fatal({ err: new Map([["card", "4111-SECRET"]]) }, "uncaught error");
    logger.error({ err: "card declined" }, "run failed");
    expect(lines.join("")).not.toContain("4111-SECRET");
    expect(JSON.parse(lines[0] as string).err).toMatchObject({ type: "Object" });
    expect(JSON.parse(lines[1] as string).err).toMatchObject({ type: "Map" });
    expect(JSON.parse(lines[2] as string).err).toEqual({ type: "string", message: "card declined" });
    const { logger: verbose, lines: full } = capture(true);
    verbose.warn({ err: { card: "4111-SECRET" } }, "run failed");
    expect(full[0]).toContain("4111-SECRET");
  });

  it("log an error's type, message, code and stack, not the data a driver quotes in it", () => {
    const { logger, lines } = capture();
    const refused = Object.assign(new Error("unsupported Unicode escape sequence"), {
      code: "22P05",
      where: 'JSON data, line 1: {"card":"4111-1111-1111-1111"',
      detail: "\\u0000 cannot be converted to text.",
    });
    logger.error({ err: new Error("job failed", { cause: refused }) }, "job failed");
    const line = JSON.parse(lines[0] as string);
    expect(line.err).toMatchObject({
      type: "Error",
      message: "job failed",
      cause: { message: "unsupported Unicode escape sequence", code: "22P05" },
    });
    expect(lines[0]).not.toContain("4111");
  });

  it("log everything with LAYOVER_LOG_PAYLOADS=true", () => {
    const { logger, lines } = capture(true);
    logger.info({ input: { card: "4111" }, err: Object.assign(new Error("x"), { where: "w" }) }, "step");
    expect(JSON.parse(lines[0] as string)).toMatchObject({ input: { card: "4111" }, err: { where: "w" } });
  });
});
