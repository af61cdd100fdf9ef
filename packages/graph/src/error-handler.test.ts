// Node error handlers, as LangGraph.js 1.7.3's (`addNode(…, { errorHandler })`,
// `setNodeDefaults({ errorHandler })`): once a node's retry policy is exhausted its handler runs
// in its place, in the same superstep, with the node's input and a NodeError; its update (named
// after the handler) or Command applies instead and the node's edges do not fire. A handler that
// asks with interrupt() pauses (error-handler-pause.test.ts). The updates, events and final
// states were checked against LangGraph.js 1.7.3's.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  Command,
  END,
  INTERRUPT,
  interrupt,
  isNodeError,
  MemorySaver,
  type NodeError,
  Send,
  START,
  StateGraph,
  task,
} from "./index.ts";
import { declined, State, thread, updatesOf } from "./test-support/error-handlers.ts";

describe("a node's errorHandler", () => {
  it("runs in the failed node's place: its update applies, the node's edges do not fire", async () => {
    let given: { state: unknown; error: unknown; node: unknown } | undefined;
    const graph = new StateGraph(State)
      .addNode("book", declined, {
        errorHandler: (state, error, config) => {
          given = { state, error, node: config.metadata.langgraph_node };
          return { status: `compensated: ${error.error.message}`, log: ["refunded"] };
        },
      })
      .addNode("confirm", () => ({ log: ["confirmed"] }))
      .addEdge(START, "book")
      .addEdge("book", "confirm")
      .addEdge("confirm", END)
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    const chunks = await updatesOf(await graph.stream({ log: ["in"] }, { ...config, streamMode: "updates" }));
    expect(chunks).toEqual([
      { __error_handler__book: { status: "compensated: card declined", log: ["refunded"] } },
    ]);
    expect(given?.state).toEqual({ log: ["in"] });
    expect(given?.node).toBe("__error_handler__book");
    expect(isNodeError(given?.error)).toBe(true);
    const error = given?.error as NodeError;
    expect(error.node).toBe("book");
    expect(error.error).toBeInstanceOf(Error);
    expect(error.error.message).toBe("card declined");
    const state = await graph.getState(config);
    expect(state.values).toEqual({ log: ["in", "refunded"], status: "compensated: card declined" });
    expect(state.next).toEqual([]);
    expect(state.metadata?.writes).toEqual({
      __error_handler__book: { status: "compensated: card declined", log: ["refunded"] },
    });
  });

  it("runs once the retry policy is exhausted, and its Command goes to a recovery node", async () => {
    let attempts = 0;
    const graph = new StateGraph(State)
      .addNode(
        "book",
        () => {
          attempts += 1;
          throw new Error(`attempt ${attempts} declined`);
        },
        {
          retryPolicy: { maxAttempts: 3, initialInterval: 1, jitter: false },
          errorHandler: (_state, error) =>
            new Command({ update: { status: error.error.message }, goto: "apologise" }),
        },
      )
      .addNode("confirm", () => ({ log: ["confirmed"] }))
      .addNode("apologise", () => ({ log: ["apologised"] }))
      .addEdge(START, "book")
      .addEdge("book", "confirm")
      .compile();
    expect(await graph.invoke({ log: [] })).toEqual({ log: ["apologised"], status: "attempt 3 declined" });
    expect(attempts).toBe(3);
  });

  it("does not take the failure of a task() call the node made, whichever call settles first (as LangGraph)", async () => {
    for (const askFirst of [true, false]) {
      let handled = 0;
      const ask = task("ask", async () => {
        if (!askFirst) await sleep(20);
        return interrupt("approve?");
      });
      const charge = task("charge", async () => {
        if (askFirst) await sleep(20);
        throw new Error("card declined");
      });
      const graph = new StateGraph(State)
        .addNode("book", async () => ({ status: String((await Promise.all([ask(), charge()]))[0]) }), {
          errorHandler: () => {
            handled += 1;
            return {};
          },
        })
        .addEdge(START, "book")
        .compile({ checkpointer: new MemorySaver() });
      await expect(graph.invoke({ log: [] }, thread())).rejects.toThrow("card declined");
      expect(handled).toBe(0);
    }
  });

  it("takes a Send's argument as its input; the superstep's other tasks' writes apply with its own", async () => {
    const graph = new StateGraph(State)
      .addNode("fan", () => ({}))
      .addNode(
        "charge",
        (order: { id: number }) => {
          if (order.id === 2) throw new Error(`order ${order.id} declined`);
          return { log: [`charged ${order.id}`] };
        },
        {
          errorHandler: (order: { id: number }, error) => ({
            log: [`refund ${order.id}: ${error.error.message}`],
          }),
        },
      )
      .addNode("audit", () => ({ log: ["audited"] }))
      .addEdge(START, "fan")
      .addConditionalEdges("fan", () => [
        new Send("charge", { id: 1 }),
        new Send("charge", { id: 2 }),
        "audit",
      ])
      .compile();
    expect(await graph.invoke({ log: [] })).toEqual({
      log: ["audited", "charged 1", "refund 2: order 2 declined"],
    });
  });

  it("handles a NodeTimeoutError; not an interrupt, nor a cancelled run", async () => {
    const timed = new StateGraph(State)
      .addNode("slow", (_state, config) => sleep(5_000, {}, { signal: config.signal }), {
        timeout: 20,
        errorHandler: (_state, error) => ({ status: error.error.name }),
      })
      .addEdge(START, "slow")
      .compile();
    expect(await timed.invoke({ log: [] })).toEqual({ log: [], status: "NodeTimeoutError" });

    let handled = 0;
    const asking = new StateGraph(State)
      .addNode("ask", () => ({ status: String(interrupt("approve?")) }), {
        errorHandler: () => {
          handled += 1;
          return {};
        },
      })
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    expect((await asking.invoke({ log: [] }, config))[INTERRUPT]).toMatchObject([{ value: "approve?" }]);
    expect(await asking.invoke(new Command({ resume: "yes" }), config)).toEqual({ log: [], status: "yes" });

    const controller = new AbortController();
    const cancelled = new StateGraph(State)
      .addNode(
        "wait",
        (_state, config) =>
          new Promise((_resolve, reject) =>
            config.signal?.addEventListener("abort", () => reject(config.signal?.reason)),
          ),
        {
          errorHandler: () => {
            handled += 1;
            return {};
          },
        },
      )
      .addEdge(START, "wait")
      .compile();
    const running = cancelled.invoke({ log: [] }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(running).rejects.toThrow();
    expect(handled).toBe(0);
  });
  it("streams the handler's task start before the node's failure, as LangGraph's", async () => {
    const graph = new StateGraph(State)
      .addNode("book", declined, { errorHandler: () => ({ status: "refunded" }) })
      .addEdge(START, "book")
      .compile();
    const events = (await updatesOf(await graph.stream({ log: [] }, { streamMode: "tasks" }))) as Array<{
      name: string;
      error?: unknown;
      result?: unknown;
    }>;
    expect(events.map((e) => [e.name, "result" in e ? "result" : "start"])).toEqual([
      ["book", "start"],
      ["__error_handler__book", "start"],
      ["book", "result"],
      ["__error_handler__book", "result"],
    ]);
    expect(events[2]?.error).toEqual({ message: "card declined", name: "Error" }); // as LangGraph's: not a string
    expect(events[3]?.result).toEqual({ status: "refunded" });
  });

  it("is given what the node threw, as it is (not only Errors)", async () => {
    let given: unknown;
    const graph = new StateGraph(State)
      .addNode(
        "call",
        () => {
          throw { status: 503, message: "busy" };
        },
        {
          errorHandler: (_state, error) => {
            given = error.error;
            return {};
          },
        },
      )
      .addEdge(START, "call")
      .compile();
    await graph.invoke({ log: [] });
    expect(given).toEqual({ status: 503, message: "busy" });
  });
});

describe("setNodeDefaults({ errorHandler })", () => {
  it("handles every node without its own, as one node; a node's own takes precedence", async () => {
    const graph = new StateGraph(State)
      .setNodeDefaults({ errorHandler: (_state, error) => ({ log: [`default for ${error.node}`] }) })
      .addNode("a", () => {
        throw new Error("a failed");
      })
      .addNode(
        "b",
        () => {
          throw new Error("b failed");
        },
        { errorHandler: (_state, error) => ({ log: [`own for ${error.node}`] }) },
      )
      .addNode("c", () => ({ log: ["c ran"] }))
      .addEdge(START, "a")
      .addEdge(START, "b")
      .addEdge(START, "c")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    const chunks = await updatesOf(await graph.stream({ log: [] }, { ...config, streamMode: "updates" }));
    expect(chunks).toHaveLength(3);
    expect(chunks).toEqual(
      expect.arrayContaining([
        { __default_error_handler__: { log: ["default for a"] } },
        { __error_handler__b: { log: ["own for b"] } },
        { c: { log: ["c ran"] } },
      ]),
    );
    expect((await graph.getState(config)).values.log).toEqual(["default for a", "own for b", "c ran"]);
  });

  it("gives the handler the default retry policy", async () => {
    let attempts = 0;
    const graph = new StateGraph(State)
      .setNodeDefaults({ retryPolicy: { maxAttempts: 2, initialInterval: 1, jitter: false } })
      .addNode("a", declined, {
        errorHandler: () => {
          attempts += 1;
          if (attempts === 1) throw new Error("refund timed out");
          return { status: `refunded on attempt ${attempts}` };
        },
      })
      .addEdge(START, "a")
      .compile();
    expect(await graph.invoke({ log: [] })).toEqual({ log: [], status: "refunded on attempt 2" });
  });
});

describe("refused", () => {
  it("an errorHandler that is not a function, with the node not added", () => {
    const graph = new StateGraph(State);
    expect(() => graph.addNode("book", declined, { errorHandler: { onError: declined } as never })).toThrow(
      /Node "book": errorHandler must be a function/,
    );
    graph.addNode("book", declined).addEdge(START, "book");
    expect(() => graph.compile()).not.toThrow();
  });

  it("a node named as a handler's node", () => {
    const graph = new StateGraph(State)
      .addNode("book", declined, { errorHandler: () => ({}) })
      .addNode("__error_handler__book", () => ({}))
      .addEdge(START, "book");
    expect(() => graph.compile()).toThrow(/"__error_handler__book" has the name of an error handler's node/);
  });
});
