// Users' data that reaches Layover's own error messages as a key, a label or a path (an email
// keying a record, a store namespace of a user's id) stays out of a worker's logs at its default
// settings, as state and answers do (log-redaction.int.test.ts): each error carries its message
// without them for the log. What the run's caller reads back (runs.get) keeps the whole message.
import { Annotation, END, interrupt, START, StateGraph, StateSchema } from "@layover/graph";
import { type LayoverClient, STEP_QUEUE } from "@layover/runtime";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loggedWorker } from "./support/logged-worker.ts";

const State = new StateSchema({ secret: z.string() });
type S = typeof State.State;
type Node = (state: S, config: { store: any; writer: (chunk: unknown) => void }) => unknown;
const one = (node: Node) =>
  new StateGraph(State)
    .addNode("n", node as never)
    .addEdge(START, "n")
    .addEdge("n", END)
    .compile();

const Loose = Annotation.Root({ secret: Annotation<string>(), data: Annotation<unknown>() });
const loose = (node: (state: { secret: string }) => unknown) =>
  new StateGraph(Loose).addNode("n", node).addEdge(START, "n").addEdge("n", END).compile();

/** An object that holds itself under `key`: V8's TypeError for it names the key. */
function cycleThrough(key: string) {
  const value: Record<string, unknown> = {};
  value[key] = { inner: value };
  return value;
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 100));

const graphs = {
  unknownKey: one((s) => ({ [s.secret]: true })),
  interruptNulKey: one((s) => interrupt({ bookings: { [s.secret]: "a\u0000b" } })),
  interruptDateKey: one((s) => interrupt({ bookings: { [s.secret]: new Date(0) } })),
  storeKeyNul: one((s, config) => config.store.put(["users"], `${s.secret}\u0000`, { a: 1 })),
  storeLabelColon: one((s, config) => config.store.put(["users", `${s.secret}:x`], "k", { a: 1 })),
  storeLabelEmail: one((s, config) => config.store.put(["memories", s.secret], "k", { a: 1 })),
  stateFunction: loose((s) => ({ data: { [s.secret]: () => 1 } })),
  stateCycle: loose((s) => ({ data: cycleThrough(s.secret) })),
  stateMapCycle: loose((s) => {
    const map = new Map<string, unknown>();
    map.set(s.secret, map);
    return { data: map };
  }),
  codeObject: one((s) => {
    throw Object.assign(new Error("upstream refused"), { code: { body: s.secret } });
  }),
  streamFunction: one(async (s, config) => {
    config.writer({ [s.secret]: () => 1 });
    await pause();
    return {};
  }),
  streamCycle: one(async (s, config) => {
    config.writer(cycleThrough(s.secret));
    await pause();
    return {};
  }),
};

let lines: string[] = [];
let client: LayoverClient;
let queue: Queue;
let close: () => Promise<void>;

beforeAll(async () => {
  const worker = await loggedWorker("log-redaction-keys", graphs);
  ({ lines, client } = worker);
  const connection = new Redis(worker.redisUrl);
  queue = new Queue(STEP_QUEUE, { connection, prefix: worker.prefix });
  close = async () => {
    await queue.close();
    connection.disconnect();
    await worker.close();
  };
}, 60_000);
afterAll(() => close?.());

/** Starts `graphId` with `secret` in its input; the run's result once it ended, and the lines of it. */
async function ran(graphId: keyof typeof graphs, secret: string, config?: { streamMode: "custom" }) {
  const { runId } = await client.runs.start({ graphId, input: { secret }, ...(config ? { config } : {}) });
  const result = await client.runs.wait(runId, { timeoutMs: 15_000 });
  // The worker logs the run's end as it settles it: a line naming the run that says so.
  await expect
    .poll(() => lines.some((line) => line.includes(runId) && /"msg":"run (failed|success)"/.test(line)), {
      timeout: 5_000,
    })
    .toBe(true);
  return { result, logged: lines.filter((line) => line.includes(runId)).join("") };
}

describe("a run failed by a message that quotes the user's data as a key or label", () => {
  // The colon's label has no period: the period's refusal would come first.
  it.each([
    ["unknownKey", "alice@example.com", "returned a key, which is not in the state"],
    ["interruptNulKey", "alice@example.com", "holds a NUL character"],
    ["interruptDateKey", "alice@example.com", "a value in it is an instance of Date"],
    ["storeKeyNul", "alice@example.com", "A store item's key holds a NUL character"],
    ["storeLabelColon", "alice-at-example", "namespace labels cannot contain colons"],
    ["storeLabelEmail", "alice@example.com", "namespace labels cannot contain periods"],
    ["stateFunction", "alice@example.com", "Cannot store a function: checkpoint values must be data"],
    ["stateCycle", "alice@example.com", "Cannot store a value that contains itself (a cycle)"],
  ] as const)("%s: logged without it; the caller reads the whole message", async (graphId, secret, said) => {
    const { result, logged } = await ran(graphId, secret);
    expect(result.status).toBe("error");
    expect(logged).toContain(said);
    expect(logged).not.toContain(secret);
    expect(logged).toContain('"msg":"run failed"');
    // The run's own record (the caller's to read) says where, for its author.
    expect(JSON.stringify((await client.runs.get(result.runId))?.error)).toContain(secret);
  });

  it.each(["stateCycle", "stateMapCycle"] as const)(
    "%s: a state that contains itself fails its run at once (a TypeError or RangeError, its job was retried for ever)",
    async (graphId) => {
      const secret = `alice+${graphId}@example.com`;
      const { result, logged } = await ran(graphId, secret);
      expect(result.error).toMatchObject({ code: "NOT_SERIALIZABLE" });
      expect(logged).toContain("Cannot store a value that contains itself");
      expect(logged).not.toContain(secret);
    },
  );

  it("an error's code that is not a name (an object of the user's data) is left out", async () => {
    const secret = "alice+codeObject@example.com";
    const { result, logged } = await ran("codeObject", secret);
    expect(result.status).toBe("error");
    expect(logged).toContain("upstream refused");
    expect(logged).not.toContain(secret);
  });
});

describe("a custom stream chunk that cannot be encoded", () => {
  it.each([
    ["streamFunction", "Cannot store a function"],
    ["streamCycle", "Cannot store a value that contains itself"],
  ] as const)("%s: the warning leaves out the keys; the run goes on", async (graphId, said) => {
    const secret = `alice+${graphId}@example.com`;
    const { result, logged } = await ran(graphId, secret, { streamMode: "custom" });
    expect(result.status).toBe("success");
    expect(logged).toContain(said);
    expect(logged).not.toContain(secret);
  });
});

describe("a malformed job in the step queue", () => {
  it("is logged with its job id, not with data that is not an id", async () => {
    const secret = "alice+corrupt@example.com";
    const data = { threadId: { note: secret }, runId: "x", checkpointId: null };
    await queue.add("step", data as never, { jobId: "corrupt-job", attempts: 1 });
    await expect
      .poll(() => lines.some((line) => line.includes("corrupt-job") && line.includes("job failed")), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(lines.filter((line) => line.includes("corrupt-job")).join("")).not.toContain(secret);
  });
});
