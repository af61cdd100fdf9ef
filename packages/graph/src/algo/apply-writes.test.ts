import { describe, expect, it } from "vitest";
import { buildGraphSpec } from "../graph/build-spec.ts";
import type { NodeSpec } from "../graph/spec.ts";
import { Overwrite } from "../overwrite.ts";
import { Annotation } from "../state/annotation.ts";
import { STATE_DEFINITION } from "../state/definition.ts";
import { expectThrowsCode } from "../testing/helpers.ts";
import { applyWrites } from "./apply-writes.ts";

const State = Annotation.Root({
  value: Annotation<string>(),
  total: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
});

function node(name: string): NodeSpec {
  return { name, run: () => ({}), retryPolicy: undefined, isSubgraph: false };
}

const spec = buildGraphSpec({
  name: "test",
  state: State[STATE_DEFINITION](),
  nodes: new Map(["a", "b", "c"].map((name) => [name, node(name)])),
  edges: [
    ["__start__", "a"],
    ["__start__", "b"],
  ],
  joins: [[["a", "b"], "c"]],
  branches: new Map(),
});

const base = { values: { value: "v", total: 1 }, versions: { value: 1, total: 1 } };

describe("applyWrites", () => {
  it("folds every task's writes through the reducer, in task order, and bumps only changed versions", () => {
    const out = applyWrites(spec, base, [[["total", 10]], [["total", 100]], []]);
    expect(out.values).toEqual({ value: "v", total: 111 });
    expect(out.versions).toEqual({ value: 1, total: 2 });
    expect([...out.changed]).toEqual(["total"]);
  });

  it("starts a reducer key without a default from its first write, as LangGraph does", () => {
    const Items = Annotation.Root({
      items: Annotation<string[]>({ reducer: (a, b) => a.concat(b) }),
      // LangGraph's older spelling of the reducer.
      n: Annotation<number>({ value: (a, b) => a + b }),
    });
    const bare = buildGraphSpec({
      name: "no-defaults",
      state: Items[STATE_DEFINITION](),
      nodes: new Map([["a", node("a")]]),
      edges: [["__start__", "a"]],
      joins: [],
      branches: new Map(),
    });
    const out = applyWrites(bare, { values: {}, versions: {} }, [
      [
        ["items", ["x"]],
        ["n", 2],
      ],
      [
        ["items", ["y"]],
        ["n", 3],
      ],
    ]);
    expect(out.values).toEqual({ items: ["x", "y"], n: 5 });
  });

  it("sets a reducer key to an Overwrite's value, dropping the writes after it; two are refused", () => {
    const out = applyWrites(spec, base, [[["total", 10]], [["total", new Overwrite(5)]], [["total", 100]]]);
    expect(out.values.total).toBe(5);
    // Its stored form (a pending write read back) counts as one too.
    expect(applyWrites(spec, base, [[["total", { __overwrite__: 7 }]]]).values.total).toBe(7);
    const error = expectThrowsCode(
      () => applyWrites(spec, base, [[["total", new Overwrite(1)]], [["total", new Overwrite(2)]]]),
      "INVALID_UPDATE",
    );
    expect(error.message).toContain("two Overwrite values");
  });

  it("refuses two writes to a last-value key from one superstep", () => {
    const error = expectThrowsCode(
      () => applyWrites(spec, base, [[["value", "a"]], [["value", "b"]]]),
      "INVALID_UPDATE",
    );
    expect(error.message).toContain('"value" received 2 values');
  });

  it("does not change its input", () => {
    applyWrites(spec, base, [
      [
        ["value", "w"],
        ["total", 5],
      ],
    ]);
    expect(base).toEqual({ values: { value: "v", total: 1 }, versions: { value: 1, total: 1 } });
  });

  it("makes a join available only once all its sources have written", () => {
    const join = "join:a+b:c";
    const first = applyWrites(spec, base, [[[join, "a"]]]);
    expect(first.available).toEqual([]);
    const second = applyWrites(spec, first, [[[join, "b"]]]);
    expect(second.available).toEqual([join]);
    const consumed = applyWrites(spec, second, [], [join]);
    expect(consumed.values[join]).toEqual([]);
  });

  it("collects Send packets instead of storing them as a channel", () => {
    const out = applyWrites(spec, base, [
      [["__tasks__", { node: "c", arg: 1 }]],
      [["__tasks__", { node: "c", arg: 2 }]],
    ]);
    expect(out.sends).toEqual([
      { node: "c", arg: 1 },
      { node: "c", arg: 2 },
    ]);
  });
});
