// A run's stream: what its nodes report as they run ("values", "updates", "custom", "messages", "tasks"),
// for producers' `runs.stream`. Workers append it to a Redis stream per run while they run it;
// it is a live view, kept for a while, never the truth: the run's end is read from Postgres.
import { jsonSerializer } from "@layover/checkpoint";
import { InvalidInputError } from "@layover/graph";

/** The stream modes a run started through the runtime can stream. */
export type RunStreamMode = "values" | "updates" | "custom" | "messages" | "tasks";

const MODES: ReadonlySet<unknown> = new Set<RunStreamMode>([
  "values",
  "updates",
  "custom",
  "messages",
  "tasks",
]);

/** Why a mode the engine knows is not streamed from workers, for the refusal. */
const NOT_STREAMED: Record<string, string> = {
  debug: '"debug" carries checkpoint events a worker does not report; stream "tasks" for its task events.',
  checkpoints: '"checkpoints" is not reported by workers; read threads.history for a thread\'s checkpoints.',
};

/**
 * How many entries a run's stream keeps (Redis trims the oldest beyond about this many): a run
 * that reports more keeps its latest. A reader that falls further behind misses the trimmed ones.
 */
export const RUN_STREAM_MAX_ENTRIES = 10_000;

/**
 * The largest chunk a worker sends (bytes, encoded): a larger one (a "values" chunk of a large
 * state) is left out with a warning, so that streaming cannot fill Redis, which BullMQ needs.
 */
export const RUN_STREAM_MAX_CHUNK_BYTES = 1024 * 1024;

/** How long a run's stream is kept after its last entry (ms): a reader may join or rejoin within it. */
export const RUN_STREAM_TTL_MS = 60 * 60 * 1000;

/** The entry a worker appends once the run parked, finished, failed or was cancelled. */
export const RUN_STREAM_END = "__end__";

/** The Redis key of run `runId`'s stream. */
export function runStreamKey(prefix: string, runId: string): string {
  return `${prefix}:run-stream:${runId}`;
}

/** One entry of a run's stream as Redis holds it: its mode (or RUN_STREAM_END) and its chunk, encoded. */
export interface RunStreamEntry {
  event: string;
  data: string;
}

/**
 * A chunk as a worker appends it: encoded as the Postgres saver stores values, so dates and the
 * like come back as they were. A subgraph's chunk has the event `"<mode>|<namespace>"`, as
 * LangGraph's server streams one (`"updates|child:<taskId>"`).
 */
export function encodeStreamChunk(
  mode: RunStreamMode,
  chunk: unknown,
  ns?: readonly string[],
): RunStreamEntry {
  const event = ns === undefined || ns.length === 0 ? mode : `${mode}|${ns.join("|")}`;
  return { event, data: jsonSerializer.dumps(chunk ?? null) };
}

/** A chunk as a reader gets it back. */
export function decodeStreamChunk(data: string): unknown {
  return jsonSerializer.loads(data);
}

/**
 * Refuses `streamMode` unless it is a mode (or a list of modes) workers stream; `where` names
 * the option in the error.
 */
export function checkRunStreamMode(streamMode: unknown, where: string): void {
  if (streamMode === undefined) return;
  const modes = Array.isArray(streamMode) ? streamMode : [streamMode];
  const unknown = modes.find((mode) => !MODES.has(mode));
  if (modes.length > 0 && unknown === undefined) return;
  const why =
    typeof unknown === "string" && Object.hasOwn(NOT_STREAMED, unknown) ? ` ${NOT_STREAMED[unknown]}` : "";
  throw new InvalidInputError(
    `${where} must be one of ${[...MODES].map((m) => `"${m}"`).join(", ")} or a non-empty list of them; ` +
      `got ${JSON.stringify(streamMode) ?? String(streamMode)}.${why} Nothing was written.`,
  );
}

/**
 * What a run streams (its start's or resume's `config.streamMode` and `streamSubgraphs`), or
 * undefined when it streams nothing.
 */
export function runStreamModes(input: object): { modes: RunStreamMode[]; subgraphs: boolean } | undefined {
  const config =
    "config" in input
      ? (input.config as { streamMode?: RunStreamMode | RunStreamMode[]; streamSubgraphs?: boolean })
      : undefined;
  const streamMode = config?.streamMode;
  if (streamMode === undefined) return undefined;
  return {
    modes: Array.isArray(streamMode) ? streamMode : [streamMode],
    subgraphs: config?.streamSubgraphs === true,
  };
}
