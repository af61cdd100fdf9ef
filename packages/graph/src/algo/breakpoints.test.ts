import type { CheckpointMetadata } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { breakpointAhead } from "./breakpoints.ts";
import type { PlannedTask } from "./plan.ts";

const tasks = (...names: string[]): PlannedTask[] =>
  names.map((name) => ({ id: name, name, kind: "pull", triggers: [] }));
const loop = (...ran: string[]): CheckpointMetadata => ({
  source: "loop",
  step: 1,
  writes: Object.fromEntries(ran.map((name) => [name, null])),
});
const none = new Set<string>();

describe("breakpointAhead", () => {
  it("stops before a task interruptBefore names", () => {
    const options = { interruptBefore: new Set(["act"]), interruptAfter: none };
    expect(breakpointAhead(options, loop("plan"), tasks("act"))).toBe(true);
    expect(breakpointAhead(options, loop("plan"), tasks("other"))).toBe(false);
  });

  it("stops after a node interruptAfter names, read from the checkpoint's metadata", () => {
    const options = { interruptBefore: none, interruptAfter: new Set(["plan"]) };
    expect(breakpointAhead(options, loop("plan", "side"), tasks("act"))).toBe(true);
    expect(breakpointAhead(options, loop("side"), tasks("act"))).toBe(false);
    expect(breakpointAhead(options, { ...loop("plan"), source: "update" }, tasks("act"))).toBe(false);
  });

  it('"*" stops before every superstep, but never when nothing is left to run', () => {
    const options = { interruptBefore: "*" as const, interruptAfter: "*" as const };
    expect(breakpointAhead(options, { source: "input", step: -1, writes: null }, tasks("a"))).toBe(true);
    expect(breakpointAhead(options, loop("a"), [])).toBe(false);
  });
});
