// LangGraph's quickstart form ports as it is written: `PostgresSaver.fromConnString(url)`, then
// `setup()`, then `end()`; the same for PostgresStore. Both had only the options constructor.
import { Annotation, Command, END, interrupt, START, StateGraph } from "@layover/graph";
import { useTestSchema } from "@layover/testing/vitest";
import { describe, expect, it } from "vitest";
import { PostgresSaver } from "./postgres-saver.ts";
import { PostgresStore } from "./postgres-store.ts";

const schema = useTestSchema("from_conn_string");

describe("fromConnString", () => {
  it("builds a saver a graph pauses and resumes on, whose end() releases its pool", async () => {
    const checkpointer = PostgresSaver.fromConnString(schema.current.url, { schema: schema.current.name });
    await checkpointer.setup();
    const State = Annotation.Root({ booked: Annotation<string>() });
    const graph = new StateGraph(State)
      .addNode("book", () => ({ booked: String(interrupt("book LHR?")) }))
      .addEdge(START, "book")
      .addEdge("book", END)
      .compile({ checkpointer });
    const config = { configurable: { thread_id: "t1" } };
    const paused = await graph.invoke({}, config);
    expect(paused.__interrupt__?.[0]?.value).toBe("book LHR?");
    expect(await graph.invoke(new Command({ resume: "yes" }), config)).toEqual({ booked: "yes" });
    expect(checkpointer.schema).toBe(schema.current.name);
    await checkpointer.end();
    expect(checkpointer.pool.ended).toBe(true);
  });

  it("builds a store that keeps what is put, whose end() releases its pool", async () => {
    const store = PostgresStore.fromConnString(schema.current.url, { schema: schema.current.name });
    await store.setup();
    await store.put(["memories", "u1"], "likes", { seat: "aisle" });
    expect((await store.get(["memories", "u1"], "likes"))?.value).toEqual({ seat: "aisle" });
    await store.end();
    expect(store.pool.ended).toBe(true);
  });
});
