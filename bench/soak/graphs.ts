// What the soak's worker processes serve: `layover-worker --graphs bench/soak/graphs.ts`. Each
// node leaves a mark on `trail` (an appending reducer), so a thread's final values say which
// supersteps committed, once each, and which answers they took: the soak computes the same
// trail from its ledger and compares. Nodes that do work also write a custom chunk naming
// themselves first (config.writer, as a node sends an LLM's tokens), so a stream read in
// ["updates", "custom"] shows whether each node's chunks come in the order it sent them. Their
// waits are given the node's signal, as a careful node's calls are: a cancel, or a job found
// lost (a worker frozen past its lock), stops them.
import { setTimeout as sleep } from "node:timers/promises";
import { Annotation, END, interrupt, type LangGraphRunnableConfig, START, StateGraph } from "@layover/graph";

export const APPROVAL_ID = "soak-approval";
export const CHAIN_ID = "soak-chain";
export const CHAIN_NODES = 5;
/** What an interrupt of the soak resumes with when its timeout passes. */
export const TIMEOUT_ANSWER = "timeout";

const concat = (a: string[], b: string | string[]) => a.concat(b);
/** A wait of `ms` that its node's `signal` stops (rejecting with an AbortError). */
const wait = (ms: number, signal: AbortSignal | undefined) =>
  sleep(ms, undefined, signal === undefined ? undefined : { signal });

const ApprovalState = Annotation.Root({
  /** Questions the review asks: 1 or 2. */
  asks: Annotation<number>(),
  /** Each question's timeout (ms); none: it waits for a person. */
  timeoutMs: Annotation<number | undefined>(),
  /** How long `act` takes (ms): keeps jobs in flight while faults strike. */
  delayMs: Annotation<number>(),
  trail: Annotation<string[], string | string[]>({ reducer: concat, default: () => [] }),
});
type Approval = typeof ApprovalState.State;

function ask(s: Approval, question: number): unknown {
  const options = s.timeoutMs === undefined ? {} : { timeout: s.timeoutMs, onTimeout: TIMEOUT_ANSWER };
  return interrupt({ question }, options);
}

/** prepare → review (asks once or twice) → act. */
export const approval = new StateGraph(ApprovalState)
  .addNode("prepare", (_s: Approval, config: LangGraphRunnableConfig) => {
    config.writer?.({ node: "prepare" });
    return { trail: "prepare" };
  })
  .addNode("review", (s: Approval) => {
    const answers = [ask(s, 1)];
    if (s.asks === 2) answers.push(ask(s, 2));
    return { trail: answers.map((a) => `review:${String(a)}`) };
  })
  .addNode("act", async (s: Approval, config: LangGraphRunnableConfig) => {
    config.writer?.({ node: "act" });
    await wait(s.delayMs, config.signal);
    return { trail: "act" };
  })
  .addEdge(START, "prepare")
  .addEdge("prepare", "review")
  .addEdge("review", "act")
  .addEdge("act", END)
  .compile();

const ChainState = Annotation.Root({
  delayMs: Annotation<number>(),
  count: Annotation<number, number>({ reducer: (a, b) => a + b, default: () => 0 }),
  trail: Annotation<string[], string | string[]>({ reducer: concat, default: () => [] }),
});

/** s0 → … → s4, each slow by `delayMs`: a run that is running long enough to cancel or queue behind. */
let chainBuilder: any = new StateGraph(ChainState);
for (let i = 0; i < CHAIN_NODES; i++) {
  chainBuilder = chainBuilder
    .addNode(`s${i}`, async (s: typeof ChainState.State, config: LangGraphRunnableConfig) => {
      config.writer?.({ node: `s${i}` });
      await wait(s.delayMs, config.signal);
      return { count: 1, trail: `s${i}` };
    })
    .addEdge(i === 0 ? START : `s${i - 1}`, `s${i}`);
}
export const chain = chainBuilder.addEdge(`s${CHAIN_NODES - 1}`, END).compile();

export const graphs = { [APPROVAL_ID]: approval, [CHAIN_ID]: chain };
