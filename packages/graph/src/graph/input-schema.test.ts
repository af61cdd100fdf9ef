import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Annotation } from "../state/annotation.ts";
import { STATE_DEFINITION } from "../state/definition.ts";
import { StateSchema } from "../state/state-schema.ts";
import { inputJsonSchema } from "./input-schema.ts";

/** What a producer without the graph's code checks inputs with: the JSON Schema read back by zod. */
const producerCheck = (schema: Record<string, unknown>) =>
  z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);

describe("inputJsonSchema (what workers register for producers)", () => {
  it("takes any subset of the state keys, checks each, and refuses unknown keys", () => {
    const state = new StateSchema({ n: z.number(), name: z.string().default("x") })[STATE_DEFINITION]();
    const check = producerCheck(inputJsonSchema(state));
    expect(check.safeParse({}).success).toBe(true);
    expect(check.safeParse({ n: 2 }).success).toBe(true);
    expect(check.safeParse({ n: "two" }).success).toBe(false);
    expect(check.safeParse({ other: 1 }).success).toBe(false);
    const annotated = Annotation.Root({ anything: Annotation<unknown>() })[STATE_DEFINITION]();
    expect(producerCheck(inputJsonSchema(annotated)).safeParse({ anything: [1, "a"] }).success).toBe(true);
  });

  it("holds a recursive field's definitions where its references find them", () => {
    type Tree = { label: string; children: Tree[] };
    const Tree: z.ZodType<Tree> = z.lazy(() => z.object({ label: z.string(), children: z.array(Tree) }));
    const state = new StateSchema({ tree: Tree.optional() })[STATE_DEFINITION]();
    const check = producerCheck(inputJsonSchema(state));
    expect(check.safeParse({ tree: { label: "a", children: [{ label: "b", children: [] }] } }).success).toBe(
      true,
    );
    expect(check.safeParse({ tree: { label: "a", children: [{ label: 1, children: [] }] } }).success).toBe(
      false,
    );
  });
});
