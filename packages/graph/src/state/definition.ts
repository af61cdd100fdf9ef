import type { z } from "zod";
/** Result of checking one value against a field's schema. */
export type FieldCheck =
  | { ok: true; value: unknown }
  | {
      ok: false;
      issues: string[];
      /** The issues as logs show them when payloads are redacted (state/issues.ts). */
      redacted: string[];
    };

/** One state key, normalised from StateSchema, ReducedValue or Annotation. */
export interface FieldSpec {
  /** Folds an update into the current value; absent = the key keeps the last value written. */
  reducer: ((current: any, update: any) => any) | undefined;
  /** The key's value in a new thread (`undefined` when it has no default). */
  initial: () => unknown;
  /** Checks a value given as input or through updateState; absent = anything goes. */
  check: ((update: unknown) => FieldCheck) | undefined;
  /** The zod schema `check` applies, when there is one: it becomes the graph's input JSON Schema. */
  schema?: import("zod").ZodType | undefined;
  /**
   * An UntrackedValue's: the key lives while a run's supersteps run in one process and is never
   * stored. `guard`: two writes in one superstep are refused (else the last is kept).
   */
  untracked?: { guard: boolean } | undefined;
}

export interface StateDefinition {
  fields: ReadonlyMap<string, FieldSpec>;
}

export const STATE_DEFINITION: unique symbol = Symbol.for("layover.stateDefinition");

/**
 * What `new StateGraph(x)` accepts: a StateSchema or an Annotation.Root. `State` and
 * `Update` exist only as types (`typeof MyState.State`).
 */
export interface StateDefinitionLike<S = any, U = any> {
  readonly State: S;
  readonly Update: U;
  [STATE_DEFINITION](): StateDefinition;
}

/**
 * A zod object as a graph's state (LangGraph.js's `new StateGraph(z.object({...}))`): a key keeps its
 * last value unless its field was registered with a reducer (state/zod-meta.ts).
 */
export type ZodStateLike = z.ZodObject<z.ZodRawShape>;

/** A schema in any form `new StateGraph` takes. */
type SchemaLike = StateDefinitionLike | ZodStateLike;

/** LangGraph.js's `new StateGraph({ state | stateSchema, input?, output? })`. */
export interface GraphInitOf {
  state?: SchemaLike;
  stateSchema?: SchemaLike;
  input?: SchemaLike;
  output?: SchemaLike;
}

/** The state schema of `new StateGraph({ … })`: the state's, else the input's. */
type StateSchemaOf<D extends GraphInitOf> = D extends { state: infer X }
  ? X
  : D extends { stateSchema: infer X }
    ? X
    : D extends { input: infer X }
      ? X
      : never;

/** One key of LangGraph.js's oldest form: a reducer (`value` is its older name), or null for the last value. */
export type ChannelSpecOf<V, U = V> =
  | { reducer: (current: V, update: U) => V; default?: () => V }
  | { value: (current: V, update: U) => V; default?: () => V }
  | null;

/** LangGraph.js's oldest form, `new StateGraph({ channels })` (its `StateGraphArgs<S>`). */
export interface ChannelsArgsOf<S = any> {
  channels: { [K in keyof S]: ChannelSpecOf<S[K], any> };
}

/** What `channels` holds in that form: each key's spec (a state type with a `channels` key is no such thing). */
type ChannelSpecs = Record<string, ChannelSpecOf<any, any> | undefined>;

/** `new StateGraph({ state | stateSchema, input?, output? })`, not a state type that has such keys among others. */
type IsInit<D> = D extends GraphInitOf
  ? [Exclude<keyof D, keyof GraphInitOf>] extends [never]
    ? true
    : false
  : false;

/** LangGraph.js's name for that form's argument (`StateGraphArgs<State>["channels"]` in its older guides). */
export type StateGraphArgs<S = any> = ChannelsArgsOf<S>;

type ChannelValue<C> = C extends { reducer: (current: infer V, update: any) => any }
  ? V
  : C extends { value: (current: infer V, update: any) => any }
    ? V
    : unknown;
type ChannelUpdate<C> = C extends { reducer: (current: any, update: infer U) => any }
  ? U
  : C extends { value: (current: any, update: infer U) => any }
    ? U
    : unknown;

export type StateOf<D> = D extends ZodStateLike
  ? z.output<D>
  : D extends StateDefinitionLike<infer S, any>
    ? S
    : D extends { channels: infer C extends ChannelSpecs }
      ? { [K in keyof C]: ChannelValue<C[K]> }
      : IsInit<D> extends true
        ? StateOf<StateSchemaOf<D & GraphInitOf>>
        : D;
export type UpdateOf<D> = D extends ZodStateLike
  ? Partial<z.input<D>>
  : D extends StateDefinitionLike<any, infer U>
    ? U
    : D extends { channels: infer C extends ChannelSpecs }
      ? { [K in keyof C]?: ChannelUpdate<C[K]> }
      : IsInit<D> extends true
        ? UpdateOf<StateSchemaOf<D & GraphInitOf>>
        : Partial<D>;
