// compile()'s options: LangGraph's, and no others. A misspelt interruptBefore compiled a graph
// that never paused before the node it was meant to guard: the booking went through unapproved.
import { describe, expect, it } from "vitest";
import { Annotation, MemorySaver, START, StateGraph } from "../index.ts";

const State = Annotation.Root({ booked: Annotation<boolean>() });
const builder = () => new StateGraph(State).addNode("book", () => ({ booked: true })).addEdge(START, "book");

describe("compile()", () => {
  it("refuses an option it does not take, naming the one meant", () => {
    const compiling = () =>
      builder().compile({ checkpointer: new MemorySaver(), interruptbefore: ["book"] } as never);
    expect(compiling).toThrow(
      expect.objectContaining({
        code: "INVALID_GRAPH",
        message: expect.stringContaining('"interruptbefore" is interruptBefore here'),
      }),
    );
  });

  it("keeps a description, as LangGraph's compiled graph does", () => {
    expect(builder().compile({ description: "Books the flight" }).description).toBe("Books the flight");
    expect(() => builder().compile({ description: 7 } as never)).toThrow(
      expect.objectContaining({ code: "INVALID_GRAPH" }),
    );
  });

  it("says LangGraph's stream transformers are not supported rather than dropping them", () => {
    expect(() => builder().compile({ transformers: [] } as never)).toThrow(
      expect.objectContaining({ message: expect.stringContaining("not supported") }),
    );
  });

  it("still pauses where interruptBefore, spelt right, says", async () => {
    const graph = builder().compile({ checkpointer: new MemorySaver(), interruptBefore: ["book"] });
    const config = { configurable: { thread_id: "t" } };
    await graph.invoke({}, config);
    expect((await graph.getState(config)).next).toEqual(["book"]);
  });
});
