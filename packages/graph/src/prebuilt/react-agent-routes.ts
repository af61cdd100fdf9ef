// Where createReactAgent's graph goes after its model, its post-model hook and its tools, as
// LangGraph's: to the tools while the model asks for them (one Send per call in "v2"), to the
// structured response or END once it answers, and back to the model after the tools unless a
// tool returns directly.
import { type BaseMessage, isAIMessage, isToolMessage, type ToolCall } from "@langchain/core/messages";
import { Send } from "../command.ts";
import { END } from "../constants.ts";

export const AGENT = "agent";
export const TOOLS = "tools";
export const PRE_MODEL_HOOK = "pre_model_hook";
export const POST_MODEL_HOOK = "post_model_hook";
export const STRUCTURED_RESPONSE = "generate_structured_response";

type AgentState = { messages: BaseMessage[]; [key: string]: unknown };

export interface RouteOptions {
  version: "v1" | "v2";
  /** Where the loop starts again: the pre-model hook, else the agent. */
  entrypoint: string;
  hasResponseFormat: boolean;
}

/** The tools node for `calls`: once for them all ("v1"), or one Send each with the state ("v2"). */
function toTools(state: AgentState, calls: readonly ToolCall[], version: "v1" | "v2"): string | Send[] {
  if (version === "v1") return TOOLS;
  return calls.map((call) => new Send(TOOLS, { ...state, lg_tool_call: call }));
}

/** Where the graph goes once the model has answered without asking for tools. */
const finished = (options: RouteOptions) => (options.hasResponseFormat ? STRUCTURED_RESPONSE : END);

/** After the agent (without a post-model hook): the tools its last message asks for, else finish. */
export function afterAgent(options: RouteOptions) {
  return (state: AgentState): string | Send[] => {
    const last = state.messages.at(-1);
    if (last === undefined || !isAIMessage(last) || !last.tool_calls?.length) return finished(options);
    return toTools(state, last.tool_calls, options.version);
  };
}

/** The calls of the last AI message no ToolMessage answers yet. */
function pendingCalls(messages: readonly BaseMessage[]): ToolCall[] {
  const answered = new Set(messages.filter(isToolMessage).map((message) => message.tool_call_id));
  const lastAi = messages.findLast((message) => isAIMessage(message));
  const calls = lastAi !== undefined && isAIMessage(lastAi) ? (lastAi.tool_calls ?? []) : [];
  return calls.filter((call) => call.id == null || !answered.has(call.id));
}

/**
 * After the post-model hook: the calls still unanswered, else back to the model when the hook
 * ended on a ToolMessage (it answered the calls itself, e.g. refused them), else finish.
 */
export function afterPostModelHook(options: RouteOptions) {
  return (state: AgentState): string | Send[] => {
    const pending = pendingCalls(state.messages);
    if (pending.length > 0) return toTools(state, pending, options.version);
    const last = state.messages.at(-1);
    if (last !== undefined && isToolMessage(last)) return options.entrypoint;
    return finished(options);
  };
}

/** After the tools: END when one of the trailing ToolMessages is a returnDirect tool's, else the model. */
export function afterTools(returnDirect: ReadonlySet<string>, entrypoint: string) {
  return (state: AgentState): string => {
    for (let i = state.messages.length - 1; i >= 0; i--) {
      const message = state.messages[i];
      if (message === undefined || !isToolMessage(message)) break;
      if (message.name !== undefined && returnDirect.has(message.name)) return END;
    }
    return entrypoint;
  };
}

/** A path map from the targets a router may return, each to itself. */
export function pathMap(targets: readonly string[]): Record<string, string> {
  return Object.fromEntries(targets.map((target) => [target, target]));
}
