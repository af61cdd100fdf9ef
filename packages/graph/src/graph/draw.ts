// LangGraph.js's `getGraph()` / `getGraphAsync()`: the graph as @langchain/core's drawable Graph
// (`drawMermaid()`, `drawMermaidPng()`, `toJSON()`), laid out as LangGraph.js 1.7.3 lays out
// the same builder calls, so a ported graph draws the same: its static edges sorted by source,
// a conditional edge's path map (every node and END without one) dotted, a node's `ends`
// dotted, an implicit END after a node nothing leaves, breakpoints and tools in the nodes'
// metadata, and with `xray` the nodes of subgraphs in their place.
import { createRequire } from "node:module";
import type { Graph as CoreGraph, Node as CoreNode } from "@langchain/core/runnables/graph";
import { z } from "zod";
import { END, START } from "../constants.ts";
import { InvalidGraphError } from "../errors.ts";

/** A node as the builder was given it. */
export interface DrawnNode {
  key: string;
  metadata?: Record<string, unknown> | undefined;
  /** Where a Command it returns may go (`addNode(…, { ends })`). */
  ends?: readonly string[] | undefined;
  /** The names of its tools, for a ToolNode. */
  tools?: string[] | undefined;
  /** A subgraph node's graph (drawn in its place with `xray`). */
  subgraph?: Drawable | undefined;
  isErrorHandler?: boolean | undefined;
}

/** What a compiled graph keeps of its builder's calls to be drawn. */
export interface GraphDrawing {
  /** In LangGraph's order: a node's own error handler's node just before it. */
  nodes: readonly DrawnNode[];
  /** Static edges as added; a join's as one edge per source, after them. */
  edges: ReadonlyArray<readonly [string, string]>;
  /** Conditional edges: each one's path map (label → node), undefined without one. */
  branches: ReadonlyArray<{ source: string; ends: Readonly<Record<string, string>> | undefined }>;
}

export interface Drawable {
  getGraph(config?: DrawConfig): CoreGraph;
}

export interface DrawConfig {
  /** Draws subgraph nodes' own nodes in their place: true for all depths, a number for so many. */
  xray?: boolean | number;
}

/** An entrypoint (a root graph), as LangGraph.js draws it: `<name>Input` → `<name>` → `<name>Output`. */
export function drawRoot(name: string): CoreGraph {
  const { Graph } = coreGraphModule();
  const graph = new Graph();
  const input = graph.addNode({ schema: z.any(), name: `${name}Input` } as never);
  const node = graph.addNode(nodeData(name) as never);
  const output = graph.addNode({ schema: z.any(), name: `${name}Output` } as never);
  graph.addEdge(input, node);
  graph.addEdge(node, output);
  return graph;
}

const requireHere = createRequire(import.meta.url);

function coreGraphModule(): typeof import("@langchain/core/runnables/graph") {
  try {
    return requireHere("@langchain/core/runnables/graph");
  } catch {
    throw new InvalidGraphError(
      "getGraph() draws with @langchain/core's Graph, which is not installed: add @langchain/core to your dependencies.",
    );
  }
}

/** As LangGraph's: "subgraph" is a Mermaid keyword. */
function escaped(key: string): string {
  return key === "subgraph" ? `"${key}"` : key;
}

/** A node's data as core's Graph shows it (`toJSON()`): a runnable named as the node. */
function nodeData(key: string) {
  return { lc_runnable: true, lc_id: ["layover", "GraphNode"], name: key, getName: () => key };
}

function breakpointsOf(
  key: string,
  before: ReadonlySet<string> | "*",
  after: ReadonlySet<string> | "*",
): string | undefined {
  // LangGraph tests "*" as a string (`"*".includes(key)`): no node is marked.
  const isBefore = before !== "*" && before.has(key);
  const isAfter = after !== "*" && after.has(key);
  if (isBefore && isAfter) return "before,after";
  return isBefore ? "before" : isAfter ? "after" : undefined;
}

interface Ends {
  /** Where edges into a node go (a subgraph's first node with xray). */
  into: Map<string, CoreNode>;
  /** Where edges out of a node leave from (a subgraph's last node with xray). */
  from: Map<string, CoreNode>;
}

