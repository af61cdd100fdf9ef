import { randomUUID } from "node:crypto";
import { INTERRUPT } from "../constants.ts";
import { InvalidInputError } from "../errors.ts";
import { checkStreamModes, type Emitter, type StreamMode } from "../stream.ts";
import { CALL_VALUE, REPLAYED } from "../task-events.ts";
import type { RunnableConfig } from "./environment.ts";
import { checkedFilters, type FilteredEvent, passes } from "./event-filters.ts";
import { IterableReadableStream } from "./iterable-stream.ts";
import { type CallEvent, modelEvents } from "./model-events.ts";
import { streamRun } from "./stream-run.ts";

export interface StreamEventsConfig extends RunnableConfig {
  /** What the graph's `on_chain_stream` events carry. @defaultValue "updates", as `stream()` */
  streamMode?: StreamMode | StreamMode[];
  /** LangGraph's subgraph events: not supported, refused when true (as `stream()`). */
  subgraphs?: boolean;
  /** The event schema, as LangChain's `streamEvents`: only "v2" is built. Required, as there. */
  version: "v1" | "v2";
  /** LangChain's: "text/event-stream" gives the events as a server-sent event stream's bytes. */
  encoding?: "text/event-stream" | undefined;
}

/**
 * One event of `streamEvents(…, { version: "v2" })`, in LangChain's shape: the graph's run
 * (`name` is the graph's), each node's (`name` is the node's, `tags` its `graph:step:N`), and the
 * chat models' and tools' its nodes call (`name` is the model's or tool's).
 */
export interface StreamEvent {
  event: "on_chain_start" | "on_chain_stream" | "on_chain_end" | CallEvent["event"];
  name: string;
  run_id: string;
  tags: string[];
  metadata: Record<string, unknown>;
  data: { input?: unknown; output?: unknown; chunk?: unknown; error?: unknown };
  parent_ids: string[];
}

interface DebugEvent {
  type: string;
  step: number;
  payload: {
    id: string;
    name: string;
    input?: unknown;
    triggers?: string[];
    result?: unknown;
    error?: unknown;
    interrupts?: unknown[];
    [CALL_VALUE]?: unknown;
  };
}

/** Refuses what would change the events silently: another version. */
function checkEventsCall(config: Partial<StreamEventsConfig> | undefined) {
  if (config?.version !== "v2") {
    throw new InvalidInputError(
      `streamEvents() needs { version: "v2" } in its config (got ${JSON.stringify(config?.version)}): ` +
        'Layover builds LangChain\'s "v2" event schema only.',
    );
  }
  if (config.encoding !== undefined && config.encoding !== "text/event-stream")
    throw new InvalidInputError(
      `streamEvents() takes encoding "text/event-stream" (server-sent events) or none; got ${JSON.stringify(config.encoding)}.`,
    );
}

/**
 * `events` as LangChain's `encoding: "text/event-stream"` gives them: each an `event: data` whose
 * data is its JSON, then `event: end`, as bytes (a Response's body). Cancelled or returned, even
 * before its first read or with a read pending, it returns `events` at once, which stops the run
 * (not a generator: one never started, or suspended in a read, returns late or never).
 */
function serverSentEvents(events: IterableReadableStream<StreamEvent>): IterableReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let ended = false;
  return new IterableReadableStream<Uint8Array>({
    async next() {
      if (ended) return { done: true, value: undefined };
      const read = await events.next();
      if (!read.done)
        return { done: false, value: encoder.encode(`event: data\ndata: ${JSON.stringify(read.value)}\n\n`) };
      ended = true;
      return { done: false, value: encoder.encode("event: end\n\n") };
    },
    async return(value?: unknown) {
      ended = true;
      await events.return();
      return { done: true, value: value as Uint8Array };
    },
  });
}

/** The metadata LangGraph gives every event: the config's own, and its configurable's plain values. */
function baseMetadata(config: StreamEventsConfig): Record<string, unknown> {
  const plain = Object.entries(config.configurable ?? {}).filter(
    ([key, value]) => !key.startsWith("__") && key !== "checkpoint_id" && typeof value !== "object",
  );
  return { ...config.metadata, ls_integration: "langgraph", ...Object.fromEntries(plain) };
}

/** What the graph's end event carries: the state without a pause's interrupts; an entrypoint's value. */
function runOutput(result: unknown): unknown {
  if (typeof result !== "object" || result === null || Array.isArray(result)) return result;
  const { [INTERRUPT]: _asked, ...output } = result as Record<string, unknown>;
  return output;
}

/**
 * Turns a run's "debug" task events into node start and end events (tagged with the caller's tags
 * too); an entrypoint's node (`root`: its value's channel) ends with its value, as LangGraph's.
 */
