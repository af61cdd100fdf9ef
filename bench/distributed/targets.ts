// The two systems under test, behind one interface: Layover through its whole path (client →
// Postgres + BullMQ → worker processes → Postgres), and LangGraph.js in this process with
// @langchain/langgraph-checkpoint-postgres's PostgresSaver on the same Postgres server.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import * as langgraph from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { PostgresSaver as LayoverPostgresSaver } from "@layover/checkpoint-postgres";
import * as layover from "@layover/graph";
import type { LayoverClient } from "@layover/runtime";
import { createTestSchema, type TestSchema } from "@layover/testing";
import pg from "pg";
import { APP_NAMES, withAppName } from "../support/cpu.ts";
import {
  APPROVAL_ANSWER,
  APPROVAL_ID,
  APPROVAL_INPUT,
  approvalGraph,
  check,
  checkFinished,
  checkLinear,
  type GraphApi,
  LINEAR_ID,
  LINEAR_INPUT,
  linearGraph,
} from "./graphs.ts";

export interface Target {
  name: "Layover" | "LangGraph.js" | "Layover in-process";
  /** One linear run on a new thread, checked; resolves with its latency (start → finished) in ms. */
  linear(): Promise<number>;
  /**
   * One interrupt round trip on a new thread: start → parked → resume → finished, checked;
   * resolves with the resume → finished latency in ms.
   */
  roundTrip(): Promise<number>;
  close(): Promise<void>;
}

const WAIT = { timeoutMs: 120_000 };

/** With `--stream`: each run of the round trip streams its "updates", read to its end. */
const STREAMED = "updates" as const;

/** The run's "updates" chunks and its end, read through runs.stream. */
async function streamed(client: LayoverClient, runId: string) {
  const chunks: unknown[] = [];
  for await (const part of client.runs.stream(runId, WAIT)) {
    if (part.event === "end") return { chunks, end: part.data };
    chunks.push(part.data);
  }
  throw new Error(`run ${runId}'s stream ended without its end`);
}

/** The streamed round trip: each run's updates streamed to its end, as a UI would show them. */
async function streamedRoundTrip(client: LayoverClient): Promise<number> {
  const { runId, threadId } = await client.runs.start({
    graphId: APPROVAL_ID,
    input: APPROVAL_INPUT,
    config: { streamMode: STREAMED },
  });
  const parked = await streamed(client, runId);
  check(
    parked.end.status === "interrupted" && parked.chunks.length === 2,
    `approval run ${parked.end.status}`,
  );
  const resumed = performance.now();
  const resume = await client.threads.resume(threadId, APPROVAL_ANSWER, { streamMode: STREAMED });
  const done = await streamed(client, resume.runId);
  const ms = performance.now() - resumed;
  check(done.end.status === "success" && done.chunks.length === 2, `resumed run ended ${done.end.status}`);
  checkFinished(done.end.values);
  return ms;
}

/** Layover: the producer client against the worker processes; `stream` streams each round trip's runs. */
export function layoverTarget(client: LayoverClient, stream = false): Target {
  return {
    name: "Layover",
    async linear() {
      const started = performance.now();
      const { runId } = await client.runs.start({ graphId: LINEAR_ID, input: LINEAR_INPUT });
      const done = await client.runs.wait(runId, WAIT);
      const ms = performance.now() - started;
      check(done.status === "success", `linear run ended ${done.status}`);
      checkLinear(done.values);
      return ms;
    },
    async roundTrip() {
      if (stream) return streamedRoundTrip(client);
      const { runId, threadId } = await client.runs.start({ graphId: APPROVAL_ID, input: APPROVAL_INPUT });
      const parked = await client.runs.wait(runId, WAIT);
      check(
        parked.status === "interrupted" && parked.interrupts.length === 1,
        `approval run ${parked.status}`,
      );
      const resumed = performance.now();
      const resume = await client.threads.resume(threadId, APPROVAL_ANSWER);
      const done = await client.runs.wait(resume.runId, WAIT);
      const ms = performance.now() - resumed;
      check(done.status === "success", `resumed run ended ${done.status}`);
      checkFinished(done.values);
      return ms;
    },
    async close() {},
  };
}

