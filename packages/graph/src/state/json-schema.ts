import { z } from "zod";

/** Compiled schemas, by their JSON text: a few per graph and question, reused on every check. */
const compiled = new Map<string, z.ZodType>();
/** Past this many, the cache starts over (schemas come from stored rows, which an app can vary). */
const MAX_COMPILED = 1_000;

/**
 * A zod validator of a JSON Schema as stored (a graph's input schema, an interrupt's resume
 * schema): compiled once per schema text, for processes that check values without the graph's code.
 */
export function compiledJsonSchema(schema: unknown): z.ZodType {
  const key = JSON.stringify(schema);
  let validator = compiled.get(key);
  if (validator === undefined) {
    validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, validator);
  }
  return validator;
}
