import { describe, expect, it } from "vitest";
import { z } from "zod";
import { issueTexts, redactedPath } from "./issues.ts";

const Node = z.object({ name: z.string() });
const schema = z.object({
  bookings: z.record(z.string(), z.object({ price: z.number(), tags: z.array(z.string()) })).optional(),
  byId: z.map(z.string(), z.object({ seats: z.number() })).optional(),
  byCard: z.map(z.number(), z.object({ seats: z.number() })).optional(),
  pair: z.tuple([z.string(), z.object({ city: z.string() })]).optional(),
  either: z.union([z.object({ a: z.number() }), z.object({ b: z.number() })]).optional(),
  tree: z.lazy(() => Node).default({ name: "root" }),
  piped: z
    .object({ when: z.string() })
    .transform((v) => v.when)
    .optional(),
});

describe("redactedPath", () => {
  it.each([
    [
      ["bookings", "alice@example.com", "price"],
      ["bookings", "[key]", "price"],
    ],
    [
      ["bookings", "bob", "tags", 2],
      ["bookings", "[key]", "tags", "2"],
    ],
    [
      ["byId", "c-42", "seats"],
      ["byId", "[key]", "seats"],
    ],
    // A map's number keys are the user's data too (card numbers), not positions.
    [
      ["byCard", 4111111111111111, "seats"],
      ["byCard", "[key]", "seats"],
    ],
    [
      ["pair", 1, "city"],
      ["pair", "1", "city"],
    ],
    // A union's branches may name different keys: below it nothing is shown.
    [
      ["either", "a"],
      ["either", "[key]"],
    ],
    [
      ["tree", "name"],
      ["tree", "name"],
    ],
    [
      ["piped", "when"],
      ["piped", "when"],
    ],
    [
      ["nope", "deeper"],
      ["[key]", "[key]"],
    ],
  ])("shows %j as %j", (path, shown) => {
    expect(redactedPath(schema, path)).toEqual(shown);
  });
});

describe("issueTexts", () => {
  it("keeps the text as zod wrote it, and redacts record keys and unexpected keys for logs", () => {
    const strict = z.object({
      bookings: z.record(z.string(), z.number()),
      note: z.strictObject({ text: z.string() }),
    });
    const parsed = strict.safeParse({
      bookings: { "alice@example.com": "x" },
      note: { text: "t", "bob@x.com": 1 },
    });
    if (parsed.success) throw new Error("expected issues");
    expect(issueTexts(strict, parsed.error.issues)).toEqual({
      texts: [
        "bookings.alice@example.com: Invalid input: expected number, received string",
        'note: Unrecognized key: "bob@x.com"',
      ],
      redacted: ["bookings.[key]: Invalid input: expected number, received string", "note: Unrecognized key"],
    });
  });

  it("counts several unexpected keys without naming them", () => {
    const parsed = z.strictObject({}).safeParse({ a: 1, b: 2 });
    if (parsed.success) throw new Error("expected issues");
    expect(issueTexts(z.strictObject({}), parsed.error.issues).redacted).toEqual(["Unrecognized keys (2)"]);
  });
});
