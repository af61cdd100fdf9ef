import { INTERRUPT } from "./constants.ts";
import type { Interrupt } from "./interrupt.ts";

/** True when an `invoke` result paused: it then carries `__interrupt__`. */
export function isInterrupted<T>(value: T): value is T & { [INTERRUPT]: Interrupt[] } {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as Record<string, unknown>)[INTERRUPT])
  );
}
