// What getGraph() needs of a StateGraph's builder calls, kept as LangGraph.js keeps them: its
// nodes as an object (integer-like names first, a node's own error handler's node just before
// it), its plain edges in the order added, then its joins (`addEdge([a, b], c)`, one source too)
// as one edge per source, and its conditional edges by source, also as an object.
import type { DrawnNode, GraphDrawing } from "./draw.ts";
import { errorHandlerNode } from "./error-handlers.ts";
import type { BranchSpec } from "./spec.ts";

export class DrawingRecorder {
  private readonly nodes: Record<string, DrawnNode> = Object.create(null);
  private readonly edges: Array<readonly [string, string]> = [];
  private readonly joins: Array<readonly [readonly string[], string]> = [];

  /** A node; `isGraph` when the node itself is a compiled graph (xray draws it, whatever `subgraphs` says). */
  node(key: string, options: NodeDrawOptions, action: unknown, isGraph: (value: unknown) => boolean): void {
    if (options.errorHandler)
      this.nodes[errorHandlerNode(key)] = { key: errorHandlerNode(key), isErrorHandler: true };
    this.nodes[key] = {
      key,
      metadata: options.metadata,
      ends: options.ends,
      tools: toolNames(action),
      // As LangGraph's: a graph node is its own subgraph, else the last graph of its `subgraphs`.
      subgraph: (isGraph(action) ? [action] : (options.subgraphs ?? []).filter(isGraph)).at(
        -1,
      ) as DrawnNode["subgraph"],
    };
  }

  edge(source: string | readonly string[], target: string): void {
    if (typeof source === "string") this.edges.push([source, target]);
    else this.joins.push([source, target]);
  }

  drawing(branches: ReadonlyMap<string, readonly BranchSpec[]>): GraphDrawing {
    const bySource: Record<string, readonly BranchSpec[]> = Object.fromEntries(branches);
    return {
      nodes: Object.values(this.nodes),
      edges: [
        ...this.edges,
        ...this.joins.flatMap(([sources, target]) => sources.map((s) => [s, target] as const)),
      ],
      branches: Object.entries(bySource).flatMap(([source, list]) =>
        list.map((b) => ({ source, ends: b.pathMap })),
      ),
    };
  }
}

export interface NodeDrawOptions {
  metadata?: Record<string, unknown> | undefined;
  ends?: readonly string[] | undefined;
  subgraphs?: readonly unknown[] | undefined;
  errorHandler?: unknown;
}

/** The names of a node's tools (a ToolNode's), as LangGraph marks them; undefined for any other node. */
function toolNames(action: unknown): string[] | undefined {
  const tools = (action as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  if (!tools.every((tool) => typeof (tool as { name?: unknown })?.name === "string")) return undefined;
  return tools.map((tool) => (tool as { name: string }).name);
}
