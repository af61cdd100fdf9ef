// getGraph() / getGraphAsync(), as LangGraph.js's: @langchain/core's drawable Graph, laid out as
// LangGraph.js 1.7.3 lays out the same builder calls. Each expected drawing is what LangGraph.js
// 1.7.3's drawMermaid() gave for the same graph.
import { describe, expect, it } from "vitest";
import { Annotation, Command, END, entrypoint, Send, START, StateGraph } from "../index.ts";

const State = Annotation.Root({ n: Annotation<number> });
const noop = () => ({});

/** A graph of nodes that write nothing, named `names`, with START → the first. */
function nodes(...names: string[]) {
  const graph = new StateGraph(State);
  for (const name of names) graph.addNode(name, noop);
  return graph.addEdge(START, names[0] as string);
}

/** Static, conditional (with and without a path map), join and Command edges; metadata, breakpoints, an error handler. */
function booking() {
  return new StateGraph(State)
    .addNode("plan", noop, { metadata: { owner: "ops" } })
    .addNode("approve", () => new Command({ goto: "book" }), { ends: ["book", END] })
    .addNode("book", noop, { errorHandler: noop })
    .addNode("revise", noop)
    .addNode("quote", noop)
    .addNode("subgraph", noop)
    .addNode("notify", noop)
    .addEdge(START, "plan")
    .addConditionalEdges("plan", () => "approve", { yes: "approve", no: "revise" })
    .addConditionalEdges("revise", () => "plan")
    .addConditionalEdges("quote", () => [new Send("notify", {})], ["notify"])
    .addEdge("book", END)
    .addEdge(START, "quote")
    .addEdge(["book", "quote"], "revise")
    .addEdge("approve", "subgraph")
    .compile({ interruptBefore: ["book"], interruptAfter: ["book", "revise"] });
}

function team() {
  const inner = nodes("inner_a", "inner_b").addEdge("inner_a", "inner_b").compile();
  return new StateGraph(State)
    .addNode("prep", noop)
    .addNode("team", inner)
    .addEdge(START, "prep")
    .addEdge("prep", "team")
    .addEdge("team", END)
    .compile();
}

describe("getGraph().drawMermaid()", () => {
  it("draws a graph's edges, path maps, ends, metadata and breakpoints as LangGraph.js does", async () => {
    expect((await booking().getGraphAsync()).drawMermaid()).toBe(BOOKING);
  });

  it("draws a subgraph node as one node, and with xray its nodes in its place", () => {
    expect(team().getGraph().drawMermaid()).toBe(TEAM_FLAT);
    expect(team().getGraph({ xray: true }).drawMermaid()).toBe(TEAM);
  });

  it("with xray, draws the subgraph a node calls from its code when the node names it in `subgraphs`", () => {
    const inner = team();
    const calling = new StateGraph(State)
      .addNode("team", (state, config) => inner.invoke(state, config), { subgraphs: [inner] })
      .addEdge(START, "team")
      .compile();
    expect(calling.getGraph({ xray: true }).drawMermaid()).toContain("team_prep(prep)");
    expect(calling.getGraph().drawMermaid()).not.toContain("team_prep");
  });

  it("draws a subgraph that ends in a branch with xray, with no edge out of it", () => {
    const inner = nodes("x", "y", "z")
      .addConditionalEdges("x", () => "y", ["y", "z"])
      .compile();
    const outer = new StateGraph(State).addNode("sub", inner).addEdge(START, "sub").compile();
    expect(outer.getGraph({ xray: true }).drawMermaid()).toBe(BRANCHING_SUBGRAPH);
  });

  it("draws a node that is a graph as itself with xray, whatever its `subgraphs` say", () => {
    const sequence = (a: string, b: string) => nodes(a, b).addEdge(a, b).compile();
    const graph = new StateGraph(State)
      .addNode("team", sequence("a1", "a2"), { subgraphs: [sequence("b1", "b2")] })
      .addEdge(START, "team")
      .compile();
    const drawn = graph.getGraph({ xray: true }).drawMermaid();
    expect(drawn).toContain("team_a1(a1)");
    expect(drawn).not.toContain("b1");
  });

  it("orders edges and nodes as LangGraph.js's objects do: a one-source join after plain edges, numbered nodes first", () => {
    const join = nodes("a", "b", "c").addEdge(["a"], "b").addEdge("a", "c").compile();
    expect(join.getGraph().drawMermaid()).toBe(ONE_SOURCE_JOIN);
    const numbered = new StateGraph(State)
      .addNode("a", noop)
      .addNode("7", noop)
      .addEdge(START, "a")
      .addConditionalEdges("a", () => "7", ["7"])
      .addConditionalEdges("7", () => "a", ["a"])
      .compile();
    expect(numbered.getGraph().drawMermaid()).toBe(NUMBERED);
  });

  it("draws an entrypoint as LangGraph.js does: its input, itself, its output", () => {
    expect(
      entrypoint("workflow", async (x: number) => x + 1)
        .getGraph()
        .drawMermaid(),
    ).toBe(WORKFLOW);
  });

  it("gives core's JSON of the graph: nodes with their metadata, edges with labels", () => {
    const json = booking().getGraph().toJSON();
    expect(json.nodes.find((node: { id: unknown }) => node.id === "plan")).toMatchObject({
      type: "runnable",
      data: { name: "plan" },
      metadata: { owner: "ops" },
    });
    expect(json.edges).toContainEqual({ source: "plan", target: "revise", data: "no", conditional: true });
  });
});

