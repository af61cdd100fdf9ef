import { currentTask } from "../context.ts";
import type { Emitter, StreamMode } from "../stream.ts";
import { IterableReadableStream } from "./iterable-stream.ts";

/**
 * Runs `run` in the background and yields what it emits as it happens: chunks in
 * single-mode streams, `[mode, chunk]` pairs when several modes were asked for.
 * A run that throws ends the stream with that error. A reader that stops before the end (a
 * `break` out of `for await`, a `return()`) aborts `stop`, which the run takes as its signal's
 * abort, as LangGraph's: nothing goes on in the background for a reader that left.
 */
export function streamRun(
  modes: readonly StreamMode[],
  single: boolean,
  run: (emit: Emitter, stop: AbortSignal) => Promise<unknown>,
  subgraphs = false,
): IterableReadableStream<unknown> {
  const stop = new AbortController();
  const queue: unknown[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const emit: Emitter = {
    modes: new Set(modes),
    // With subgraphs: LangGraph's [namespace, chunk] or [namespace, mode, chunk] ([] at the top).
    push(mode, chunk, ns) {
      if (!subgraphs) queue.push(single ? chunk : [mode, chunk]);
      else queue.push(single ? [ns ?? [], chunk] : [ns ?? [], mode, chunk]);
      notify();
    },
    ...(subgraphs ? { subgraphs } : {}),
  };
  run(emit, stop.signal).then(
    () => {
      finished = true;
      notify();
    },
    (error: unknown) => {
      failure = { error };
      finished = true;
      notify();
    },
  );
  async function* iterate(): AsyncGenerator<unknown> {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift();
        continue;
      }
      if (finished) {
        if (failure !== undefined) throw failure.error;
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }
  const chunks = iterate();
  const leave = () => {
    if (!finished) stop.abort(READER_STOPPED());
  };
  // Not a `finally` in iterate: a generator never started runs none on its return().
  return new IterableReadableStream({
    next: () => chunks.next(),
    return: (value?: unknown) => {
      leave();
      return chunks.return(value);
    },
  });
}

/** Why a stream's run was stopped: what its nodes' signal says. */
const READER_STOPPED = () =>
  Object.assign(
    new Error("The stream's reader stopped reading: the run stops after its superstep in flight."),
    {
      name: "AbortError",
    },
  );

/**
 * `config` with `stop` joined to the signal the run would have had (which `stop` leaves
 * unaborted): its own, else, for a subgraph streamed inside a node, its task's (the parent run's,
 * a node timeout's), which the subgraph takes when its config gives none.
 */
export function withStop<C extends { signal?: AbortSignal | undefined }>(
  config: C | undefined,
  stop: AbortSignal,
): C {
  const given = config?.signal ?? currentTask()?.signal;
  const signal = given === undefined ? stop : AbortSignal.any([given, stop]);
  return { ...(config as C), signal };
}
