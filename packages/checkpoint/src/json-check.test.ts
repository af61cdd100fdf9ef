import { describe, expect, it } from "vitest";
import { assertJsonSerialisable } from "./json-check.ts";

function expectThrowsCode(fn: () => unknown, code: string): Error & { code: string } {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect((error as { code?: unknown } | undefined)?.code, String(error)).toBe(code);
  return error as Error & { code: string };
}

function pathOf(value: unknown): string {
  const error = expectThrowsCode(() => assertJsonSerialisable(value, "The value"), "NOT_SERIALIZABLE");
  const path = (error as { path?: unknown }).path as string;
  expect(error.message).toContain(path);
  expect(error.message).toContain("The value must be JSON-serialisable");
  return path;
}

class WithMethods {
  amount = 1;
  total() {
    return this.amount;
  }
}

describe("assertJsonSerialisable", () => {
  it("accepts plain data, including null-prototype objects and undefined properties", () => {
    const bare = Object.assign(Object.create(null), { a: 1 });
    const value = {
      s: "x",
      n: 1.5,
      b: false,
      z: null,
      list: [1, "two", { three: [3] }],
      bare,
      gone: undefined,
    };
    expect(() => assertJsonSerialisable(value, "The value")).not.toThrow();
  });

  it("names the path of a function, a BigInt and a symbol", () => {
    expect(pathOf({ a: { callback: () => 1 } })).toBe("$.a.callback");
    expect(pathOf([1, 2n])).toBe("$[1]");
    expect(pathOf({ "odd key": Symbol("s") })).toBe('$["odd key"]');
  });

  it("names the path of a class instance with methods, a Date and a Map", () => {
    expect(pathOf({ money: new WithMethods() })).toBe("$.money");
    expect(pathOf({ when: [new Date(0)] })).toBe("$.when[0]");
    expect(pathOf(new Map())).toBe("$");
  });

  it("names where a cycle closes, but accepts a shared non-cyclic reference", () => {
    const node: { next?: unknown } = {};
    node.next = { back: node };
    expect(pathOf({ node })).toBe("$.node.next.back");
    const shared = { x: 1 };
    expect(() => assertJsonSerialisable({ a: shared, b: shared }, "The value")).not.toThrow();
  });

  it("names undefined inside an array and non-finite numbers", () => {
    expect(pathOf({ list: [1, undefined] })).toBe("$.list[1]");
    expect(pathOf({ ratio: Number.NaN })).toBe("$.ratio");
    expect(pathOf([Number.POSITIVE_INFINITY])).toBe("$[0]");
  });
});
