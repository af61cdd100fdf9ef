import { WaitTimeoutError } from "../errors.ts";
import type { RunStatus } from "../sql/runs.ts";
import type { ClientContext } from "./context.ts";
import { type RunResult, readRunResult, requireRun } from "./read.ts";
import type { RunEventHub } from "./run-events.ts";

/** A run has settled when it finished, failed, was cancelled, or parked waiting for a person. */
const SETTLED: ReadonlySet<RunStatus> = new Set(["success", "error", "cancelled", "interrupted"]);

/**
 * Pub/sub wakes the waiter; Postgres says what happened. Messages can be lost (a Redis
 * reconnect), so the run is also re-read at this slow interval.
 */
const SAFETY_RECHECK_MS = 2_000;

/** Resolves when the run settles: `{ status, values, interrupts }`. */
export async function waitForRun(
  ctx: ClientContext,
  hub: RunEventHub,
  runId: string,
  options: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let wake: () => void = () => {};
  const unlisten = await hub.listen(runId, () => wake());
  try {
    for (;;) {
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const run = await requireRun(ctx, runId);
      if (SETTLED.has(run.status)) return await readRunResult(ctx, run);
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(runId, timeoutMs);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        woken,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.min(left, SAFETY_RECHECK_MS));
        }),
      ]);
      clearTimeout(timer);
    }
  } finally {
    unlisten();
  }
}
