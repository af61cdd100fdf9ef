// A graph's schemas, as LangGraph.js takes them: the state, and optionally an input schema (what
// invoke accepts), an output schema (what it returns) and nodes' own input schemas (what a node
// sees, private keys among them). The graph stores every key of all of them; each reader sees
// the keys of its schema.
import { InvalidGraphError } from "../errors.ts";
import { Annotation } from "../state/annotation.ts";
import {
  type FieldSpec,
  STATE_DEFINITION,
  type StateDefinition,
  type StateDefinitionLike,
  type ZodStateLike,
} from "../state/definition.ts";
import { StateSchema } from "../state/state-schema.ts";
import type { GraphSpec } from "./spec.ts";

/** LangGraph's key for a state that is one value, not an object of keys. */
const ROOT_CHANNEL = "__root__";

/** A graph's channels and who sees which: undefined where a reader sees every key. */
export interface StateViews {
  /** Every key of every schema. */
  state: StateDefinition;
  /** The keys nodes see unless they declare their own input schema: the state schema's. */
  nodeKeys: readonly string[] | undefined;
  /** The keys invoke's input may hold: the input schema's. */
  inputKeys: readonly string[] | undefined;
  /** The keys invoke returns: the output schema's, else the state schema's. */
  outputKeys: readonly string[] | undefined;
  /** The input schema, when one is given apart from the state: it checks an input first. */
  input: StateDefinition | undefined;
}

/**
 * The schemas `new StateGraph(…)` was given: the state's, and input and output schemas where
 * given (an input schema that is the state, given as both or alone, is the state's).
 */
export interface GraphSchemas {
  state: StateDefinition;
  input?: StateDefinition | undefined;
  output?: StateDefinition | undefined;
}

const sameReducer = (a: FieldSpec, b: FieldSpec) => a.reducer === b.reducer || b.reducer === undefined;

/**
 * Every key of `definitions`, the first definition of a key kept. A key a later schema gives
 * another reducer is refused, as LangGraph refuses a channel of two types; a later plain key
 * (no reducer) reads the same channel.
 */
export function mergedState(definitions: readonly StateDefinition[]): StateDefinition {
  const fields = new Map<string, FieldSpec>();
  for (const definition of definitions) {
    for (const [key, field] of definition.fields) {
      const known = fields.get(key);
      if (known === undefined) fields.set(key, field);
      else if (!sameReducer(known, field))
        throw new InvalidGraphError(
          `Channel "${key}" already exists with a different type: the state, input, output and node input schemas give "${key}" different reducers. Give it one reducer, in one schema.`,
        );
    }
  }
  return { fields };
}

/** `keys` when they differ from every key of `all`; undefined when a reader sees them all. */
function narrowed(keys: Iterable<string>, all: StateDefinition): readonly string[] | undefined {
  const list = [...keys];
  return list.length === all.fields.size && list.every((key) => all.fields.has(key)) ? undefined : list;
}

/** Who sees which keys of a graph with `schemas` and nodes' own input schemas. */
export function stateViews(schemas: GraphSchemas, nodeInputs: readonly StateDefinition[]): StateViews {
  const state = mergedState([
    schemas.state,
    ...(schemas.input ? [schemas.input] : []),
    ...(schemas.output ? [schemas.output] : []),
    ...nodeInputs,
  ]);
  return {
    state,
    nodeKeys: narrowed(schemas.state.fields.keys(), state),
    inputKeys: schemas.input
      ? narrowed(schemas.input.fields.keys(), state)
      : narrowed(schemas.state.fields.keys(), state),
    outputKeys: narrowed((schemas.output ?? schemas.state).fields.keys(), state),
    input: schemas.input,
  };
}

/** `state`'s entries under `keys` (all of them for undefined): what a reader of those keys sees. */
/**
 * The state as getState and "values" show it: the state itself, or a root graph's (an
 * `entrypoint`'s) value, null before it has one (as LangGraph's).
 */
export function rootView(spec: Pick<GraphSpec, "root">, state: Record<string, unknown>): unknown {
  return spec.root === undefined ? state : (state[spec.root.output] ?? null);
}

export function viewOf(
  state: Record<string, unknown>,
  keys: readonly string[] | undefined,
): Record<string, unknown> {
  if (keys === undefined) return state;
  const view: Record<string, unknown> = {};
  for (const key of keys) if (Object.hasOwn(state, key)) view[key] = state[key];
  return view;
}

/** Whether `value` is a state schema (a StateSchema, an Annotation.Root) rather than options. */
export function isDefinition(value: unknown): value is StateDefinitionLike {
  return typeof (value as StateDefinitionLike | null)?.[STATE_DEFINITION] === "function";
}

/** A zod object (`z.object({...})`), by its shape: zod 4 objects carry `shape` and `_zod`. */
function isZodObject(value: object): value is ZodStateLike {
  return "_zod" in value && "shape" in value && typeof value.shape === "object" && value.shape !== null;
}

