// What the benchmark's worker processes serve: `layover-worker --graphs bench/distributed/worker-graphs.ts`.
// BENCH_DURABILITY (set by the benchmark's --durability) is the graphs' durability.
import * as layover from "@layover/graph";
import { APPROVAL_ID, approvalGraph, type GraphApi, LINEAR_ID, linearGraph } from "./graphs.ts";

const api = layover as unknown as GraphApi;
const durability = process.env.BENCH_DURABILITY ?? "async";
if (!layover.isDurability(durability)) {
  throw new Error(`BENCH_DURABILITY must be "sync", "async" or "exit"; got "${durability}".`);
}

export const graphs = {
  [LINEAR_ID]: { graph: linearGraph(api).compile(), durability },
  [APPROVAL_ID]: { graph: approvalGraph(api).compile(), durability },
};
