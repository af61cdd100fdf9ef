import { describe, expect, it } from "vitest";
import { nulPath } from "./jsonb.ts";

describe("nulPath", () => {
  it("finds a NUL character in a string, a key or an array item, and says where", () => {
    expect(nulPath({ card: "4111", note: "scanned\u0000text" })).toBe("note");
    expect(nulPath({ items: [{ text: "ok" }, { text: "a\u0000" }] })).toBe("items[1].text");
    expect(nulPath({ "k\u0000": 1 })).toBe("k\u0000");
    expect(nulPath("\u0000")).toBe("(the value)");
  });

  it("passes values Postgres can store", () => {
    expect(nulPath({ a: ["x", 1, null, true], b: { c: "\\u0000 escaped in text is fine" } })).toBeUndefined();
  });
});
