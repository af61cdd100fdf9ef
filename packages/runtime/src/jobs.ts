import { wellFormed } from "@layover/checkpoint";
import { z } from "zod";

/** The one BullMQ queue of supersteps. */
export const STEP_QUEUE = "steps";

/** "Advance thread T from checkpoint C for run R" (C null: record the run's input first). */
export const StepJob = z.object({
  threadId: z.string(),
  runId: z.uuid(),
  checkpointId: z.string().nullable(),
  /** How many times reconciliation enqueued this step again after its job failed every attempt. */
  requeues: z.number().int().nonnegative().optional(),
  /**
   * How many times workers that could not run this job (a graph, a node or an input their
   * version lacks) put it straight back for another worker: up to five per attempt.
   */
  offers: z.number().int().nonnegative().optional(),
});
export type StepJob = z.infer<typeof StepJob>;

/**
 * The job id is a function of (thread, checkpoint, run): enqueuing the same step twice is a
 * no-op while the first job exists, and a stale duplicate is discarded by the worker (the
 * thread's head moved on). BullMQ job ids may not contain ":", so the thread id is encoded, as
 * Postgres spells it (half a surrogate pair as U+FFFD): a producer's and a worker's job for one
 * step get one id.
 */
export function stepJobId(job: StepJob): string {
  return `${encodeURIComponent(wellFormed(job.threadId))}.${job.checkpointId ?? "input"}.${job.runId}`;
}

/** Redis pub/sub channel on which workers announce that a run finished, failed or parked. */
export function runEventsChannel(prefix: string): string {
  return `${prefix}:run-events`;
}

/** Redis pub/sub channel on which producers tell workers that a run was cancelled. */
export function runCancelsChannel(prefix: string): string {
  return `${prefix}:run-cancels`;
}

/**
 * What a run that finished or parked stored, carried by its event up to the worker's size limit:
 * `values`, the head's state as the Postgres saver's default serializer writes it; `interrupts`,
 * the thread's pending interrupts once it parked (rows, in the order asked; none for a finish).
 */
export const RunEventResult = z.object({
  values: z.string(),
  interrupts: z.array(z.record(z.string(), z.unknown())),
});
export type RunEventResult = z.infer<typeof RunEventResult>;

export const RunEvent = z.object({
  runId: z.string(),
  threadId: z.string(),
  status: z.string(),
  /** The run's graph, on a park's event: a watch of another graph's interrupts is not woken. */
  graphId: z.string().optional(),
  result: RunEventResult.optional(),
});
export type RunEvent = z.infer<typeof RunEvent>;

/** A message on a run channel as a RunEvent; undefined for anything else published there. */
export function parseRunEvent(message: string): RunEvent | undefined {
  try {
    const parsed = RunEvent.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