function nodeEvents(
  base: Record<string, unknown>,
  tags: string[],
  parent: string,
  push: (event: StreamEvent) => void,
  started: Map<string, StreamEvent>,
  root: string | undefined,
  hits: Set<string>,
) {
  return (event: DebugEvent) => {
    const { type, step, payload } = event;
    // A task the node cache answered never runs, nor one that finished before a resume: no chain
    // events, as LangGraph's.
    if (type === "task" && (hits.delete(payload.id) || REPLAYED in payload)) return;
    if (type === "task") {
      const namespace = `${payload.name}:${payload.id}`;
      const start: StreamEvent = {
        event: "on_chain_start",
        name: payload.name,
        run_id: randomUUID(),
        tags: [`graph:step:${step}`, ...tags],
        metadata: {
          ...base,
          langgraph_step: step,
          langgraph_node: payload.name,
          langgraph_triggers: payload.triggers ?? [],
          langgraph_checkpoint_ns: namespace,
          checkpoint_ns: namespace,
        },
        data: { input: payload.input },
        parent_ids: [parent],
      };
      started.set(payload.id, start);
      push(start);
    } else if (type === "task_result") {
      const start = started.get(payload.id);
      started.delete(payload.id);
      // As LangGraph's: a node that paused or failed has no end event.
      if (start === undefined || payload.error != null || (payload.interrupts ?? []).length > 0) return;
      const result = payload.result as Record<string, unknown> | undefined;
      const output =
        CALL_VALUE in payload
          ? payload[CALL_VALUE]
          : root !== undefined && result !== undefined && root in result
            ? result[root]
            : result;
      push({ ...start, event: "on_chain_end", data: { output, input: start.data.input } });
    }
  };
}

/**
 * `push`, as @langchain/core's streamEvents yields: the first event that passes carries the
 * call's input (unfiltered, the graph's start carries it anyway), and its run's end carries none.
 */
function firstEventInput(input: unknown, push: (event: StreamEvent) => void) {
  let first: string | undefined;
  return (event: StreamEvent) => {
    if (first === undefined) {
      first = event.run_id;
      return push({ ...event, data: { ...event.data, input } });
    }
    if (event.run_id !== first || !event.event.endsWith("_end") || event.data.input === undefined)
      return push(event);
    const { input: _dropped, ...data } = event.data;
    push({ ...event, data });
  };
}

/**
 * LangChain's `streamEvents` v2 over a run: the graph's start, each node's start and end, the
 * graph's stream chunks (its `streamMode`, "updates" unless told) and its end with the state;
 * those of the runs LangChain's `filters` let through.
 */
export function streamEvents(
  of: { name: string; root: string | undefined },
  input: unknown,
  config: StreamEventsConfig,
  filters: unknown,
  run: (emit: Emitter, stop: AbortSignal) => Promise<unknown>,
): IterableReadableStream<StreamEvent> | IterableReadableStream<Uint8Array> {
  checkEventsCall(config);
  const filter = checkedFilters(filters);
  const requested = config.streamMode ?? "updates";
  const modes = Array.isArray(requested) ? requested : [requested];
  checkStreamModes(modes);
  const base = baseMetadata(config);
  const graph = { name: of.name, run_id: randomUUID(), tags: [...(config.tags ?? [])], metadata: base };
  const graphEvent = (event: StreamEvent["event"], data: StreamEvent["data"]): StreamEvent => ({
    event,
    ...graph,
    data,
    parent_ids: [],
  });
  const events = streamRun(modes, true, async (out, stop) => {
    const yielded = firstEventInput(input, (event: StreamEvent) => out.push("debug", event));
    const push = (event: StreamEvent, run: FilteredEvent = event) => {
      if (filter === undefined || passes(filter, run)) yielded(event);
    };
    const started = new Map<string, StreamEvent>();
    const hits = new Set<string>();
    const onTask = nodeEvents(base, graph.tags, graph.run_id, push, started, of.root, hits);
    const calls = modelEvents(push, graph.run_id, (taskId) => started.get(String(taskId)));
    const emit: Emitter = {
      ...(calls === undefined ? {} : { callbacks: [calls] }),
      modes: new Set<StreamMode>([...modes, "debug"]),
      hit: (taskId) => void hits.add(taskId),
      push(mode, chunk) {
        if (mode === "debug") onTask(chunk as DebugEvent);
        if (modes.includes(mode))
          push(graphEvent("on_chain_stream", { chunk: Array.isArray(requested) ? [mode, chunk] : chunk }));
      },
    };
    push(graphEvent("on_chain_start", { input }));
    push(graphEvent("on_chain_end", { output: runOutput(await run(emit, stop)) }));
  }) as IterableReadableStream<StreamEvent>;
  return config.encoding === "text/event-stream" ? serverSentEvents(events) : events;
}
