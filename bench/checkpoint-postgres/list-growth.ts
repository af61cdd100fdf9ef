import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Engine, GraphApi } from "../engine/graphs.ts";
import { measureUsage, type Usage } from "./measure.ts";
import type { PostgresEngine } from "./savers.ts";
import type { BenchServer } from "./server.ts";

export const ITEM_CHARS = 100;

/** Item `i` of the list: 100 characters of base64 SHA-256 output, so TOAST cannot compress it away. */
export function item(i: number): string {
  let text = "";
  for (let block = 0; text.length < ITEM_CHARS; block++) {
    text += createHash("sha256").update(`${i}/${block}`).digest("base64");
  }
  return text.slice(0, ITEM_CHARS);
}

/**
 * One node that loops on itself: each superstep appends one item to `items` (a concat reducer,
 * like a message list) until the list holds `steps` items. Written against the API both engines
 * share, like the engine benchmark's graphs.
 */
export function buildListGrowth(api: GraphApi, checkpointer: unknown, steps: number) {
  const State = api.Annotation.Root({
    items: api.Annotation({ reducer: (a: string[], b: string | string[]) => a.concat(b), default: () => [] }),
  });
  const app = new api.StateGraph(State)
    .addNode("grow", (state: { items: string[] }) => ({ items: [item(state.items.length)] }))
    .addEdge(api.START, "grow")
    .addConditionalEdges("grow", (state: { items: string[] }) =>
      state.items.length < steps ? "grow" : api.END,
    )
    .compile({ checkpointer });
  return async (threadId: string): Promise<void> => {
    const out = await app.invoke(
      { items: [] },
      { configurable: { thread_id: threadId }, recursionLimit: steps + 10 },
    );
    const items = out.items as string[];
    if (items.length !== steps || items.some((value, i) => value !== item(i))) {
      throw new Error(`Benchmark graph returned the wrong result: list growth to ${steps}`);
    }
  };
}

export interface GrowthPoint {
  steps: number;
  runs: number;
  /** Table growth per run (one thread each). */
  bytesPerRun: number;
  commitsPerRun: number;
  statementsPerRun: number;
  msPerRun: number;
  /** The final list as JSON, for scale: a store linear in N keeps a constant multiple of it. */
  finalListBytes: number;
  usage: Usage;
}

export interface GrowthResult {
  engine: Engine["name"];
  points: GrowthPoint[];
  /** bytes per run at the largest N ÷ at the smallest (linear: N ratio; quadratic: its square). */
  ratio: number;
}

let growthThreads = 0;

/** Runs the list-growth graph to each N in `stepsList` on every engine, `runs` threads each. */
export async function measureListGrowth(
  server: BenchServer,
  targets: readonly PostgresEngine[],
  stepsList: readonly number[],
  runs: number,
  log: (line: string) => void,
): Promise<GrowthResult[]> {
  const schemas = targets.map((target) => target.schema);
  const points = new Map<PostgresEngine, GrowthPoint[]>(targets.map((target) => [target, []]));
  for (const steps of stepsList) {
    for (const target of targets) {
      log(`  list growth to ${steps} on ${target.engine.name}…`);
      const run = buildListGrowth(target.engine.api, target.newSaver(), steps);
      const { result: elapsedMs, usage } = await measureUsage(server, target, schemas, async () => {
        const start = performance.now();
        for (let i = 0; i < runs; i++) await run(`growth-${steps}-${++growthThreads}`);
        return performance.now() - start;
      });
      const finalList = Array.from({ length: steps }, (_, i) => item(i));
      points.get(target)?.push({
        steps,
        runs,
        bytesPerRun: usage.bytes / runs,
        commitsPerRun: usage.commits / runs,
        statementsPerRun: usage.sent.statements / runs,
        msPerRun: elapsedMs / runs,
        finalListBytes: Buffer.byteLength(JSON.stringify(finalList)),
        usage,
      });
    }
  }
  return targets.map((target) => {
    const list = points.get(target) ?? [];
    const first = list[0];
    const last = list.at(-1);
    return {
      engine: target.engine.name,
      points: list,
      ratio: first && last ? last.bytesPerRun / first.bytesPerRun : Number.NaN,
    };
  });
}
