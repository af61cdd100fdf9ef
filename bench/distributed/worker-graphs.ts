// What the benchmark's worker processes serve: `layover-worker --graphs bench/distributed/worker-graphs.ts`.
import * as layover from "@layover/graph";
import { APPROVAL_ID, approvalGraph, type GraphApi, LINEAR_ID, linearGraph } from "./graphs.ts";

const api = layover as unknown as GraphApi;

export const graphs = {
  [LINEAR_ID]: linearGraph(api).compile(),
  [APPROVAL_ID]: approvalGraph(api).compile(),
};
