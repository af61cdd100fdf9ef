import type { z } from "zod";
import { type FieldCheck, type FieldSpec, STATE_DEFINITION, type StateDefinition } from "./definition.ts";
import { issueTexts } from "./issues.ts";
import { schemaMeta } from "./zod-meta.ts";

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

/**
 * A zod field: it keeps the last value written, unless it was registered with a reducer (as
 * LangGraph's "@langchain/langgraph/zod" registry: zod-meta.ts), which then folds what is written,
 * checked against the reducer's schema if it has one. Its meta's default, else its zod default,
 * is its value in a new thread.
 */
function zodField(schema: z.ZodType): FieldSpec {
  const meta = schemaMeta(schema);
  const initial = meta?.default ?? initialOf(schema);
  const written = meta?.reducer?.schema ?? schema;
  return {
    reducer: meta?.reducer?.fn,
    initial,
    check: (value) => check(written, value),
    schema: written,
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

/**
 * A state key that is never stored, as LangGraph's UntrackedValue: `new UntrackedValue(z.string())`.
 * It keeps the last value written while a run's supersteps run in one process (an `invoke`, a
 * worker's job) and may hold what no checkpoint can (a client, a cache); a checkpoint, a pending
 * write and history never have it, so a resumed run, or the next job, starts without it.
 * `guard` (default true): two writes to it in one superstep are refused; false keeps the last.
 */
export class UntrackedValue<V = unknown> {
  declare readonly ValueType: V;
  readonly schema: z.ZodType<V> | undefined;
  readonly guard: boolean;
  constructor(schema?: z.ZodType<V>, init: { guard?: boolean } = {}) {
    this.schema = schema;
    this.guard = init.guard ?? true;
  }
}

type SchemaField = z.ZodType | ReducedValue<any, any> | UntrackedValue<any>;
type FieldValue<F> =
  F extends ReducedValue<infer V, any>
    ? V
    : F extends UntrackedValue<infer V>
      ? V | undefined
      : F extends z.ZodType
        ? z.output<F>
        : never;
type FieldUpdate<F> =
  F extends ReducedValue<any, infer U>
    ? U
    : F extends UntrackedValue<infer V>
      ? V
      : F extends z.ZodType
        ? z.input<F>
        : never;

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
      } else if (field instanceof UntrackedValue) {
        const schema = field.schema;
        fields.set(key, {
          reducer: undefined,
          initial: schema === undefined ? () => undefined : initialOf(schema),
          check: schema === undefined ? undefined : (value) => check(schema, value),
          schema,
          untracked: { guard: field.guard },
        });
      } else {
        fields.set(key, zodField(field as z.ZodType));
      }
    }
    this.definition = { fields };
    return this.definition;
  }
}
