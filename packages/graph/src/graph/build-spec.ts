import { END, joinChannel, START, TASKS, triggerChannel } from "../constants.ts";
import { InvalidGraphError, UnreachableNodeError } from "../errors.ts";
import type { StateDefinition } from "../state/definition.ts";
import type { BranchSpec, ChannelSpec, GraphSpec, JoinSpec, NodeSpec } from "./spec.ts";
import type { StateViews } from "./state-views.ts";

export interface GraphParts {
  name: string;
  /** Every key of the graph. */
  state: StateDefinition;
  /** Who sees which keys, where not all of them (input, output, node input schemas). */
  views?: Omit<StateViews, "state"> | undefined;
  nodes: ReadonlyMap<string, NodeSpec>;
  edges: ReadonlyArray<readonly [string, string]>;
  joins: ReadonlyArray<readonly [readonly string[], string]>;
  branches: ReadonlyMap<string, readonly BranchSpec[]>;
}

function assertKnown(parts: GraphParts, name: string, role: string): void {
  if (role === "source" && name === START) return;
  if (role === "target" && name === END) return;
  if (!parts.nodes.has(name)) {
    const known = [...parts.nodes.keys()].join(", ") || "none";
    throw new InvalidGraphError(
      `Edge ${role} "${name}" is not a node of graph "${parts.name}". Nodes: ${known}. Add it with addNode("${name}", fn) or fix the edge.`,
    );
  }
}

/** A node's `ends` (where its Commands may go) names nodes of the graph, or END. */
function assertEndKnown(parts: GraphParts, node: string, target: string): void {
  if (target === END || parts.nodes.has(target)) return;
  const known = [...parts.nodes.keys()].join(", ");
  throw new InvalidGraphError(
    `Node "${node}"'s ends names "${target}", which is not a node of graph "${parts.name}". Nodes: ${known}. ` +
      `ends lists the nodes its Commands may go to: add "${target}" with addNode("${target}", fn), or fix the name.`,
  );
}

function validateBranchTargets(parts: GraphParts): void {
  for (const [source, branches] of parts.branches) {
    assertKnown(parts, source, "source");
    for (const branch of branches) {
      for (const target of Object.values(branch.pathMap ?? {})) assertKnown(parts, target, "target");
    }
  }
}

/**
 * As LangGraph.js's compile: every node is some edge's, join's, router's (its pathMap's, or any
 * node but its source without one) or `ends`' target, unless the graph has error handlers (whose
 * Commands may go anywhere). A node nothing leads to could never run.
 */
function validateReachable(parts: GraphParts): void {
  const nodes = [...parts.nodes.values()];
  const targets = new Set<string>();
  for (const node of nodes) {
    for (const target of node.ends ?? []) {
      assertEndKnown(parts, node.name, target);
      targets.add(target);
    }
  }
  if (nodes.some((node) => node.isErrorHandler)) return;
  for (const [, target] of parts.edges) targets.add(target);
  for (const [, target] of parts.joins) targets.add(target);
  for (const [source, branches] of parts.branches) {
    for (const branch of branches) {
      if (branch.pathMap == null) {
        for (const node of parts.nodes.keys()) if (node !== source) targets.add(node);
      } else for (const target of Object.values(branch.pathMap)) targets.add(target);
    }
  }
  for (const node of nodes)
    if (!targets.has(node.name)) throw new UnreachableNodeError(parts.name, node.name);
}

function validateEntry(parts: GraphParts): void {
  const hasEntry = parts.edges.some(([source]) => source === START) || parts.branches.has(START);
  if (!hasEntry) {
    throw new InvalidGraphError(
      `Graph "${parts.name}" has no path from START: add an entry edge, e.g. addEdge(START, "${[...parts.nodes.keys()][0] ?? "first"}").`,
    );
  }
}

function stateChannels(state: StateDefinition): Map<string, ChannelSpec> {
  const channels = new Map<string, ChannelSpec>();
  for (const [key, field] of state.fields) {
    channels.set(
      key,
      field.reducer !== undefined
        ? { kind: "reduce", reducer: field.reducer }
        : field.untracked?.guard === false
          ? { kind: "last", lastWins: true }
          : { kind: "last" },
    );
  }
  return channels;
}

function pushWrite(
  map: Map<string, Array<readonly [string, unknown]>>,
  source: string,
  write: readonly [string, unknown],
) {
  const list = map.get(source);
  if (list === undefined) map.set(source, [write]);
  else list.push(write);
}

function untrackedOf(state: StateDefinition): ReadonlySet<string> | undefined {
  const keys = [...state.fields].filter(([, field]) => field.untracked !== undefined).map(([key]) => key);
  return keys.length === 0 ? undefined : new Set(keys);
}

function deferredOf(nodes: ReadonlyMap<string, NodeSpec>): ReadonlySet<string> | undefined {
  const deferred = [...nodes.values()].filter((node) => node.defer === true).map((node) => node.name);
  return deferred.length === 0 ? undefined : new Set(deferred);
}

/** Checks a graph's parts and turns them into the channels and trigger tables supersteps run on. */
export function buildGraphSpec(parts: GraphParts): GraphSpec {
  for (const [source, target] of parts.edges) {
    assertKnown(parts, source, "source");
    assertKnown(parts, target, "target");
  }
  for (const [sources, target] of parts.joins) {
    for (const source of sources) assertKnown(parts, source, "source");
    assertKnown(parts, target, "target");
  }
  validateBranchTargets(parts);
  validateEntry(parts);
  validateReachable(parts);

  const { state } = parts;
  const { nodeKeys, inputKeys, outputKeys, input } = parts.views ?? {};
  const channels = stateChannels(state);
  const triggers = new Map<string, string[]>();
  for (const node of parts.nodes.keys()) {
    channels.set(triggerChannel(node), { kind: "trigger" });
    triggers.set(node, [triggerChannel(node)]);
  }
  channels.set(TASKS, { kind: "trigger" });
  const edgeWrites = new Map<string, Array<readonly [string, unknown]>>();
  for (const [source, target] of parts.edges) {
    if (target !== END) pushWrite(edgeWrites, source, [triggerChannel(target), true]);
  }
  const joins: JoinSpec[] = parts.joins.map(([sources, target]) => ({
    sources,
    target,
    channel: joinChannel(sources, target),
  }));
  for (const join of joins) {
    if (join.target === END) continue;
    channels.set(join.channel, { kind: "join", sources: join.sources });
    triggers.get(join.target)?.push(join.channel);
    for (const source of join.sources) pushWrite(edgeWrites, source, [join.channel, source]);
  }
  return {
    name: parts.name,
    state,
    nodes: parts.nodes,
    edgeWrites,
    branches: parts.branches,
    triggers,
    channels,
    deferred: deferredOf(parts.nodes),
    untracked: untrackedOf(state),
    stateKeys: [...state.fields.keys()],
    nodeKeys,
    inputKeys,
    outputKeys,
    input,
  };
}
