import { type FieldSpec, STATE_DEFINITION, type StateDefinition } from "./definition.ts";

/** One key of an `Annotation.Root`. `V` is the stored value, `U` what nodes write. */
export interface AnnotationField<V, U = V> {
  readonly reducer: ((current: V, update: U) => V) | undefined;
  readonly default: (() => V) | undefined;
  /** Type-only marker. */
  readonly __types?: [V, U];
}

export type AnnotationReducerSpec<V, U> = (
  | { reducer: (current: V, update: U) => V }
  /** LangGraph's older spelling of `reducer`. */
  | { value: (current: V, update: U) => V }
) & { default?: () => V };

function annotation<V>(): AnnotationField<V, V>;
function annotation<V, U = V>(spec: AnnotationReducerSpec<V, U>): AnnotationField<V, U>;
function annotation<V, U>(spec?: AnnotationReducerSpec<V, U>): AnnotationField<V, U> {
  const reducer = spec === undefined ? undefined : "reducer" in spec ? spec.reducer : spec.value;
  return { reducer, default: spec?.default };
}

/** A key: `Annotation<T>()`, or `Annotation<T>` uncalled, as LangGraph.js's guides write it. */
type FieldLike = AnnotationField<any, any> | ((...args: any[]) => AnnotationField<any, any>);
type AnnotationFields = Record<string, FieldLike>;
type ValueOf<F> =
  F extends AnnotationField<infer V, any>
    ? V
    : F extends (...args: any[]) => AnnotationField<infer V, any>
      ? V
      : never;
type UpdateOfField<F> =
  F extends AnnotationField<any, infer U>
    ? U
    : F extends (...args: any[]) => AnnotationField<any, infer U>
      ? U
      : never;

/** State declared with annotations: `Annotation.Root({ vals: Annotation<string[]>({ reducer, default }) })`. */
export class AnnotationRoot<F extends AnnotationFields> {
  declare readonly State: { [K in keyof F]: ValueOf<F[K]> };
  declare readonly Update: { [K in keyof F]?: UpdateOfField<F[K]> };
  readonly spec: F;
  private definition: StateDefinition | undefined;

  constructor(spec: F) {
    this.spec = spec;
  }

  [STATE_DEFINITION](): StateDefinition {
    if (this.definition !== undefined) return this.definition;
    const fields = new Map<string, FieldSpec>();
    for (const [key, declared] of Object.entries(this.spec)) {
      // `Annotation<T>` uncalled is the function itself: a key that keeps the last value.
      const field = typeof declared === "function" ? annotation() : declared;
      const initial = field.default;
      fields.set(key, {
        reducer: field.reducer,
        initial: initial === undefined ? () => undefined : initial,
        check: undefined,
      });
    }
    this.definition = { fields };
    return this.definition;
  }
}

/**
 * `Annotation<T>()` declares a key that keeps the last value written;
 * `Annotation<T>({ reducer, default })` one that folds updates.
 */
export const Annotation = Object.assign(annotation, {
  Root<F extends AnnotationFields>(spec: F): AnnotationRoot<F> {
    return new AnnotationRoot(spec);
  },
});
