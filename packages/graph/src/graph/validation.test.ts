import { RunnableLambda } from "@langchain/core/runnables";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  BaseLangGraphError,
  Command,
  EmptyInputError,
  END,
  GraphValueError,
  InvalidInputError,
  InvalidResumeError,
  isInvalidResume,
  MemorySaver,
  START,
  StateGraph,
} from "../index.ts";
import { expectThrowsCode } from "../testing/helpers.ts";

const State = Annotation.Root({ value: Annotation<string>() });
const noop = () => ({});

describe("graph validation at compile()", () => {
  it("refuses an edge to a node the graph does not have, naming it and the fix", () => {
    const builder = new StateGraph(State).addNode("a", noop).addEdge(START, "a").addEdge("a", "b");
    const error = expectThrowsCode(() => builder.compile(), "INVALID_GRAPH");
    expect(error.name).toBe("InvalidGraphError");
    expect(error.message).toContain('"b"');
    expect(error.message).toContain('addNode("b", fn)');
  });

  it("refuses an edge from a node the graph does not have", () => {
    const builder = new StateGraph(State).addNode("a", noop).addEdge(START, "a").addEdge("ghost", "a");
    expect(expectThrowsCode(() => builder.compile(), "INVALID_GRAPH").message).toContain('"ghost"');
  });

  it("refuses a join with an unknown source", () => {
    const builder = new StateGraph(State).addNode("a", noop).addEdge(START, "a").addEdge(["a", "ghost"], END);
    expect(expectThrowsCode(() => builder.compile(), "INVALID_GRAPH").message).toContain('"ghost"');
  });

  it("refuses a conditional edge whose path map names an unknown node", () => {
    const builder = new StateGraph(State)
      .addNode("a", noop)
      .addEdge(START, "a")
      .addConditionalEdges("a", () => "go", { go: "ghost" });
    expect(expectThrowsCode(() => builder.compile(), "INVALID_GRAPH").message).toContain('"ghost"');
  });

  it("refuses a graph with no path from START, suggesting the entry edge", () => {
    const builder = new StateGraph(State).addNode("a", noop).addEdge("a", END);
    const error = expectThrowsCode(() => builder.compile(), "INVALID_GRAPH");
    expect(error.message).toContain("no path from START");
    expect(error.message).toContain('addEdge(START, "a")');
  });

  it("accepts a conditional entry point from START", () => {
    const graph = new StateGraph(State)
      .addNode("a", noop)
      .addConditionalEdges(START, () => "a")
      .compile();
    expect(graph.name).toBe("LangGraph");
  });

  it("refuses reserved and duplicate node names", () => {
    expectThrowsCode(() => new StateGraph(State).addNode(START, noop), "INVALID_GRAPH");
    expectThrowsCode(() => new StateGraph(State).addNode("a:b", noop), "INVALID_GRAPH");
    const error = expectThrowsCode(
      () => new StateGraph(State).addNode("a", noop).addNode("a", noop),
      "INVALID_GRAPH",
    );
    expect(error.message).toContain("already");
  });

  it("refuses LangGraph options it does not support instead of ignoring them or failing later", async () => {
    const error = expectThrowsCode(
      () => new StateGraph(State).addNode("a", noop).addEdge(START, "a").compile({ checkpointer: true }),
      "INVALID_GRAPH",
    );
    expect(error.message).toContain("checkpointer: true");
    const graph = new StateGraph(State).addNode("a", noop).addEdge(START, "a").compile();
    expect(() => graph.streamEvents({}, { version: "v2", subgraphs: true } as never)).toThrow(
      expect.objectContaining({ code: "INVALID_INPUT", message: expect.stringContaining("subgraphs: true") }),
    );
  });

  it("refuses a breakpoint on a node the graph does not have", () => {
    const builder = new StateGraph(State).addNode("a", noop).addEdge(START, "a");
    const error = expectThrowsCode(() => builder.compile({ interruptBefore: ["ghost"] }), "INVALID_GRAPH");
    expect(error.message).toContain("interruptBefore");
  });

  it("refuses a state that is neither a StateSchema nor an Annotation.Root", () => {
    expectThrowsCode(() => new StateGraph({} as never), "INVALID_GRAPH");
  });
});

describe("Command", () => {
  it("refuses a Command with nothing in it", () => {
    const error = expectThrowsCode(() => new Command({}), "EMPTY_COMMAND");
    expect(error.name).toBe("EmptyCommandError");
    expect(error.message).toContain("resume, update or goto");
  });

  it("accepts a falsy resume value", () => {
    expect(new Command({ resume: false }).resume).toBe(false);
    expect(new Command({ resume: null }).resume).toBe(null);
  });
});

