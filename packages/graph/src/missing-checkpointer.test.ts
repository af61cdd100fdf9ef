// A graph compiled without a checkpointer has no thread: its reads and updates are refused with
// LangGraph's MISSING_CHECKPOINTER (a GraphValueError there, InvalidGraphError here, as is
// interrupt()'s), rather than an empty thread read back and an update dropped without a word.
import { describe, expect, it } from "vitest";
import {
  Annotation,
  entrypoint,
  GraphValueError,
  interrupt,
  MissingCheckpointerError,
  START,
  StateGraph,
} from "./index.ts";

const State = Annotation.Root({ n: Annotation<number> });
const config = { configurable: { thread_id: "t" } };

function unsaved() {
  return new StateGraph(State)
    .addNode("a", (state) => ({ n: state.n + 1 }))
    .addEdge(START, "a")
    .compile();
}

describe("a graph compiled without a checkpointer", () => {
  it("refuses getState, getStateHistory and updateState: MISSING_CHECKPOINTER, a GraphValueError", async () => {
    const graph = unsaved();
    expect(await graph.invoke({ n: 1 }, config)).toEqual({ n: 2 });
    const refusals = [
      graph.getState(config),
      (async () => {
        for await (const _ of graph.getStateHistory(config));
      })(),
      graph.updateState(config, { n: 5 }, "a"),
    ];
    for (const refused of refusals) {
      const error = await refused.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MissingCheckpointerError);
      expect(error).toBeInstanceOf(GraphValueError);
      expect(error).toMatchObject({ code: "MISSING_CHECKPOINTER", lc_error_code: "MISSING_CHECKPOINTER" });
      expect((error as Error).message).toMatch(
        /needs a checkpointer to keep a thread's state.*compile\(\{ checkpointer/,
      );
    }
  });

  it("an entrypoint's too", async () => {
    const workflow = entrypoint({ name: "wf" }, async (n: number) => n + 1);
    expect(await workflow.invoke(1, config)).toBe(2);
    await expect(workflow.getState(config)).rejects.toThrow(MissingCheckpointerError);
  });

  it("interrupt()'s refusal is a GraphValueError too, as LangGraph's", async () => {
    const graph = new StateGraph(State)
      .addNode("ask", () => ({ n: interrupt("?") as number }))
      .addEdge(START, "ask")
      .compile();
    const error = await graph.invoke({ n: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GraphValueError);
    expect(error).toMatchObject({ code: "MISSING_CHECKPOINTER" });
  });
});
