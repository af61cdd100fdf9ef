// compile()'s options: LangGraph's, and no others. A misspelt interruptBefore compiled a graph
// that never paused before the node it was meant to guard: the booking went through unapproved.
import { describe, expect, it } from "vitest";
import { Annotation, entrypoint, MemorySaver, START, StateGraph } from "../index.ts";

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

/** LangGraph's BaseCheckpointSaver, as its savers look to Layover: its calls, its getNextVersion. */
class LangGraphStyleSaver {
  serde = {};
  async getTuple(_config: unknown) {
    return undefined;
  }
  async *list(_config: unknown) {}
  async put(config: unknown, _checkpoint: unknown, _metadata: unknown, _versions: unknown) {
    return config;
  }
  async putWrites(_config: unknown, _writes: unknown, _taskId: string) {}
  async deleteThread(_threadId: string) {}
  getNextVersion(current: number | undefined) {
    return (current ?? 0) + 1;
  }
}

describe("compile({ checkpointer }) and entrypoint({ checkpointer })", () => {
  it("refuse one of LangGraph's savers, saying to use Layover's: it failed at the first put with a TypeError", () => {
    const said = expect.objectContaining({
      code: "INVALID_GRAPH",
      message: expect.stringMatching(
        /checkpointer from LangGraph \(LangGraphStyleSaver\).*MemorySaver from @layover\/graph/,
      ),
    });
    expect(() => builder().compile({ checkpointer: new LangGraphStyleSaver() as never })).toThrow(said);
    expect(() =>
      entrypoint({ name: "wf", checkpointer: new LangGraphStyleSaver() as never }, () => 1),
    ).toThrow(said);
  });

  it("refuse what is no checkpointer; take Layover's, or false", async () => {
    expect(() => builder().compile({ checkpointer: {} as never })).toThrow(
      /takes a checkpointer.*getTuple, list, put, putWrites/,
    );
    expect(() => builder().compile({ checkpointer: "memory" as never })).toThrow(/takes a checkpointer/);
    const config = { configurable: { thread_id: "t" } };
    expect(await builder().compile({ checkpointer: new MemorySaver() }).invoke({}, config)).toEqual({
      booked: true,
    });
    expect(await builder().compile({ checkpointer: false }).invoke({})).toEqual({ booked: true });
  });
});
