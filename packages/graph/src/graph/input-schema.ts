import { z } from "zod";
import type { StateDefinition } from "../state/definition.ts";

/**
 * The JSON Schema of a graph's input: an object of known state keys, each checked by its
 * field's zod schema when it has one (the input schema's, `input`, before the state's) (Annotation fields accept anything), none required.
 * Unknown keys are refused, as `invoke` refuses them. Made in one conversion, so definitions a
 * field refers to (a recursive `z.lazy`) sit at the root, where its `$ref`s point.
 */
export function inputJsonSchema(
  state: StateDefinition,
  keys?: readonly string[],
  input?: StateDefinition,
): Record<string, unknown> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of state.fields)
    if (keys === undefined || keys.includes(key))
      shape[key] = input?.fields.get(key)?.schema ?? field.schema ?? z.any();
  const schema = z.toJSONSchema(z.object(shape), { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  // An input is any subset of the state's keys.
  delete schema.required;
  return { ...schema, additionalProperties: false };
}