/** A schema in the forms LangGraph.js takes: a StateSchema, an Annotation.Root or a z.object({...}). */
export function definitionOf(schema: unknown, role = "new StateGraph(state)"): StateDefinition {
  if (isDefinition(schema)) return schema[STATE_DEFINITION]();
  if (typeof schema === "object" && schema !== null && isZodObject(schema)) {
    if ((schema._zod.def.checks ?? []).length > 0)
      throw new InvalidGraphError(
        `${role} with z.object({...}).refine(...): a check on the whole state is not applied between supersteps; check each key (z.number().max(5)) or check in the node that writes.`,
      );
    return new StateSchema(schema.shape as never)[STATE_DEFINITION]();
  }
  throw new InvalidGraphError(
    `${role} takes a StateSchema (new StateSchema({...})), an Annotation.Root({...}) or a z.object({...}).`,
  );
}

/** LangGraph.js's object form: `{ state | stateSchema, input?, output? }`, or `{ input, output }`. */
interface GraphInit {
  state?: unknown;
  stateSchema?: unknown;
  input?: unknown;
  output?: unknown;
}

const INIT_KEYS = new Set(["state", "stateSchema", "input", "output"]);

function isInit(value: unknown): value is GraphInit {
  if (typeof value !== "object" || value === null || isDefinition(value) || isZodObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => INIT_KEYS.has(key));
}

/** `new StateGraph({ channels })`: an object whose own keys include `channels` (not a schema). */
function isChannelsArgs(value: unknown): value is { channels: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    !isDefinition(value) &&
    !isZodObject(value) &&
    Object.hasOwn(value, "channels")
  );
}

const CHANNELS_FORM =
  "new StateGraph({ channels }) takes an object of keys, each { reducer, default } (or { value, default }) for a key that folds what nodes write, or null for one that keeps the last value written";

/**
 * LangGraph.js's oldest form (deprecated there), as its 1.7.3 reads it: a key given `{ reducer |
 * value, default? }` folds updates; any other (null, `{ default }` alone) keeps the last value
 * written, with no default. Channel objects (LastValue, Topic…) are not provided: refused, where
 * LangGraph makes each a last-value key whatever it was.
 */
function channelsDefinition(args: { channels: unknown }): StateDefinition {
  const { channels } = args;
  const others = Object.keys(args).filter((key) => key !== "channels");
  if (others.length > 0)
    throw new InvalidGraphError(`${CHANNELS_FORM}, and no other option; got ${others.join(", ")} beside it.`);
  if (
    typeof channels !== "object" ||
    channels === null ||
    Array.isArray(channels) ||
    Object.keys(channels).length === 0
  )
    throw new InvalidGraphError(
      `${CHANNELS_FORM}; got ${Array.isArray(channels) ? "an array" : String(channels && "{}")}.`,
    );
  const fields = Object.entries(channels).map(([key, spec]) => [key, channelField(key, spec)] as const);
  return Annotation.Root(Object.fromEntries(fields))[STATE_DEFINITION]();
}

function channelField(key: string, spec: unknown) {
  if (key === ROOT_CHANNEL)
    throw new InvalidGraphError(
      `new StateGraph({ channels }): a state of one value (${ROOT_CHANNEL}) is not supported; give the value a key of its own.`,
    );
  if (typeof spec !== "object" || spec === null) return Annotation();
  if ("lc_graph_name" in spec)
    throw new InvalidGraphError(
      `new StateGraph({ channels }): channel objects (LastValue, Topic, BinaryOperatorAggregate…) are not provided; give "${key}" { reducer, default } or null.`,
    );
  const {
    reducer,
    value,
    default: initial,
  } = spec as { reducer?: unknown; value?: unknown; default?: unknown };
  const fold = reducer || value;
  if (!fold) return Annotation();
  if (typeof fold !== "function" || (initial !== undefined && typeof initial !== "function"))
    throw new InvalidGraphError(
      `new StateGraph({ channels }): "${key}" needs a reducer function (current, update) => next and, if any, a default function () => initial value.`,
    );
  const folds = fold as (current: unknown, update: unknown) => unknown;
  return Annotation(
    initial === undefined ? { reducer: folds } : { reducer: folds, default: initial as () => unknown },
  );
}

/**
 * The schemas of `new StateGraph(first, second?)`: a state schema alone; `{ state | stateSchema,
 * input?, output? }` (without a state, the input schema is the state, as LangGraph's); or a state
 * schema and `{ input?, output? }`; or LangGraph.js's oldest form, `{ channels }`. Any other second
 * argument is the context schema (not read).
 */
export function graphSchemas(first: unknown, second?: unknown): GraphSchemas {
  if (isChannelsArgs(first)) return { state: channelsDefinition(first), input: undefined, output: undefined };
  const init: GraphInit = isInit(first) ? first : { state: first, ...(isInit(second) ? second : {}) };
  const given = init.state ?? init.stateSchema;
  if (given === undefined && init.input === undefined)
    throw new InvalidGraphError(
      "new StateGraph({ output }) needs a state or an input schema: new StateGraph({ state, input, output }) or new StateGraph({ input, output }).",
    );
  return {
    state: definitionOf(given ?? init.input),
    // Without a state schema (or given the same one), the input schema is the state, as LangGraph's.
    input:
      given === undefined || init.input === undefined || init.input === given
        ? undefined
        : definitionOf(init.input, "The graph's input schema"),
    output: init.output === undefined ? undefined : definitionOf(init.output, "The graph's output schema"),
  };
}
