// A job's stream on its way to Redis, against a dispatcher that records what it is given: the
// buffering, the order, and what a failing or silent Redis does to the job (nothing: it goes on).
// The real path (workers, Redis, runs.stream) is test/run-stream.int.test.ts.
import { type Dispatcher, decodeStreamChunk, type RunRow, type RunStreamEntry } from "@layover/runtime";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WorkerContext } from "./context.ts";
import { JobStream } from "./run-stream.ts";

type Append = (runId: string, entries: readonly RunStreamEntry[]) => Promise<boolean>;

function setup(append: Append = async () => true) {
  const sent: RunStreamEntry[][] = [];
  const logged: string[] = [];
  const dispatcher = {
    appendStream: (runId: string, entries: readonly RunStreamEntry[]) => {
      sent.push([...entries]);
      return append(runId, entries);
    },
  } as unknown as Dispatcher;
  const log = pino({ level: "info" }, { write: (line: string) => logged.push(JSON.parse(line).msg) });
  const stream = new JobStream({ dispatcher } as WorkerContext, { runId: "run-1" }, log);
  const run = (config?: object) =>
    ({ input: { input: {}, ...(config ? { config } : {}) } }) as unknown as RunRow;
  const decoded = () =>
    sent.map((batch) =>
      batch.map((e) => [e.event, e.event === "__end__" ? e.data : decodeStreamChunk(e.data)]),
    );
  return { stream, run, sent, logged, decoded };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("JobStream", () => {
  it("sends nothing, and builds no emitter, for a run that asked for no stream", async () => {
    const { stream, run, sent } = setup();
    expect(stream.open(run())).toBeUndefined();
    await stream.flush();
    await stream.close("finished");
    expect(sent).toEqual([]);
  });

  it("sends the chunks of one turn together and in order, the end entry only once the run parked or ended", async () => {
    const { stream, run, decoded } = setup();
    const emit = stream.open(run({ streamMode: ["updates", "custom"] }));
    expect([...(emit?.modes ?? [])]).toEqual(["updates", "custom"]);
    emit?.push("custom", { token: "a" });
    emit?.push("custom", { token: "b" });
    emit?.push("updates", { draft: { text: "ab", at: new Date(0) } });
    await stream.flush();
    emit?.push("custom", { token: "c" });
    await stream.close("enqueued");
    await stream.close("parked");
    expect(decoded()).toEqual([
      [
        ["custom", { token: "a" }],
        ["custom", { token: "b" }],
        ["updates", { draft: { text: "ab", at: new Date(0) } }],
      ],
      [["custom", { token: "c" }]],
      [["__end__", "parked"]],
    ]);
  });

  it("ends the stream of a run that had ended before its job ran (a cancel, a worker that died first), if it streams", async () => {
    const { stream, run, decoded } = setup();
    await stream.ended({ ...run({ streamMode: "updates" }), status: "cancelled" } as RunRow);
    expect(decoded()).toEqual([[["__end__", "cancelled"]]]);
    const quiet = setup();
    await quiet.stream.ended({ ...quiet.run(), status: "success" } as RunRow);
    expect(quiet.sent).toEqual([]);
  });

  it("sends nothing a node pushes once the end entry is on its way", async () => {
    const { stream, run, decoded } = setup();
    const emit = stream.open(run({ streamMode: "custom" }));
    emit?.push("custom", { token: "a" });
    await stream.close("finished");
    emit?.push("custom", { token: "late" });
    await stream.flush();
    expect(decoded()).toEqual([
      [
        ["custom", { token: "a" }],
        ["__end__", "finished"],
      ],
    ]);
  });

  it("skips a chunk it cannot encode or over 1 MiB, with a warning, and sends the others", async () => {
    const { stream, run, decoded, logged } = setup();
    const emit = stream.open(run({ streamMode: "custom" }));
    emit?.push("custom", { token: "a" });
    emit?.push("custom", { callback: () => 1 });
    emit?.push("custom", { text: "x".repeat(1024 * 1024) });
    emit?.push("custom", { token: "b" });
    await stream.close("finished");
    expect(decoded()).toEqual([
      [
        ["custom", { token: "a" }],
        ["custom", { token: "b" }],
        ["__end__", "finished"],
      ],
    ]);
    expect(logged).toEqual([
      "stream chunk not sent: it cannot be encoded",
      "stream chunk not sent: it is too large",
    ]);
  });

  it.each([
    {
      what: "a failed send stops this job's stream with one warning; the job goes on",
      append: async (): Promise<boolean> => {
        throw new Error("READONLY You can't write against a read only replica.");
      },
      said: "run stream not sent; runs.stream readers get the run's end from Postgres",
    },
    {
      what: "a send Redis refuses because the job's lock is no longer its own stops the stream, at info",
      append: async () => false,
      said: "run stream not sent: this job's lock was lost; the worker that took it over streams the run",
    },
  ])("$what", async ({ append, said }) => {
    const { stream, run, sent, logged } = setup(append);
    const emit = stream.open(run({ streamMode: "updates" }));
    emit?.push("updates", { a: 1 });
    await stream.flush();
    emit?.push("updates", { b: 2 });
    await stream.close("finished");
    expect(sent).toHaveLength(1);
    expect(logged).toEqual([said]);
  });

  it("a Redis that does not answer holds the job at most REDIS_WAIT_MS, once", async () => {
    vi.useFakeTimers();
    const { stream, run, sent, logged } = setup(() => new Promise<boolean>(() => {}));
    const emit = stream.open(run({ streamMode: "updates" }));
    emit?.push("updates", { a: 1 });
    const flushed = stream.flush();
    await vi.advanceTimersByTimeAsync(2_000);
    await flushed;
    emit?.push("updates", { b: 2 });
    await stream.close("finished");
    expect(sent).toHaveLength(1);
    expect(logged).toHaveLength(1);
  });
});