function addNodes(
  graph: CoreGraph,
  drawing: GraphDrawing,
  breakpoints: [ReadonlySet<string> | "*", ReadonlySet<string> | "*"],
  config: DrawConfig,
): Ends {
  const ends: Ends = { into: new Map(), from: new Map() };
  const xray = config.xray;
  for (const node of drawing.nodes) {
    const key = escaped(node.key);
    const metadata: Record<string, unknown> = { ...node.metadata };
    const interrupt = breakpointsOf(node.key, ...breakpoints);
    if (interrupt !== undefined) metadata.__interrupt = interrupt;
    if (node.tools !== undefined) metadata.__tools = node.tools;
    if (xray && node.subgraph !== undefined) {
      const inner = node.subgraph.getGraph({ ...config, xray: typeof xray === "number" ? xray - 1 : xray });
      inner.trimFirstNode();
      inner.trimLastNode();
      if (Object.keys(inner.nodes).length > 1) {
        const [first, last] = graph.extend(inner, key);
        if (first === undefined)
          throw new InvalidGraphError(`Could not draw subgraph "${node.key}": it has no single entry node.`);
        ends.into.set(key, { name: first.id, ...first } as CoreNode);
        // As LangGraph: a subgraph without a single last node (it ends in a branch) draws no edge out.
        if (last !== undefined) ends.from.set(key, { name: last.id, ...last } as CoreNode);
        continue;
      }
    }
    const added = graph.addNode(nodeData(key) as never, key, metadata);
    ends.into.set(key, added);
    ends.from.set(key, added);
  }
  return ends;
}

/** The graph `drawing` describes, as LangGraph.js 1.7.3's `getGraph()` draws it. */
export function drawGraph(
  drawing: GraphDrawing,
  breakpoints: [ReadonlySet<string> | "*", ReadonlySet<string> | "*"],
  config: DrawConfig = {},
): CoreGraph {
  const { Graph } = coreGraphModule();
  const graph = new Graph();
  const start = graph.addNode({ schema: z.any() } as never, START);
  const ends = addNodes(graph, drawing, breakpoints, config);
  ends.from.set(START, start);
  const drawn: Array<{ source: string; target: string; conditional: boolean }> = [];
  const addEdge = (source: string, target: string, label?: string, conditional = false) => {
    if (target === END && !ends.into.has(END))
      ends.into.set(END, graph.addNode({ schema: z.any() } as never, END));
    const from = ends.from.get(source);
    const into = ends.into.get(target);
    if (from === undefined) return;
    if (into === undefined)
      throw new InvalidGraphError(`Could not draw the edge to "${target}": it is not a node.`);
    drawn.push({ source, target, conditional });
    graph.addEdge(from, into, label !== target ? label : undefined, conditional);
  };
  for (const [source, target] of sortedAsLangGraph(drawing.edges)) addEdge(escaped(source), escaped(target));
  const keys = drawing.nodes.map((node) => node.key);
  for (const { source, ends: pathMap } of drawing.branches) {
    const targets: Readonly<Record<string, string>> =
      pathMap ??
      Object.fromEntries([
        ...keys.filter((key) => key !== source).map((key) => [escaped(key), escaped(key)]),
        [END, END],
      ]);
    for (const [label, target] of Object.entries(targets))
      addEdge(escaped(source), escaped(target), label, true);
  }
  for (const node of drawing.nodes)
    for (const target of node.ends ?? []) addEdge(escaped(node.key), escaped(target), undefined, true);
  addImplicitEnds(drawing, drawn, addEdge);
  return graph;
}

/**
 * LangGraph's sort of its edges by source, comparator and all: it moves an edge ahead only when
 * its source is smaller, so the order it leaves is the engine's (V8's) own; kept for the same
 * drawing.
 */
function sortedAsLangGraph(edges: ReadonlyArray<readonly [string, string]>) {
  return [...edges].sort(([a], [b]) => (a < b ? -1 : 0));
}

/** An END edge after each node a static edge reaches and nothing leaves (not an error handler's). */
function addImplicitEnds(
  drawing: GraphDrawing,
  drawn: ReadonlyArray<{ source: string; target: string; conditional: boolean }>,
  addEdge: (source: string, target: string) => void,
): void {
  const sources = new Set(drawn.map((edge) => edge.source));
  const targets = [
    ...new Set(drawn.filter((edge) => !edge.conditional && edge.target !== END).map((edge) => edge.target)),
  ].sort();
  for (const target of targets) {
    if (sources.has(target)) continue;
    if (drawing.nodes.find((node) => escaped(node.key) === target)?.isErrorHandler) continue;
    addEdge(target, END);
  }
}
