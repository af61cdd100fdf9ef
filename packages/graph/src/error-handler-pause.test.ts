import { describe, expect, it } from "vitest";
import { Command, INTERRUPT, interrupt, MemorySaver, START, StateGraph, task } from "./index.ts";
import { declined, failingBook, State, thread, updatesOf } from "./test-support/error-handlers.ts";

describe("a node's errorHandler that asks", () => {
  it("pauses when it asks; the resume runs the handler again with the node's error, never the node", async () => {
    const runs = { book: 0, handler: 0 };
    const asked: unknown[] = [];
    const graph = new StateGraph(State)
      .addNode(
        "book",
        () => {
          runs.book += 1;
          const error = new Error("card declined");
          throw Object.assign(error, { name: "PaymentError", code: "DECLINED" });
        },
        {
          errorHandler: (_state, error) => {
            runs.handler += 1;
            asked.push({
              name: error.error.name,
              message: error.error.message,
              code: (error.error as { code?: string }).code,
            });
            const choice = interrupt({ question: "Refund or retry?", reason: error.error.message });
            return new Command({ update: { status: `person chose ${choice}` }, goto: "notify" });
          },
        },
      )
      .addNode("notify", () => ({ log: ["notified"] }))
      .addEdge(START, "book")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    const paused = await graph.invoke({ log: [] }, config);
    expect(paused[INTERRUPT]).toMatchObject([
      { value: { question: "Refund or retry?", reason: "card declined" } },
    ]);
    const state = await graph.getState(config);
    expect(state.next).toEqual(["book"]);
    expect(state.tasks).toMatchObject([
      {
        name: "book",
        error: { name: "PaymentError", message: "card declined" },
        interrupts: [{ value: { question: "Refund or retry?" } }],
      },
    ]);

    const chunks = await updatesOf(
      await graph.stream(new Command({ resume: "refund" }), { ...config, streamMode: "updates" }),
    );
    expect(chunks).toEqual([
      { __error_handler__book: { status: "person chose refund" } },
      { notify: { log: ["notified"] } },
    ]);
    expect(runs).toEqual({ book: 1, handler: 2 });
    // After the pause, the error is rebuilt from what was stored: its name, message and code.
    expect(asked[1]).toEqual({ name: "PaymentError", message: "card declined", code: "DECLINED" });
    expect((await graph.getState(config)).values).toEqual({
      log: ["notified"],
      status: "person chose refund",
    });
  });

  it("pauses with the questions of the task() calls it makes at once; the answers reach the calls", async () => {
    let charged = 0;
    const ask = task("ask", (question: string) => interrupt(question) as string);
    const graph = new StateGraph(State)
      .addNode(
        "book",
        () => {
          charged += 1;
          throw new Error("card declined");
        },
        {
          errorHandler: async () => {
            const [refund, notify] = await Promise.all([ask("Refund?"), ask("Notify the customer?")]);
            return { status: `refund: ${refund}, notify: ${notify}` };
          },
        },
      )
      .addEdge(START, "book")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    const paused = await graph.invoke({ log: [] }, config);
    const asked = paused[INTERRUPT] as Array<{ id: string; value: string }>;
    expect(asked.map((i) => i.value).sort()).toEqual(["Notify the customer?", "Refund?"]);
    const answers = Object.fromEntries(asked.map((i) => [i.id, i.value === "Refund?" ? "yes" : "no"]));
    expect(await graph.invoke(new Command({ resume: answers }), config)).toEqual({
      log: [],
      status: "refund: yes, notify: no",
    });
    expect(charged).toBe(1);
  });

  it("fails the run with its own error when it throws; running the thread again runs only the handler", async () => {
    const runs = { book: 0, handler: 0 };
    const graph = failingBook(runs, () => {
      if (runs.handler === 1) throw new TypeError("refund service down");
      return { status: "refunded" };
    });
    const config = thread();
    await expect(graph.invoke({ log: [] }, config)).rejects.toThrow(TypeError);
    const state = await graph.getState(config);
    expect(state.tasks).toMatchObject([{ name: "book", error: { message: "card declined" } }]);
    expect(await graph.invoke(null, config)).toEqual({ log: [], status: "refunded" });
    expect(runs).toEqual({ book: 1, handler: 2 });
  });

  it("an update in its stead while it waits settles the failed task: neither the node nor the handler runs again", async () => {
    const runs = { book: 0, handler: 0 };
    const graph = failingBook(runs, () => ({ status: String(interrupt("refund?")) }));
    const config = thread();
    await graph.invoke({ log: [] }, config);
    // An operator answers in the handler's stead.
    await graph.updateState(config, { status: "refunded by hand" }, "__error_handler__book");
    expect((await graph.getState(config)).next).toEqual([]);
    expect(await graph.invoke(null, config)).toEqual({ log: [], status: "refunded by hand" });
    expect(runs).toEqual({ book: 1, handler: 1 });
  });

  it("stops at interruptAfter its node, once it ran", async () => {
    const graph = new StateGraph(State)
      .addNode("book", declined, {
        errorHandler: () => new Command({ update: { status: "refunded" }, goto: "notify" }),
      })
      .addNode("notify", () => ({ log: ["notified"] }))
      .addEdge(START, "book")
      .compile({ checkpointer: new MemorySaver(), interruptAfter: ["__error_handler__book"] });
    const config = thread();
    expect(await graph.invoke({ log: [] }, config)).toMatchObject({ log: [], status: "refunded" });
    expect((await graph.getState(config)).next).toEqual(["notify"]);
    expect(await graph.invoke(null, config)).toEqual({ log: ["notified"], status: "refunded" });
  });

  it("after a deploy that changed the node's handler, the resume runs the new one", async () => {
    const saver = new MemorySaver();
    const build = (graph: StateGraph<typeof State>) =>
      graph.addEdge(START, "book").compile({ checkpointer: saver });
    const before = build(
      new StateGraph(State).addNode("book", declined, {
        errorHandler: () => ({ status: String(interrupt("refund?")) }),
      }),
    );
    const after = build(
      new StateGraph(State)
        .setNodeDefaults({
          errorHandler: (_state, error) => ({ status: `default handled ${error.error.message}` }),
        })
        .addNode("book", declined),
    );
    const config = thread();
    await before.invoke({ log: [] }, config);
    expect(await after.invoke(new Command({ resume: "yes" }), config)).toEqual({
      log: [],
      status: "default handled card declined",
    });
  });
});
