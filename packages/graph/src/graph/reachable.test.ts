// A node nothing leads to is refused at compile, as LangGraph.js 1.7.3 refuses it (checked against
// it: the same graphs compile or throw its UnreachableNodeError there).
import { describe, expect, it } from "vitest";
import {
  Annotation,
  Command,
  END,
  GraphValueError,
  InvalidGraphError,
  MemorySaver,
  START,
  StateGraph,
  UnreachableNodeError,
} from "../index.ts";
import { expectThrowsCode } from "../testing/helpers.ts";

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
const say = (word: string) => () => ({ log: [word] });

function unreachable(compile: () => unknown): UnreachableNodeError {
  const error = expectThrowsCode(compile, "INVALID_GRAPH");
  expect(error).toBeInstanceOf(UnreachableNodeError);
  return error as UnreachableNodeError;
}

describe("a node nothing leads to", () => {
  it("is refused at compile with LangGraph's error, naming the node and the fix", () => {
    const builder = new StateGraph(State)
      .addNode("a", say("a"))
      .addNode("orphan", say("orphan"))
      .addEdge(START, "a")
      .addEdge("a", END);
    const error = unreachable(() => builder.compile());
    expect(error).toBeInstanceOf(GraphValueError);
    expect(error).toBeInstanceOf(InvalidGraphError);
    expect(error.name).toBe("UnreachableNodeError");
    expect(error.lc_error_code).toBe("UNREACHABLE_NODE");
    expect(error.node).toBe("orphan");
    expect(error.message).toContain('Node "orphan" is not reachable');
    expect(error.message).toContain("path map");
    expect(error.message).toContain('ends: ["orphan"]');
    const named = expectThrowsCode(() => builder.compile({ name: "bookings" }), "INVALID_GRAPH");
    expect(named.message).toContain('Node "orphan" of graph "bookings" is not reachable');
  });

  it("may be reached by a Command's goto once its source names it in ends, and runs", async () => {
    const route = () => new Command({ goto: "approve", update: { log: ["route"] } });
    const withoutEnds = new StateGraph(State)
      .addNode("route", route)
      .addNode("approve", say("approve"))
      .addEdge(START, "route");
    expect(unreachable(() => withoutEnds.compile()).node).toBe("approve");

    const graph = new StateGraph(State)
      .addNode("route", route, { ends: ["approve"] })
      .addNode("approve", say("approve"))
      .addEdge(START, "route")
      .compile();
    expect(await graph.invoke({})).toEqual({ log: ["route", "approve"] });
  });

  it("is reached by a join, a router's path map, or any router without one", () => {
    const joined = new StateGraph(State)
      .addNode("a", say("a"))
      .addNode("b", say("b"))
      .addNode("c", say("c"))
      .addEdge(START, "a")
      .addEdge(START, "b")
      .addEdge(["a", "b"], "c");
    expect(() => joined.compile()).not.toThrow();

    const mapped = (pathMap: Record<string, string>) =>
      new StateGraph(State)
        .addNode("a", say("a"))
        .addNode("yes", say("yes"))
        .addNode("no", say("no"))
        .addEdge(START, "a")
        .addConditionalEdges("a", () => "y", pathMap);
    expect(() => mapped({ y: "yes", n: "no" }).compile()).not.toThrow();
    expect(unreachable(() => mapped({ y: "yes", n: END }).compile()).node).toBe("no");

    // Without a path map a router may return any node: all of them count, but not its own source.
    const unmapped = new StateGraph(State)
      .addNode("a", say("a"))
      .addNode("b", say("b"))
      .addEdge(START, "b")
      .addConditionalEdges("a", () => END);
    expect(unreachable(() => unmapped.compile()).node).toBe("a");
    expect(() => unmapped.addConditionalEdges("b", () => END).compile()).not.toThrow();
  });

  it("is not looked for in a graph with error handlers, whose Commands may go anywhere (as LangGraph)", () => {
    const builder = new StateGraph(State)
      .addNode("charge", say("charge"), { errorHandler: () => new Command({ goto: "refund" }) })
      .addNode("refund", say("refund"))
      .addEdge(START, "charge");
    expect(() => builder.compile()).not.toThrow();
    // Its ends still name nodes, as LangGraph checks them there too.
    builder.addNode("typo", say("typo"), { ends: ["refnud"] });
    expect(expectThrowsCode(() => builder.compile(), "INVALID_GRAPH").message).toContain('"refnud"');
  });

  it("is reached by a router whose path map is null, as one without a path map", async () => {
    const graph = new StateGraph(State)
      .addNode("a", say("a"))
      .addNode("b", say("b"))
      .addEdge(START, "a")
      .addConditionalEdges("a", () => "b", null as never)
      .compile();
    expect(await graph.invoke({})).toEqual({ log: ["a", "b"] });
  });

  it("refuses ends naming a node the graph does not have, and a subgraph node's ends count", async () => {
    const typo = new StateGraph(State)
      .addNode("route", () => new Command({ goto: "aprove" }), { ends: ["aprove"] })
      .addEdge(START, "route");
    const error = expectThrowsCode(() => typo.compile(), "INVALID_GRAPH");
    expect(error.message).toContain('Node "route"\'s ends names "aprove", which is not a node');

    // A subgraph's node goes to its parent's "target" (Command.PARENT): the parent names it.
    const inner = new StateGraph(State)
      .addNode("inner", () => new Command({ graph: Command.PARENT, goto: "target" }))
      .addEdge(START, "inner")
      .compile();
    const graph = new StateGraph(State)
      .addNode("sub", inner, { ends: ["target"] })
      .addNode("target", say("target"))
      .addEdge(START, "sub")
      .compile({ checkpointer: new MemorySaver() });
    const result = await graph.invoke({}, { configurable: { thread_id: "parent-goto" } });
    expect(result.log).toEqual(["target"]);
  });
});

describe("the builder's other forms keep a node's options", () => {
  const route = () => new Command({ goto: "c" });

  it("addSequence's list form: [name, fn, options]", async () => {
    const graph = new StateGraph(State)
      .addSequence([
        ["a", route, { ends: ["c"] }],
        ["b", say("b")],
      ])
      .addNode("c", say("c"))
      .addEdge(START, "a")
      .compile();
    expect(await graph.invoke({})).toEqual({ log: ["b", "c"] });
  });

  it("addNode's list form, as LangGraph.js's, and setEntryPoint / setFinishPoint", async () => {
    const graph = new StateGraph(State)
      .addNode([
        ["a", route, { ends: ["c"] }],
        ["c", say("c")],
      ])
      .setEntryPoint("a")
      .setFinishPoint("c")
      .compile();
    expect(await graph.invoke({})).toEqual({ log: ["c"] });
  });
});

describe("addNode's ends", () => {
  it("is a list of node names; anything else is refused and the node is not added", () => {
    const builder = new StateGraph(State).addEdge(START, "route");
    for (const ends of ["approve", [1], { approve: "approve" }, new Set([1])]) {
      const error = expectThrowsCode(
        () => builder.addNode("route", () => new Command({ goto: "approve" }), { ends: ends as never }),
        "INVALID_GRAPH",
      );
      expect(error.message).toContain(
        'ends lists the nodes its Commands may go to, such as ["approve", "reject"]',
      );
    }
    // As LangGraph takes it, a Set of names too.
    const graph = builder
      .addNode("route", () => new Command({ goto: "approve" }), { ends: new Set(["approve"]) as never })
      .addNode("approve", say("approve"));
    expect(() => graph.compile()).not.toThrow();
  });
});
