// A run cancelled while its node runs leaves a line in the worker's log, with its ids: the
// cancelled-jobs counter went up, but no line said which run stopped, at any level.
import { Annotation, START, StateGraph } from "@layover/graph";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LoggedWorker, loggedWorker } from "./support/logged-worker.ts";
import { until } from "./support/until.ts";

const State = Annotation.Root({ done: Annotation<boolean>() });
const slow = new StateGraph(State)
  .addNode("work", async () => {
    await new Promise((resolve) => setTimeout(resolve, 400)); // ignores its signal
    return { done: true };
  })
  .addEdge(START, "work")
  .compile();

let w: LoggedWorker;
beforeAll(async () => {
  w = await loggedWorker("cancel-logged", { slow });
}, 60_000);
afterAll(async () => {
  await w?.close();
});

it("says the run stopped, naming the run and thread", async () => {
  const { runId, threadId } = await w.client.runs.start({ graphId: "slow", input: {} });
  await until(async () => (await w.client.runs.get(runId)).status === "running", 5_000, "the run never ran");
  expect(await w.client.runs.cancel(runId)).toEqual({ status: "cancelled" });
  await until(async () => (await w.client.threads.get(threadId)).status === "idle", 5_000, "never freed");
  const said = w.lines
    .map((line) => JSON.parse(line) as { msg: string; runId?: string; threadId?: string; level: number })
    .filter((line) => line.runId === runId && /cancelled/.test(line.msg));
  expect(said).toEqual([expect.objectContaining({ level: 30, threadId })]);
});
