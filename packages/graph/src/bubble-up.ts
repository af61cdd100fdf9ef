/**
 * What a node throws to hand control to the engine rather than to fail: `interrupt()` pausing
 * it (GraphInterrupt), a Command for the parent graph (ParentCommand). As in LangGraph, a
 * catch-all in node or tool code should throw it on: `if (isGraphBubbleUp(error)) throw error`.
 *
 * It carries no stack trace: it is control flow, thrown on every pause, and capturing one
 * (async frames included) was ~6% of an in-process interrupt round trip (bench/README.md).
 */
export class GraphBubbleUp extends Error {
  constructor(message: string) {
    if (!stackTraceLimitWritable()) {
      super(message);
    } else {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        super(message);
      } finally {
        Error.stackTraceLimit = limit;
      }
    }
    this.name = "GraphBubbleUp";
  }

  /** What isGraphBubbleUp reads, as LangGraph's does (it holds across copies of this package). */
  get is_bubble_up(): boolean {
    return true;
  }
}

/** Whether `error` hands control to the engine (an interrupt, a Command for the parent graph). */
export function isGraphBubbleUp(error: unknown): error is GraphBubbleUp {
  return (error as { is_bubble_up?: unknown } | null | undefined)?.is_bubble_up === true;
}

/**
 * Whether Error.stackTraceLimit may be set: not where Error is frozen (`node
 * --frozen-intrinsics`, a hardened runtime), where setting it would throw and fail every pause.
 */
function stackTraceLimitWritable(): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit");
  if (descriptor === undefined) return Object.isExtensible(Error);
  return "writable" in descriptor ? descriptor.writable === true : descriptor.set !== undefined;
}
