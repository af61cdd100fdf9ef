// Node error handlers, as LangGraph.js 1.7.3's (`addNode(…, { errorHandler })`,
// `setNodeDefaults({ errorHandler })`): once a node's retry policy is exhausted its handler runs
// in its place, in the same superstep, with the node's input and a NodeError; its update (named
// after the handler) or Command applies instead and the node's edges do not fire. A handler that
// asks with interrupt() pauses, and a resume runs the handler again, never the node. The updates,
// events and final states were checked against LangGraph.js 1.7.3's; getState while a handler
// waits shows more than LangGraph's (the question, under the failed task with its error).
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  Annotation,
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

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  status: Annotation<string>,
});

const thread = (() => {
  let n = 0;
  return () => ({ configurable: { thread_id: `t${++n}` } });
})();

const declined = () => {
  throw new Error("card declined");
};

/** A graph whose "book" always fails, handled by `handle`; `runs` counts the node's runs and the handler's. */
function failingBook(runs: { book: number; handler: number }, handle: () => unknown) {
  return new StateGraph(State)
    .addNode(
      "book",
      () => {
        runs.book += 1;
        throw new Error("card declined");
      },
      {
        errorHandler: () => {
          runs.handler += 1;
          return handle();
        },
      },
    )
    .addEdge(START, "book")
    .compile({ checkpointer: new MemorySaver() });
}

async function updatesOf(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const chunks: unknown[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

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
    expect(events[2]?.error).toBe("Error: card declined");
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
