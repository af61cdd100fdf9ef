// interrupt()'s options, apart from interrupt() itself: what a node's config types its
// `interrupt` with (graph/spec.ts) without importing the engine's pause.
import type { z } from "zod";

export interface InterruptOptions<R = unknown> {
  /**
   * How long the interrupt may wait for an answer: milliseconds, or a string such as
   * "30s", "15m", "2h", "1d". When it passes, the runtime resumes the node with `onTimeout`.
   * @defaultValue none — the graph's default timeout applies, else the runtime's, else it waits forever.
   */
  timeout?: number | string;
  /**
   * The value `interrupt()` returns when the timeout passes (JSON).
   * @defaultValue the runtime's documented rejection object.
   */
  onTimeout?: unknown;
  /** A zod schema every resume value must satisfy; a bad value is refused before anything changes. */
  schema?: z.ZodType<R>;
}
