import { describe, expect, it } from "vitest";
import { buildGraphSpec } from "../graph/build-spec.ts";
import { Annotation } from "../state/annotation.ts";
import { STATE_DEFINITION } from "../state/definition.ts";
import { appendHints, applyWrites } from "./apply-writes.ts";

const State = Annotation.Root({
  items: Annotation<unknown[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  sorted: Annotation<number[]>({ reducer: (a, b) => [...a, ...b].sort(), default: () => [] }),
  pushed: Annotation<unknown[]>({
    reducer: (a, b) => {
      a.push(...b);
      return [...a];
    },
    default: () => [],
  }),
  total: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
});

const spec = buildGraphSpec({
  name: "append-hints",
  state: State[STATE_DEFINITION](),
  nodes: new Map([["a", { name: "a", run: () => ({}), retryPolicy: undefined, isSubgraph: false }]]),
  edges: [["__start__", "a"]],
  joins: [],
  branches: new Map(),
});

describe("append hints", () => {
  it("names the base version and length of a list a reducer grew by appending", () => {
    const first = { a: 1 };
    const base = { values: { items: [first, "b"], total: 1 }, versions: { items: 4, total: 2 } };
    const out = applyWrites(spec, base, [[["items", ["c"]]], [["items", [{ d: 2 }]]], [["total", 1]]]);
    expect(out.values.items).toEqual([{ a: 1 }, "b", "c", { d: 2 }]);
    expect(out.appends).toEqual({ items: { baseVersion: 4, baseLength: 2 } });
    expect(appendHints(out, new Set())).toEqual({ items: { baseVersion: 4, baseLength: 2 } });
    expect(appendHints(out, new Set(["items"]))).toBeUndefined();
  });

  it("gives no hint when the old items are not kept in place, or the old list was changed in place", () => {
    const base = {
      values: { sorted: [3, 1], pushed: ["x"] },
      versions: { sorted: 1, pushed: 1 },
    };
    const out = applyWrites(spec, base, [[["sorted", [2]]], [["pushed", ["y"]]]]);
    expect(out.values.sorted).toEqual([1, 2, 3]);
    expect(out.values.pushed).toEqual(["x", "y"]);
    expect(out.appends).toEqual({});
  });

  it("gives no hint for a list never stored (no base version)", () => {
    const out = applyWrites(spec, { values: { items: ["a"] }, versions: {} }, [[["items", ["b"]]]]);
    expect(out.values.items).toEqual(["a", "b"]);
    expect(out.appends).toEqual({});
  });
});