describe("node options at addNode()", () => {
  it("refuses node options it cannot use", () => {
    const add = (options: object) => () => new StateGraph(State).addNode("agg", noop, options as never);
    expect(expectThrowsCode(add({ defer: "yes" }), "INVALID_GRAPH").message).toContain(
      'Node "agg": defer is true or false',
    );
    expect(expectThrowsCode(add({ input: "private" }), "INVALID_GRAPH").message).toContain(
      "input schema takes a StateSchema",
    );
    expect(expectThrowsCode(add({ cachePolicy: { ttl: 0 } }), "INVALID_GRAPH").message).toContain(
      "ttl is seconds above 0",
    );
    expect(expectThrowsCode(add({ retrypolicy: {} }), "INVALID_GRAPH").message).toContain(
      'unknown option "retrypolicy"',
    );
  });

  it("accepts LangGraph.js's tracePolicy (nothing for it to shape: nodes are not traced as runs)", () => {
    const graph = new StateGraph(State)
      .addNode("a", () => ({}), { tracePolicy: { inputs: false } })
      .addEdge(START, "a")
      .compile();
    expect(graph.spec.nodes.has("a")).toBe(true);
  });

  it("takes null options as none, as LangGraph.js does", () => {
    const graph = new StateGraph(State)
      .addNode("a", noop, null as never)
      .addEdge(START, "a")
      .compile();
    expect(graph.spec.nodes.has("a")).toBe(true);
  });

  it("accepts the options that change nothing here (metadata, subgraphs, defer: false)", () => {
    const graph = new StateGraph(State)
      .addNode("a", noop, { metadata: { team: "billing" }, subgraphs: [], defer: false } as never)
      .addEdge(START, "a")
      .compile();
    expect(graph.spec.nodes.has("a")).toBe(true);
  });
});

describe("addConditionalEdges, in LangGraph.js's forms", () => {
  const Routed = Annotation.Root({ value: Annotation<string>(), route: Annotation<string>() });
  const build = (add: (graph: StateGraph<typeof Routed>) => StateGraph<typeof Routed>) =>
    add(
      new StateGraph(Routed)
        .addNode("triage", () => ({}))
        .addNode("urgent", () => ({ value: "urgent" }))
        .addNode("later", () => ({ value: "later" }))
        .addEdge(START, "triage"),
    ).compile();

  it("takes { source, path, pathMap }, and a LangChain runnable as the router", async () => {
    const byObject = build((graph) =>
      graph.addConditionalEdges({
        source: "triage",
        path: (state) => (state.route === "now" ? "fast" : "slow"),
        pathMap: { fast: "urgent", slow: "later" },
      }),
    );
    expect((await byObject.invoke({ route: "now" })).value).toBe("urgent");
    expect((await byObject.invoke({ route: "whenever" })).value).toBe("later");
    const router = RunnableLambda.from((state: { route: string }) =>
      state.route === "now" ? "urgent" : "later",
    );
    const byRunnable = build((graph) => graph.addConditionalEdges("triage", router, ["urgent", "later"]));
    expect((await byRunnable.invoke({ route: "now" })).value).toBe("urgent");
  });

  it("refuses a router that is neither, naming the source", () => {
    expect(
      expectThrowsCode(
        () =>
          new StateGraph(Routed)
            .addNode("triage", () => ({}))
            .addConditionalEdges("triage", "urgent" as never),
        "INVALID_GRAPH",
      ).message,
    ).toContain('addConditionalEdges from "triage": the router must be a function');
  });
});

describe("LangGraph.js's error names", () => {
  it("a graph built wrong is a GraphValueError, and every Layover error a BaseLangGraphError", () => {
    const error = expectThrowsCode(
      () => new StateGraph(State).addEdge(START, "nowhere").compile(),
      "INVALID_GRAPH",
    );
    expect(error).toBeInstanceOf(GraphValueError);
    expect(error).toBeInstanceOf(BaseLangGraphError);
  });

  it("no input for a thread with no checkpoint is an EmptyInputError, an InvalidInputError, and nothing is stored", async () => {
    const saver = new MemorySaver();
    const graph = new StateGraph(State)
      .addNode("a", noop)
      .addEdge(START, "a")
      .compile({ checkpointer: saver });
    const config = { configurable: { thread_id: "never-started" } };
    for (const input of [null, undefined]) {
      const error = await graph.invoke(input, config).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(EmptyInputError);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error).toMatchObject({ name: "EmptyInputError", code: "INVALID_INPUT" });
      expect((error as Error).message).toContain('"never-started" has no checkpoint to continue from');
    }
    expect(await graph.getState(config)).toMatchObject({ values: {}, next: [] });
    expect(await saver.getTuple({ threadId: "never-started", ns: "" })).toBeUndefined();
  });

  it("isInvalidResume finds an InvalidResumeError, itself or as a cause", () => {
    const invalid = new InvalidResumeError("i-1", ["expected a boolean"]);
    expect(isInvalidResume(invalid)).toBe(true);
    expect(isInvalidResume(new Error("the agent's middleware failed", { cause: invalid }))).toBe(true);
    expect(isInvalidResume(new Error("something else"))).toBe(false);
    expect(isInvalidResume(Object.assign(new Error("a driver's"), { code: "INVALID_RESUME_X" }))).toBe(false);
  });
});