/**
 * LangGraph.js: the same graphs compiled with its PostgresSaver, invoked in this process, on
 * a schema of its own on the same server, with a pool of its own (`--peer-pool`).
 */
export function langgraphTarget(
  poolSize: number,
  durability: layover.Durability,
  stream = false,
): Promise<Target> {
  return inProcessTarget("LangGraph.js", { poolSize, durability, stream }, async (pool, schema) => {
    const saver = new PostgresSaver(pool, undefined, { schema });
    await saver.setup();
    return {
      api: langgraph as unknown as GraphApi,
      saver,
      resume: new langgraph.Command({ resume: APPROVAL_ANSWER }),
    };
  });
}

/**
 * A reference point, not a peer (`--in-process`): Layover's engine and its PostgresSaver
 * invoked in this process like LangGraph.js, without the runtime (no BullMQ, no runs or
 * threads tables, no worker processes). The gap to "Layover" is what the distributed path costs.
 */
export function layoverInProcessTarget(poolSize: number, durability: layover.Durability): Promise<Target> {
  return inProcessTarget(
    "Layover in-process",
    { poolSize, durability, stream: false },
    async (pool, schema) => {
      const saver = new LayoverPostgresSaver({ pool, schema });
      await saver.setup();
      return {
        api: layover as unknown as GraphApi,
        saver,
        resume: new layover.Command({ resume: APPROVAL_ANSWER }),
      };
    },
  );
}

/** The "updates" chunks of one streamed invoke, drained. */
async function drained(app: any, input: unknown, config: object): Promise<any[]> {
  const chunks = [];
  for await (const chunk of await app.stream(input, { ...config, streamMode: STREAMED })) chunks.push(chunk);
  return chunks;
}

async function inProcessTarget(
  name: Target["name"],
  { poolSize, durability, stream }: { poolSize: number; durability: layover.Durability; stream: boolean },
  build: (pool: pg.Pool, schema: string) => Promise<{ api: GraphApi; saver: unknown; resume: unknown }>,
): Promise<Target> {
  const schema: TestSchema = await createTestSchema(
    name === "LangGraph.js" ? "bench_langgraph" : "bench_inprocess",
  );
  const appName = name === "LangGraph.js" ? APP_NAMES.langgraph : APP_NAMES.inProcess;
  const pool = new pg.Pool({ connectionString: withAppName(schema.url, appName), max: poolSize });
  try {
    const { api, saver, resume } = await build(pool, schema.name);
    const linearApp = linearGraph(api).compile({ checkpointer: saver });
    const approvalApp = approvalGraph(api).compile({ checkpointer: saver });
    const config = () => ({ configurable: { thread_id: randomUUID() }, durability });
    return {
      name,
      async linear() {
        const started = performance.now();
        const out = await linearApp.invoke(LINEAR_INPUT, config());
        const ms = performance.now() - started;
        checkLinear(out);
        return ms;
      },
      async roundTrip() {
        const thread = config();
        if (stream) {
          const paused = await drained(approvalApp, APPROVAL_INPUT, thread);
          check(paused.length === 2 && paused[1]?.__interrupt__?.length === 1, "interrupt pause");
          const resumed = performance.now();
          const done = await drained(approvalApp, resume, thread);
          const ms = performance.now() - resumed;
          checkFinished(done.at(-1)?.act);
          return ms;
        }
        const paused = await approvalApp.invoke(APPROVAL_INPUT, thread);
        check(paused.__interrupt__?.length === 1 && paused.result === undefined, "interrupt pause");
        const resumed = performance.now();
        const done = await approvalApp.invoke(resume, thread);
        const ms = performance.now() - resumed;
        checkFinished(done);
        return ms;
      },
      async close() {
        await pool.end();
        await schema.drop();
      },
    };
  } catch (error) {
    await pool.end().catch(() => {});
    await schema.drop();
    throw error;
  }
}
