// streamEvents' events of the LangChain chat models and tools nodes call (`on_chat_model_start`,
// `_stream`, `_end`; `on_tool_start`, `_end`, `_error`), in the shape LangChain's event stream
// gives them, heard through LangChain's callbacks (see langchain.ts).
import { type ChatModelStart, callbackHandler, lc, type ToolStart } from "../langchain.ts";
import type { FilteredEvent } from "./event-filters.ts";

type Meta = Record<string, unknown>;

/** An event of a chat model or tool call, as `streamEvents` yields it. */
export interface CallEvent {
  event:
    | "on_chat_model_start"
    | "on_chat_model_stream"
    | "on_chat_model_end"
    | "on_tool_start"
    | "on_tool_end"
    | "on_tool_error"
    | "on_custom_event";
  name: string;
  run_id: string;
  tags: string[];
  metadata: Meta;
  data: { input?: unknown; output?: unknown; chunk?: unknown; error?: unknown };
  parent_ids: string[];
}

interface Call {
  name: string;
  tags: string[];
  metadata: Meta;
  parent_ids: string[];
  input: unknown;
  /** Its first event's name (the filters' run type: `on_tool_start`). */
  started: CallEvent["event"];
}

/** What every event of `call` repeats. */
function shown(call: Call) {
  const { input: _input, started: _started, ...rest } = call;
  return rest;
}

