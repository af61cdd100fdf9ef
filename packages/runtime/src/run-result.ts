// A settled run's result as its run event carries it: the worker that parked or finished the
// run announces what it stored (the head's state, the thread's pending interrupts as park_run
// returned them), so a producer's wait that hears the event answers without reading Postgres.
import { type Checkpoint, jsonSerializer } from "@layover/checkpoint";
import { entrypointValue, isInternalChannel } from "@layover/graph";
import type { RunEventResult } from "./jobs.ts";
import { type InterruptRow, interruptFromJson } from "./sql/interrupts.ts";

/**
 * The user's state in a checkpoint: its channels' values without the engine's own channels,
 * as a read of the stored checkpoint gives them (the channels that have a version); an
 * entrypoint's, its value (any JSON value: typed as a StateGraph's state, which it is not).
 */
export function checkpointState(
  checkpoint: Pick<Checkpoint, "channelValues" | "channelVersions"> | undefined,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  if (checkpoint === undefined) return values;
  const entrypoint = entrypointValue(checkpoint);
  if (entrypoint !== undefined) return entrypoint.value as Record<string, unknown>;
  for (const channel of Object.keys(checkpoint.channelVersions)) {
    if (!isInternalChannel(channel) && Object.hasOwn(checkpoint.channelValues, channel))
      values[channel] = checkpoint.channelValues[channel];
  }
  return values;
}

/**
 * The result a run event carries, or undefined when it would pass `maxBytes` (0: never): the
 * state encoded as the Postgres saver stores values (its default serializer, so a wait decodes
 * exactly what a read would), and the pending interrupts as rows.
 */
export function encodeRunResult(
  checkpoint: Checkpoint,
  pending: readonly InterruptRow[],
  maxBytes: number,
): RunEventResult | undefined {
  if (maxBytes <= 0) return undefined;
  const values = jsonSerializer.dumps(checkpointState(checkpoint));
  const size = Buffer.byteLength(values) + Buffer.byteLength(JSON.stringify(pending));
  // Rows as JSON gives them (timestamps as text): interruptFromJson reads them back.
  return size <= maxBytes
    ? { values, interrupts: pending as unknown as RunEventResult["interrupts"] }
    : undefined;
}

/** What a run event's result says: the state and the pending interrupts, as a read would give them. */
export function decodeRunResult(result: RunEventResult): {
  values: Record<string, unknown>;
  pending: InterruptRow[];
} {
  return {
    values: jsonSerializer.loads(result.values) as Record<string, unknown>,
    pending: result.interrupts.map(interruptFromJson),
  };
}
