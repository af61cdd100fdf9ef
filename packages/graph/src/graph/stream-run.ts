import type { Emitter, StreamMode } from "../stream.ts";

/**
 * Runs `run` in the background and yields what it emits as it happens: chunks in
 * single-mode streams, `[mode, chunk]` pairs when several modes were asked for.
 * A run that throws ends the stream with that error.
 */
export function streamRun(
  modes: readonly StreamMode[],
  single: boolean,
  run: (emit: Emitter) => Promise<unknown>,
  subgraphs = false,
): AsyncIterableIterator<unknown> {
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
  run(emit).then(
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
  return iterate();
}
