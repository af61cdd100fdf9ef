import { describe, expect, it } from "vitest";
import { jsonbProblem, unstorableText } from "./jsonb.ts";
import { InMemoryStore } from "./store/memory-store.ts";

describe("unstorableText", () => {
  it("finds a NUL character in a string, a key or an array item, and says where", () => {
    expect(unstorableText({ card: "4111", note: "scanned\u0000text" })?.path).toBe("note");
    expect(unstorableText({ items: [{ text: "ok" }, { text: "a\u0000" }] })?.path).toBe("items[1].text");
    expect(unstorableText({ "k\u0000": 1 })?.path).toBe("k\u0000");
    expect(unstorableText("\u0000")?.path).toBe("(the value)");
  });

  it("passes values Postgres can store", () => {
    expect(
      unstorableText({ a: ["x", 1, null, true], b: { c: "\\u0000 escaped in text is fine" } }),
    ).toBeUndefined();
  });
});

describe("jsonbProblem", () => {
  it("names half a surrogate pair and where it is", () => {
    expect(unstorableText({ name: "cut \ud83d" })).toEqual({ path: "name", holds: "surrogate" });
    expect(unstorableText({ ok: "whole \ud83d\ude00" })).toBeUndefined();
    expect(jsonbProblem({ name: "cut \ud83d" }, "The input")).toContain("half a surrogate pair at name");
  });

  it("names a value JSON would change or drop", () => {
    expect(jsonbProblem({ tags: new Map([["a", 1]]) }, "The input")).toContain(
      "$.tags is an instance of Map",
    );
    expect(jsonbProblem({ when: new Date(0) }, "The input")).toContain("date.toISOString()");
    expect(jsonbProblem({ big: 5n }, "The input")).toContain("a BigInt");
    expect(jsonbProblem({ a: [1, "x", null, { b: true }] }, "The input")).toBeUndefined();
  });
});

describe("a value nested thousands of levels deep", () => {
  const deep = (levels: number) => {
    let value: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < levels; i++) value = { inner: value };
    return value;
  };

  it("is refused with a message saying so, not a RangeError from the checks' recursion", () => {
    expect(jsonbProblem(deep(20_000), "The value")).toMatch(/^The value is nested too deeply to check/);
    expect(jsonbProblem(deep(1_000), "The value")).toBeUndefined();
  });

  it("is refused by a store's put with its typed error, the store unchanged", async () => {
    const store = new InMemoryStore();
    await expect(store.put(["deep"], "k", deep(20_000))).rejects.toMatchObject({
      code: "INVALID_STORE_OPERATION",
      message: expect.stringContaining("nested too deeply"),
    });
    expect(await store.get(["deep"], "k")).toBeNull();
  });
});
