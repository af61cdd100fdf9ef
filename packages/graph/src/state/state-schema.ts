import type { z } from "zod";
import { type FieldCheck, type FieldSpec, STATE_DEFINITION, type StateDefinition } from "./definition.ts";
import { issueTexts } from "./issues.ts";

function check(schema: z.ZodType, value: unknown): FieldCheck {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const { texts, redacted } = issueTexts(schema, result.error.issues);
  return { ok: false, issues: texts, redacted };
}

function initialOf(schema: z.ZodType): () => unknown {
  return () => {
    const result = schema.safeParse(undefined);
    return result.success ? result.data : undefined;
  };
}

/** A state key with a reducer: `new ReducedValue(z.array(z.string()).default(() => []), { reducer })`. */
export class ReducedValue<V = unknown, U = V> {
  readonly schema: z.ZodType;
  readonly reducer: (current: V, update: U) => V;
  readonly inputSchema: z.ZodType | undefined;
  constructor(
    schema: z.ZodType<V>,
    options: { reducer: (current: V, update: U) => V; inputSchema?: z.ZodType<U> },
  ) {
    this.schema = schema;
    this.reducer = options.reducer;
    this.inputSchema = options.inputSchema;
  }
}

type SchemaField = z.ZodType | ReducedValue<any, any>;
type FieldValue<F> = F extends ReducedValue<infer V, any> ? V : F extends z.ZodType ? z.output<F> : never;
type FieldUpdate<F> = F extends ReducedValue<any, infer U> ? U : F extends z.ZodType ? z.input<F> : never;

/**
 * State declared with zod: `new StateSchema({ approved: z.boolean().default(false) })`.
 * A zod field keeps the last value written; a `ReducedValue` folds updates with its reducer.
 * Inputs are checked against the schemas before anything is written.
 */
export class StateSchema<T extends Record<string, SchemaField>> {
  declare readonly State: { [K in keyof T]: FieldValue<T[K]> };
  declare readonly Update: { [K in keyof T]?: FieldUpdate<T[K]> };
  readonly fields: T;
  private definition: StateDefinition | undefined;

  constructor(fields: T) {
    this.fields = fields;
  }

  [STATE_DEFINITION](): StateDefinition {
    if (this.definition !== undefined) return this.definition;
    const fields = new Map<string, FieldSpec>();
    for (const [key, field] of Object.entries(this.fields)) {
      if (field instanceof ReducedValue) {
        const updateSchema = field.inputSchema;
        fields.set(key, {
          reducer: field.reducer as FieldSpec["reducer"],
          initial: initialOf(field.schema),
          check: updateSchema === undefined ? undefined : (value) => check(updateSchema, value),
          schema: updateSchema,
        });
      } else {
        const schema = field as z.ZodType;
        fields.set(key, {
          reducer: undefined,
          initial: initialOf(schema),
          check: (value) => check(schema, value),
          schema,
        });
      }
    }
    this.definition = { fields };
    return this.definition;
  }
}
