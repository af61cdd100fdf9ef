// A graph compiled without a checkpointer has no thread: its reads and updates are refused with
// LangGraph's MISSING_CHECKPOINTER (a GraphValueError there, InvalidGraphError here, as is
// interrupt()'s), rather than an empty thread read back and an update dropped without a word. And
// what a checkpointer cannot take (a fractional history limit, a thread id Postgres text cannot
// hold) is refused with a typed error, not a database's.
import { describe, expect, it } from "vitest";
import {
  Annotation,
  entrypoint,
  GraphValueError,
  interrupt,
  MemorySaver,
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

describe("a thread's reads refuse what a checkpointer cannot take, with a typed error", () => {
  const saved = () =>
    new StateGraph(State)
      .addNode("a", (state) => ({ n: state.n + 1 }))
      .addEdge(START, "a")
      .compile({ checkpointer: new MemorySaver() });

  it("a history limit that is not a whole number of at least 1 (the Postgres saver failed on 2.5)", async () => {
    const graph = saved();
    await graph.invoke({ n: 1 }, config);
    for (const limit of [2.5, 0, Number.NaN]) {
      const reading = (async () => {
        for await (const _ of graph.getStateHistory(config, { limit }));
      })();
      await expect(reading).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("limit is a whole number"),
      });
    }
  });

  it("a thread id with a NUL character or half a surrogate pair (Postgres text holds neither)", async () => {
    const graph = saved();
    for (const threadId of ["a\u0000b", "cut \ud83d"])
      await expect(graph.invoke({ n: 1 }, { configurable: { thread_id: threadId } })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("thread_id holds a NUL character or half a surrogate pair"),
      });
  });
});