/** A tool's input as LangChain's tracers keep it: the arguments object, else `{ input }`. */
function toolInput(input: string): unknown {
  try {
    const parsed: unknown = JSON.parse(input);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {
    // Not JSON: a string input.
  }
  return { input };
}

function errorText(error: unknown): string {
  return error instanceof Error
    ? `${error.message}${error.stack ? `\n\n${error.stack}` : ""}`
    : String(error);
}

/** A node's run as its start event shows it: what the custom events it dispatches carry. */
export interface NodeRun {
  event: string;
  name: string;
  run_id: string;
  tags: string[];
  metadata: Meta;
  parent_ids: string[];
}

/** Pushes an event; `run` is the run LangChain's filters judge it by (the event's own by default). */
export type PushEvent = (event: CallEvent, run?: FilteredEvent) => void;

/** The calls under way, and how their events are made. */
function callTracker(push: PushEvent, graphRun: string, nodeRun: (taskId: unknown) => NodeRun | undefined) {
  const calls = new Map<string, Call>();
  // The runs an event of that task's node descends from: the graph's, and the node's if streamed.
  const parents = (taskId: unknown) => {
    const node = nodeRun(taskId);
    return node === undefined ? [graphRun] : [graphRun, node.run_id];
  };
  return {
    /**
     * A `dispatchCustomEvent` under a model or tool call (`runId` its), or in a node's own code
     * (`runId` the node's chain run; the stream knows the node by its task id): LangChain's
     * `on_custom_event`, with that run's id, tags and metadata.
     */
    custom(name: string, data: unknown, runId: string, tags?: string[], metadata?: Meta) {
      const call = calls.get(runId);
      const taskId = metadata?.langgraph_task_id;
      // A subgraph's node (its chains are not streamed): its run as LangChain's manager tells it.
      const run: NodeRun = (call === undefined
        ? undefined
        : { event: call.started, run_id: runId, ...shown(call) }) ??
        nodeRun(taskId) ?? {
          event: "on_chain_start",
          name: String(metadata?.langgraph_node ?? name),
          run_id: runId,
          tags: tags ?? [],
          metadata: { ls_integration: "langgraph", ...metadata },
          parent_ids: parents(taskId),
        };
      const { run_id, tags: runTags, metadata: runMetadata, parent_ids } = run;
      // The payload as given, as LangChain's (its type names chunk/input/output: any data goes).
      const payload = data as CallEvent["data"];
      const event: CallEvent = {
        event: "on_custom_event",
        name,
        run_id,
        tags: runTags,
        metadata: runMetadata,
        data: payload,
        parent_ids,
      };
      // As LangChain's, the filters judge it by its run's name, type and tags.
      push(event, run);
    },
    inputOf: (runId: string) => calls.get(runId)?.input,
    forget: (runId: string) => calls.delete(runId),
    /** A call starts: its start event, and what its later events repeat. */
    begin(
      runId: string,
      event: CallEvent["event"],
      name: string,
      tags?: string[],
      metadata?: Meta,
      input?: unknown,
    ) {
      const call: Call = {
        name,
        tags: tags ?? [],
        metadata: { ls_integration: "langgraph", ...metadata },
        parent_ids: parents(metadata?.langgraph_task_id),
        input,
        started: event,
      };
      calls.set(runId, call);
      push({ event, run_id: runId, ...shown(call), data: { input } });
    },
    /** An event of a call under way; `done` when it is the call's last. */
    send(runId: string, event: CallEvent["event"], data: CallEvent["data"], done = false) {
      const call = calls.get(runId);
      if (call === undefined) return;
      if (done) calls.delete(runId);
      push({ event, run_id: runId, ...shown(call), data });
    },
  };
}

type Tracker = ReturnType<typeof callTracker>;

function chatModelMethods(t: Tracker, core: NonNullable<typeof lc>) {
  return {
    handleChatModelStart(...args: ChatModelStart) {
      const [llm, messages, runId, , , tags, metadata, runName] = args;
      t.begin(runId, "on_chat_model_start", runName ?? llm.id?.at(-1) ?? "chat_model", tags, metadata, {
        messages,
      });
    },
    handleLLMNewToken(
      token: string,
      _i: unknown,
      runId: string,
      _p: unknown,
      _t: unknown,
      fields?: { chunk?: { message?: unknown } },
    ) {
      const chunk = fields?.chunk?.message ?? new core.AIMessageChunk({ content: token, id: `run-${runId}` });
      t.send(runId, "on_chat_model_stream", { chunk });
    },
    handleLLMEnd(output: { generations?: { message?: unknown }[][] }, runId: string) {
      const message = output.generations?.find((generation) => generation[0] !== undefined)?.[0]?.message;
      t.send(runId, "on_chat_model_end", { output: message, input: t.inputOf(runId) }, true);
    },
    handleLLMError(_error: unknown, runId: string) {
      t.forget(runId);
    },
  };
}

function toolMethods(t: Tracker) {
  return {
    handleToolStart(...args: ToolStart) {
      const [tool, input, runId, , tags, metadata, runName] = args;
      t.begin(runId, "on_tool_start", runName ?? tool.id?.at(-1) ?? "tool", tags, metadata, toolInput(input));
    },
    handleToolEnd(output: unknown, runId: string) {
      t.send(runId, "on_tool_end", { output, input: t.inputOf(runId) }, true);
    },
    handleToolError(error: unknown, runId: string) {
      t.send(runId, "on_tool_error", { input: t.inputOf(runId), error: errorText(error) }, true);
    },
  };
}

/**
 * The callback handler that turns a run's model and tool calls, and the custom events its nodes
 * dispatch, into events for `push`; `graphRun` is the graph's run, `nodeRun(taskId)` that task's
 * node's (undefined for a subgraph's node, whose chains are not streamed). Undefined without
 * `@langchain/core`: nothing can call a model then.
 */
export function modelEvents(
  push: PushEvent,
  graphRun: string,
  nodeRun: (taskId: unknown) => NodeRun | undefined,
): object | undefined {
  if (lc === undefined) return undefined;
  const tracker = callTracker(push, graphRun, nodeRun);
  return callbackHandler({
    name: "LayoverStreamEvents",
    // As LangChain's event stream: a model invoked in a node streams, so its tokens are events.
    lc_prefer_streaming: true,
    ...chatModelMethods(tracker, lc),
    ...toolMethods(tracker),
    handleCustomEvent(name: string, data: unknown, runId: string, tags?: string[], metadata?: Meta) {
      tracker.custom(name, data, runId, tags, metadata);
    },
  });
}
