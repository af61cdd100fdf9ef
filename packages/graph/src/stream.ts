export type StreamMode = "values" | "updates" | "custom" | "debug";

/** Where a run reports what happens, for `stream()`. Absent for `invoke()`: nothing is built. */
export interface Emitter {
  modes: ReadonlySet<StreamMode>;
  push(mode: StreamMode, chunk: unknown): void;
}

export function debugEvent(type: string, step: number, payload: unknown) {
  return { type, step, timestamp: new Date().toISOString(), payload };
}
