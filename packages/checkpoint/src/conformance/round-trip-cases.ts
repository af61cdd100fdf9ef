import { expect } from "vitest";

/** A value a saver must store and read back exactly. `make` builds a fresh copy each call. */
export interface RoundTripCase {
  name: string;
  make: () => unknown;
  /** Extra assertions beyond `toEqual(make())`. */
  check?: (actual: unknown) => void;
}

function expectUndefinedSlots(actual: unknown): void {
  expect(Array.isArray(actual)).toBe(true);
  const array = actual as unknown[];
  expect(array).toHaveLength(5);
  expect(array[0]).toBe(1);
  expect(array[1]).toBeUndefined();
  expect(array[2]).toBe("three");
  expect(array[3]).toBeNull();
  expect(array[4]).toBeUndefined();
}

export const roundTripCases: readonly RoundTripCase[] = [
  {
    name: "a Date",
    make: () => new Date("2024-02-29T12:34:56.789Z"),
    check: (actual) => {
      expect(actual).toBeInstanceOf(Date);
      expect((actual as Date).toISOString()).toBe("2024-02-29T12:34:56.789Z");
    },
  },
  {
    name: "a Map with non-string keys and special values",
    make: () =>
      new Map<unknown, unknown>([
        ["a", 1],
        [2, { b: [true] }],
        [null, new Date(0)],
      ]),
    check: (actual) => expect(actual).toBeInstanceOf(Map),
  },
  {
    name: "a Set",
    make: () => new Set<unknown>([1, "two", 3n, new Date(5)]),
    check: (actual) => expect(actual).toBeInstanceOf(Set),
  },
  {
    name: "a BigInt",
    make: () => 2n ** 70n + 1n,
    check: (actual) => expect(typeof actual).toBe("bigint"),
  },
  {
    name: "NaN",
    make: () => Number.NaN,
    check: (actual) => expect(Number.isNaN(actual)).toBe(true),
  },
  {
    name: "Infinity and -Infinity",
    make: () => [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
  },
  {
    name: "nested plain objects",
    make: () => ({ a: { b: { c: [1, { d: "e" }], f: null, g: false } }, h: 1.5, i: -0.25, j: "", k: [] }),
  },
  {
    name: "special values nested in objects, arrays, maps and sets",
    make: () => ({
      when: new Date(0),
      tags: new Set(["x", "y"]),
      byId: new Map([["k", { n: 10n, limits: [Number.POSITIVE_INFINITY, Number.NaN] }]]),
      list: [{ at: new Date(1_700_000_000_000) }],
    }),
  },
  {
    name: 'an object with its own "__lo" key',
    make: () => ({ __lo: "Date", v: "2020-01-01T00:00:00.000Z", other: { __lo: "Map" } }),
    check: (actual) => {
      expect(actual).not.toBeInstanceOf(Date);
      expect(Object.keys(actual as object).sort()).toEqual(["__lo", "other", "v"]);
    },
  },
  {
    name: "unicode strings",
    make: () => ({ "clé ✓": 'héllo wörld — 日本語 🚀 \u2028 👍🏽 \t\n"quoted" \\ back' }),
  },
  {
    name: "an array with undefined slots",
    make: () => [1, undefined, "three", null, undefined],
    check: expectUndefinedSlots,
  },
];

/** Asserts `actual` is what `testCase` made. */
export function expectRoundTrip(testCase: RoundTripCase, actual: unknown): void {
  expect(actual).toEqual(testCase.make());
  testCase.check?.(actual);
}
