import { z } from "zod";
import type { StateDefinition } from "../state/definition.ts";

/**
 * The JSON Schema of a graph's input: an object of known state keys, each checked by its
 * field's zod schema when it has one (Annotation fields accept anything). Unknown keys are
 * refused, as `invoke` refuses them.
 */
export function inputJsonSchema(state: StateDefinition): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, field] of state.fields) {
    properties[key] =
      field.schema === undefined ? {} : z.toJSONSchema(field.schema, { io: "input", unrepresentable: "any" });
  }
  return { type: "object", properties, additionalProperties: false };
}
