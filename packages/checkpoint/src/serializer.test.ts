import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { afterEach, describe, expect, it, vi } from "vitest";
import { expectRoundTrip, roundTripCases } from "./conformance/round-trip-cases.ts";
import { isLayoverError, NotSerializableError } from "./errors.ts";
import { newCheckpointId } from "./ids.ts";
import { jsonSerializer } from "./serializer.ts";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function roundTrip(value: unknown): unknown {
  const text = jsonSerializer.dumps(value);
  expect(typeof text).toBe("string");
  return jsonSerializer.loads(text);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

function expectNotSerializable(value: unknown, pathPart: string): void {
  const error = thrown(() => jsonSerializer.dumps(value));
  expect(error).toBeInstanceOf(NotSerializableError);
  expect((error as NotSerializableError).code).toBe("NOT_SERIALIZABLE");
  expect(isLayoverError(error, "NOT_SERIALIZABLE")).toBe(true);
  expect((error as NotSerializableError).path).toContain(pathPart);
}

class Point {
  x: number;
  y: number;
  readonly at: Date;
  constructor(x: number, y: number) {
    this.x = x;
    this.y = y;
    this.at = new Date(0);
  }
  get sum(): number {
    return this.x + this.y;
  }
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

describe("jsonSerializer round trips", () => {
  for (const testCase of roundTripCases) {
    it(`round trips ${testCase.name}`, () => {
      expectRoundTrip(testCase, roundTrip(testCase.make()));
    });
  }

  it("round trips JSON primitives, null and undefined at the top level", () => {
    for (const value of ["", "text", 0, -12.5, 1e300, true, false, null]) {
      expect(roundTrip(value)).toBe(value);
    }
    expect(roundTrip(undefined)).toBeUndefined();
  });

  it("round trips -Infinity, Infinity and NaN at the top level", () => {
    expect(roundTrip(Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(roundTrip(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(roundTrip(Number.NaN)).toBeNaN();
  });

  it("round trips an invalid Date as an invalid Date", () => {
    const out = roundTrip({ when: new Date(Number.NaN) }) as { when: unknown };
    expect(out.when).toBeInstanceOf(Date);
    expect((out.when as Date).getTime()).toBeNaN();
  });

  it("round trips negative and huge BigInts", () => {
    expect(roundTrip(-(2n ** 128n))).toBe(-(2n ** 128n));
    expect(roundTrip({ n: 0n })).toEqual({ n: 0n });
  });
});

describe("jsonSerializer edge cases", () => {
  it("round trips Uint8Array bytes", () => {
    const bytes = new Uint8Array([0, 1, 127, 128, 255]);
    const out = roundTrip({ bytes }) as { bytes: unknown };
    expect(out.bytes).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.bytes as Uint8Array)).toEqual([0, 1, 127, 128, 255]);
  });

  it("reads an object key holding undefined back as absent", () => {
    const out = roundTrip({ a: 1, b: undefined }) as Record<string, unknown>;
    expect(out).toEqual({ a: 1 });
    expect(Object.hasOwn(out, "b")).toBe(false);
  });

  it("keeps strings that look like tags as strings", () => {
    const text = '{"__lo":"Date","v":"2020-01-01T00:00:00.000Z"}';
    expect(roundTrip(text)).toBe(text);
    expect(roundTrip({ __lo: text })).toEqual({ __lo: text });
  });

  it("keeps an own __lo key at any depth, including inside maps and arrays", () => {
    const make = () => ({ list: [{ __lo: "undef" }], map: new Map([["k", { __lo: "BigInt", v: "1" }]]) });
    const out = roundTrip(make()) as ReturnType<typeof make>;
    expect(out).toEqual(make());
    expect(out.list[0]).toEqual({ __lo: "undef" });
    expect(out.map.get("k")).toEqual({ __lo: "BigInt", v: "1" });
  });

  it("round trips deeply nested values", () => {
    let deep: unknown = { leaf: new Set([1n]) };
    for (let i = 0; i < 100; i++) deep = { child: deep, index: i };
    expect(roundTrip(deep)).toEqual(deep);
  });

  it("stores an object with toJSON as what toJSON returns", () => {
    const value = { toJSON: () => ({ stored: true }) };
    expect(roundTrip({ value })).toEqual({ value: { stored: true } });
  });

  it("writes valid JSON text", () => {
    const text = jsonSerializer.dumps({ d: new Date(0), m: new Map([[1, 2]]), n: Number.NaN, b: 1n });
    expect(() => JSON.parse(text)).not.toThrow();
  });
});

describe("jsonSerializer refuses what is not data", () => {
  it("throws NotSerializableError for a function at the top level", () => {
    expectNotSerializable(() => 1, "");
  });

  it("throws NotSerializableError for a nested function", () => {
    expectNotSerializable({ a: { callback: () => 1 } }, "callback");
    expectNotSerializable([1, function named() {}], "1");
    expectNotSerializable(new Map([["handler", () => 1]]), "1");
  });

  it("throws NotSerializableError for a symbol value", () => {
    expectNotSerializable(Symbol("top"), "");
    expectNotSerializable({ a: { marker: Symbol("nested") } }, "marker");
    expectNotSerializable(new Set([Symbol.iterator]), "0");
  });

  it("throws for a function hidden in an object with an own __lo key", () => {
    expectNotSerializable({ __lo: "x", run: () => 1 }, "");
  });
});

describe("jsonSerializer and class instances", () => {
  it("reads a class instance back as a plain object of its own fields", () => {
    const out = roundTrip(new Point(3, 4)) as Record<string, unknown>;
    expect(out).not.toBeInstanceOf(Point);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out).sort()).toEqual(["at", "x", "y"]);
    expect(out).toEqual({ x: 3, y: 4, at: new Date(0) });
    expect(out.at).toBeInstanceOf(Date);
    expect("norm" in out).toBe(false);
    expect("sum" in out).toBe(false);
  });

  it("reads class instances nested in containers back as plain objects", () => {
    const out = roundTrip({ points: [new Point(1, 2)], byName: new Map([["p", new Point(5, 6)]]) }) as {
      points: unknown[];
      byName: Map<string, unknown>;
    };
    expect(Object.getPrototypeOf(out.points[0])).toBe(Object.prototype);
    expect(out.points[0]).toEqual({ x: 1, y: 2, at: new Date(0) });
    expect(Object.getPrototypeOf(out.byName.get("p"))).toBe(Object.prototype);
  });
});

describe("newCheckpointId", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("embeds the current time in its first 48 bits", () => {
    const before = Date.now();
    const id = newCheckpointId();
    const after = Date.now();
    const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it("makes 10,000 unique UUIDv7 ids that sort in creation order", () => {
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(newCheckpointId());
    expect(new Set(ids).size).toBe(10_000);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });

  it("stays unique and ordered when the clock stands still past the 12-bit sequence", () => {
    vi.spyOn(Date, "now").mockReturnValue(Date.now());
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(newCheckpointId());
    expect(new Set(ids).size).toBe(10_000);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });

  it("stays ordered when the clock goes backwards", () => {
    const now = Date.now() + 10;
    vi.spyOn(Date, "now")
      .mockReturnValueOnce(now)
      .mockReturnValueOnce(now - 5_000)
      .mockReturnValueOnce(now - 5_000)
      .mockReturnValueOnce(now + 1);
    const ids = [newCheckpointId(), newCheckpointId(), newCheckpointId(), newCheckpointId()];
    expect(new Set(ids).size).toBe(4);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });
});

describe("LangChain messages", () => {
  it("come back as instances of their class, with their content, ids and tool calls", () => {
    const messages = [
      new HumanMessage({ content: "book a flight", id: "m1" }),
      new AIMessage({
        content: "",
        id: "m2",
        tool_calls: [{ id: "call-1", name: "book_flight", args: { to: "LIS" }, type: "tool_call" }],
      }),
      new ToolMessage({ content: "booked", tool_call_id: "call-1", id: "m3" }),
    ];
    const back = roundTrip({ messages }) as { messages: unknown[] };
    expect(back.messages[0]).toBeInstanceOf(HumanMessage);
    expect(back.messages[1]).toBeInstanceOf(AIMessage);
    expect(back.messages[2]).toBeInstanceOf(ToolMessage);
    expect(back.messages[1]).toMatchObject({
      id: "m2",
      tool_calls: [{ name: "book_flight", args: { to: "LIS" } }],
    });
    expect(back.messages[2]).toMatchObject({ content: "booked", tool_call_id: "call-1" });
  });

  it("leaves other LangChain-shaped objects as the data they are", () => {
    const lookalike = {
      lc: 1,
      type: "constructor",
      id: ["langchain_core", "messages", "isAIMessage"],
      kwargs: {},
    };
    expect(roundTrip(lookalike)).toEqual(lookalike);
    const secret = { lc: 1, type: "secret", id: ["OPENAI_API_KEY"] };
    expect(roundTrip(secret)).toEqual(secret);
  });
});

// A value that contains itself cannot be stored: refused as NOT_SERIALIZABLE (a run fails on it,
// its job not retried), and its message for logs names no key (the keys may be users' data).
describe("jsonSerializer refuses a value that contains itself", () => {
  const through = (wrap: (inner: Record<string, unknown>) => unknown) => {
    const value: Record<string, unknown> = {};
    value["alice@example.com"] = wrap(value);
    return value;
  };
  it.each([
    ["an object", (inner: Record<string, unknown>) => ({ inner })],
    [
      "a Map holding itself",
      () => {
        const map = new Map<string, unknown>();
        map.set("self", map);
        return map;
      },
    ],
    [
      "a Set holding itself",
      () => {
        const set = new Set<unknown>();
        set.add(set);
        return set;
      },
    ],
  ])("through %s", (_, wrap) => {
    const dumping = () => jsonSerializer.dumps(through(wrap));
    expect(dumping).toThrow(expect.objectContaining({ code: "NOT_SERIALIZABLE" }));
    try {
      dumping();
    } catch (error) {
      expect((error as { redactedMessage: string }).redactedMessage).toMatch(/contains itself/);
      expect((error as { redactedMessage: string }).redactedMessage).not.toContain("alice@example.com");
    }
  });
});

describe("jsonSerializer keeps an array's undefined items in their slots", () => {
  it("as undefined, not holes: `in`, map and forEach see them, nested and in Maps too", () => {
    const out = jsonSerializer.loads(
      jsonSerializer.dumps({
        list: [1, undefined, 3],
        nested: [[undefined], { a: [undefined, 2] }],
        map: new Map([["k", [undefined]]]),
      }),
    ) as { list: unknown[]; nested: [unknown[], { a: unknown[] }]; map: Map<string, unknown[]> };
    expect(out.list).toStrictEqual([1, undefined, 3]);
    expect(1 in out.list).toBe(true);
    expect(out.list.map((item) => typeof item)).toEqual(["number", "undefined", "number"]);
    expect(out.nested[0]).toStrictEqual([undefined]);
    expect(out.nested[1].a).toStrictEqual([undefined, 2]);
    expect(out.map.get("k")).toStrictEqual([undefined]);
  });
});