/** drawMermaid()'s text as LangGraph.js 1.7.3 gives it: its header, the body's lines, its class definitions. */
function mermaid(body: string[]): string {
  return [
    "%%{init: {'flowchart': {'curve': 'linear'}}}%%",
    "graph TD;",
    ...body,
    "\tclassDef default fill:#f2f0ff,line-height:1.2;",
    "\tclassDef first fill-opacity:0;",
    "\tclassDef last fill:#bfb6fc;",
    "",
  ].join("\n");
}

const BOOKING = mermaid([
  "\t__start__([<p>__start__</p>]):::first",
  "\tplan(plan<hr/><small><em>owner = ops</em></small>)",
  "\tapprove(approve)",
  "\t__error_handler__book(__error_handler__book)",
  "\tbook(book<hr/><small><em>__interrupt = before,after</em></small>)",
  "\trevise(revise<hr/><small><em>__interrupt = after</em></small>)",
  "\tquote(quote)",
  '\t_subgraph_("subgraph")',
  "\tnotify(notify)",
  "\t__end__(<p>__end__</p>)",
  "\t__start__ --> plan;",
  "\t__start__ --> quote;",
  "\tapprove --> _subgraph_;",
  "\tbook --> __end__;",
  "\tbook --> revise;",
  "\tquote --> revise;",
  "\tplan -. &nbsp;yes&nbsp; .-> approve;",
  "\tplan -. &nbsp;no&nbsp; .-> revise;",
  "\trevise -.-> plan;",
  "\trevise -.-> approve;",
  "\trevise -.-> __error_handler__book;",
  "\trevise -.-> book;",
  "\trevise -.-> quote;",
  "\trevise -.-> _subgraph_;",
  "\trevise -.-> notify;",
  "\trevise -.-> __end__;",
  "\tquote -.-> notify;",
  "\tapprove -.-> book;",
  "\tapprove -.-> __end__;",
  "\t_subgraph_ --> __end__;",
]);

const TEAM = mermaid([
  "\t__start__([<p>__start__</p>]):::first",
  "\tprep(prep)",
  "\tteam_inner_a(inner_a)",
  "\tteam_inner_b(inner_b)",
  "\t__end__([<p>__end__</p>]):::last",
  "\t__start__ --> prep;",
  "\tprep --> team_inner_a;",
  "\tteam_inner_b --> __end__;",
  "\tsubgraph team",
  "\tteam_inner_a --> team_inner_b;",
  "\tend",
]);

const TEAM_FLAT = mermaid([
  "\t__start__([<p>__start__</p>]):::first",
  "\tprep(prep)",
  "\tteam(team)",
  "\t__end__([<p>__end__</p>]):::last",
  "\t__start__ --> prep;",
  "\tprep --> team;",
  "\tteam --> __end__;",
]);

const WORKFLOW = mermaid([
  "\tworkflowInput([workflowInput]):::first",
  "\tworkflow(workflow)",
  "\tworkflowOutput([workflowOutput]):::last",
  "\tworkflowInput --> workflow;",
  "\tworkflow --> workflowOutput;",
]);

const BRANCHING_SUBGRAPH = mermaid([
  "\t__start__(<p>__start__</p>)",
  "\tsub_x(x)",
  "\tsub_y(y)",
  "\tsub_z(z)",
  "\t__end__(<p>__end__</p>)",
  "\t__start__ --> sub_x;",
  "\tsubgraph sub",
  "\tsub_x -.-> sub_y;",
  "\tsub_x -.-> sub_z;",
  "\tend",
]);

const ONE_SOURCE_JOIN = mermaid([
  "\t__start__([<p>__start__</p>]):::first",
  "\ta(a)",
  "\tb(b)",
  "\tc(c)",
  "\t__end__([<p>__end__</p>]):::last",
  "\t__start__ --> a;",
  "\ta --> c;",
  "\ta --> b;",
  "\tb --> __end__;",
  "\tc --> __end__;",
]);

const NUMBERED = mermaid([
  "\t7(7)",
  "\t__start__([<p>__start__</p>]):::first",
  "\ta(a)",
  "\t__start__ --> a;",
  "\t7 -.-> a;",
  "\ta -.-> 7;",
]);
