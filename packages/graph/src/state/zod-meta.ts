// LangGraph.js's way to give a zod state's keys reducers and defaults ("@langchain/langgraph/zod"):
// a field is registered in `registry` with its meta (`z.array(z.string()).register(registry,
// { reducer: { fn }, default })`, or `withLangGraph(schema, meta)`), and a z.object of such
// fields is a graph's state. StateSchema reads the meta of each of its zod fields.
import { z } from "zod";

/** What a zod state field's registration says: its reducer, its default, extras for its JSON Schema. */
export interface SchemaMeta<TValue = any, TUpdate = TValue> {
  /** Shown in the field's JSON Schema by LangGraph's tooling (Studio); no effect on runs. */
  jsonSchemaExtra?: {
    langgraph_nodes?: string[];
    langgraph_type?: "prompt" | "messages";
    [key: string]: unknown;
  };
  /** Folds each write into the key's value; `schema` checks what is written (else the field's own). */
  reducer?: { schema?: z.ZodType<TUpdate>; fn: (current: TValue, update: TUpdate) => TValue };
  /** The key's value in a new thread (else the field's zod default, if it has one). */
  default?: () => TValue;
}

/**
 * The registry a zod state's fields are registered in, as LangGraph's: `schema.register(registry,
 * meta)`. A field is known by identity: register it last (`.default([]).register(registry, …)`),
 * since `.optional()` and the like make a new schema.
 */
export const registry = z.registry<RegisteredMeta>();

/**
 * SchemaMeta as the registry types it for the field registered: zod puts the field's own type in
 * for `$output` (a reducer over `string[]` folds `string[]`). The reducer's schema is typed by
 * what is used of it, so zod need not map a whole schema's type into the meta's.
 */
interface RegisteredMeta {
  jsonSchemaExtra?: SchemaMeta["jsonSchemaExtra"];
  reducer?: {
    schema?: { safeParse(value: unknown): unknown };
    fn: (current: z.core.$output, update: any) => z.core.$output;
  };
  default?: () => z.core.$output;
}

/** Registers `schema` with `meta` (replacing a registration it had) and returns it, as LangGraph's withLangGraph. */
export function withLangGraph<S extends z.ZodType>(schema: S, meta: SchemaMeta<z.output<S>, any>): S {
  registry.remove(schema);
  registry.add(schema, meta as never);
  return schema;
}

/**
 * The meta `schema` was registered with, if any: its own, as LangGraph reads it. Not zod's
 * `registry.get`, which adds the meta of the schema a clone was made from (`.describe()`,
 * `.max(3)`): a field so made keeps its last value in LangGraph, whatever its parent's reducer.
 */
export function schemaMeta(schema: z.ZodType): SchemaMeta | undefined {
  return registry._map.get(schema) as SchemaMeta | undefined;
}
