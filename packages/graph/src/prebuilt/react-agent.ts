// LangGraph's prebuilt ReAct agent (`createReactAgent` from "@langchain/langgraph/prebuilt"): a
// model that calls tools in a loop until it answers, built as a graph of Layover's own nodes —
// "agent" (the model), "tools" (a ToolNode), and the optional "pre_model_hook", "post_model_hook"
// and "generate_structured_response" — so a ported agent runs, pauses and resumes as LangGraph's.
import type { LanguageModelLike } from "@langchain/core/language_models/base";
import type { BaseMessage } from "@langchain/core/messages";
import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
import type { BaseStore, CheckpointSaver } from "@layover/checkpoint";
import { END, START } from "../constants.ts";
import { InvalidGraphError } from "../errors.ts";
import type { CompiledStateGraph } from "../graph/compiled-graph.ts";
import type { NodeConfig } from "../graph/spec.ts";
import { StateGraph } from "../graph/state-graph.ts";
import { definitionOf } from "../graph/state-views.ts";
import { Annotation } from "../state/annotation.ts";
import type { StateDefinitionLike, StateOf, UpdateOf, ZodStateLike } from "../state/definition.ts";
import { type Messages, type MessagesAnnotation, messagesStateReducer } from "../state/messages.ts";
import { type AgentNameMode, withAgentName } from "./agent-name.ts";
import { type BindableTool, bindAgentTools, needsTools } from "./react-agent-model.ts";
import {
  checkAgentSchema,
  preHookInput,
  type ResponseFormat,
  structuredResponseNode,
} from "./react-agent-nodes.ts";
import { agentPrompt, type MessageModifier, type Prompt, type StateModifier } from "./react-agent-prompt.ts";
import {
  AGENT,
  afterAgent,
  afterPostModelHook,
  afterTools,
  POST_MODEL_HOOK,
  PRE_MODEL_HOOK,
  pathMap,
  type RouteOptions,
  STRUCTURED_RESPONSE,
  TOOLS,
} from "./react-agent-routes.ts";
import { type ToolLike, ToolNode } from "./tool-node.ts";

export type { ResponseFormat } from "./react-agent-nodes.ts";
export type { MessageModifier, Prompt, StateModifier } from "./react-agent-prompt.ts";

/** The agent's default state: its messages, and the structured response when it gives one. */
export const createReactAgentAnnotation = <T extends Record<string, any> = Record<string, any>>() =>
  Annotation.Root({
    messages: Annotation<BaseMessage[], Messages>({ reducer: messagesStateReducer, default: () => [] }),
    structuredResponse: Annotation<T>,
  });

/** @deprecated As LangGraph's: the agent's default state, for typing what the agent returns. */
export interface AgentState<StructuredResponseType extends Record<string, any> = Record<string, any>> {
  messages: BaseMessage[];
  structuredResponse: StructuredResponseType;
}

/** A state schema the agent may run over: it must have a `messages` key. */
type AgentSchema = StateDefinitionLike | ZodStateLike;

/** A node as addNode takes one: a function of the state, or a runnable. */
type HookNode =
  | ((state: any, config: NodeConfig) => unknown)
  | { invoke(input: any, options?: any): unknown };

/** The model, or a function choosing one for each call (it must bind the tools itself). */
type ModelChoice<A extends AgentSchema> =
  | LanguageModelLike
  | ((
      state: StateOf<A> & { llmInputMessages: BaseMessage[] },
      config: NodeConfig,
    ) => LanguageModelLike | Promise<LanguageModelLike>);

/**
 * @deprecated As LangGraph's `CreateReactAgentParams`. Every option is LangGraph.js 1.7.3's.
 */
export interface CreateReactAgentParams<
  A extends AgentSchema = typeof MessagesAnnotation,
  StructuredResponseType extends Record<string, any> = Record<string, any>,
> {
  /** The chat model that calls tools (bound to the tools unless already bound to them), or a function choosing it. */
  llm: ModelChoice<A>;
  /** The tools (LangChain tools, or a provider's own tools as objects), or a ToolNode running them. */
  tools: ToolNode | readonly BindableTool[];
  /** What the model reads from the state (default: the state's messages). One of prompt, stateModifier, messageModifier. */
  prompt?: Prompt;
  /** @deprecated Use prompt instead. */
  stateModifier?: StateModifier;
  /** @deprecated Use prompt instead. */
  messageModifier?: MessageModifier;
  /** The agent's state; it must have `messages`. @defaultValue createReactAgentAnnotation() */
  stateSchema?: A;
  /** Describes `invoke(input, { context })`'s context (not checked, as in LangGraph.js). */
  contextSchema?: unknown;
  /** Keeps the agent's threads (needed to pause). */
  checkpointer?: CheckpointSaver | boolean;
  /** Alias of checkpointer. */
  checkpointSaver?: CheckpointSaver | boolean;
  /** Nodes to pause before: `["tools"]` to approve the model's tool calls. */
  interruptBefore?: readonly string[] | "*";
  interruptAfter?: readonly string[] | "*";
  store?: BaseStore;
  /**
   * A schema for a final answer in `structuredResponse`, asked of the model (its
   * withStructuredOutput) once the loop ends: a zod schema, a JSON schema, or `{ schema, prompt }`.
   */
  responseFormat?: ResponseFormat<StructuredResponseType>;
  /** The agent's name: the graph's, and every AI message's `name`. */
  name?: string;
  /** What the agent does, for a supervisor choosing it: `graph.description`. */
  description?: string;
  /**
   * "inline": the model reads the agents' names in its history's AI messages' content
   * (`<name>alice</name><content>…</content>`; see withAgentName), for providers that drop a
   * message's `name`. @defaultValue undefined (names only in `name`)
   */
  includeAgentName?: AgentNameMode | undefined;
  /** A node before the model: it may set `llmInputMessages`, which the model reads instead of `messages`. */
  preModelHook?: HookNode;
  /** A node after the model: guardrails, human review; the graph routes on the messages it leaves. */
  postModelHook?: HookNode;
  /** "v1": one tools node runs all of a message's calls; "v2": a Send to the tools node per call. @defaultValue "v1" */
  version?: "v1" | "v2";
}

const KNOWN_PARAMS = new Set([
  "llm",
  "tools",
  "prompt",
  "stateModifier",
  "messageModifier",
  "stateSchema",
  "contextSchema",
  "checkpointer",
  "checkpointSaver",
  "interruptBefore",
  "interruptAfter",
  "store",
  "responseFormat",
  "name",
  "description",
  "includeAgentName",
  "preModelHook",
  "postModelHook",
  "version",
]);

/** Refuses what the agent would otherwise ignore while it changes what the agent does. */
function checkParams(params: CreateReactAgentParams<any, any>): void {
  for (const key of Object.keys(params)) {
    if (!KNOWN_PARAMS.has(key))
      throw new InvalidGraphError(
        `createReactAgent: unknown option "${key}". Options are ${[...KNOWN_PARAMS].join(", ")}.`,
      );
  }
  if (params.includeAgentName !== undefined && params.includeAgentName !== "inline")
    throw new InvalidGraphError(
      `createReactAgent: includeAgentName is "inline" (the agents' names in the messages' content) or left out; got ${JSON.stringify(params.includeAgentName)}.`,
    );
  if (params.version !== undefined && params.version !== "v1" && params.version !== "v2")
    throw new InvalidGraphError(
      `createReactAgent: version is "v1" or "v2"; got ${JSON.stringify(params.version)}.`,
    );
}

/** The tools the model is bound to, and the node that runs the client ones. */
function agentTools(tools: CreateReactAgentParams["tools"]): { all: BindableTool[]; node: ToolNode } {
  if (!Array.isArray(tools)) {
    const node = tools as ToolNode;
    return { all: node.tools as BindableTool[], node };
  }
  const clientTools = tools.filter((tool) => Runnable.isRunnable(tool)) as unknown as ToolLike[];
  return { all: [...tools], node: new ToolNode(clientTools) };
}

/** The names of the tools whose answer ends the run (`returnDirect: true`). */
function returnDirectNames(tools: readonly BindableTool[]): Set<string> {
  const names = tools.flatMap((tool) =>
    Runnable.isRunnable(tool) && (tool as { returnDirect?: boolean }).returnDirect
      ? [(tool as { name: string }).name]
      : [],
  );
  return new Set(names);
}

type AgentNodeState = { messages: BaseMessage[]; llmInputMessages?: BaseMessage[]; [key: string]: unknown };

/** The state the prompt reads: the pre-model hook's `llmInputMessages`, when it set some, as the messages. */
function modelInput(state: AgentNodeState): Record<string, unknown> {
  const { messages, llmInputMessages, ...rest } = state;
  return { messages: llmInputMessages?.length ? llmInputMessages : messages, ...rest };
}

/** The "agent" node: the prompt and the model (bound to the tools, once), its answer named after the agent. */
function agentNode(params: CreateReactAgentParams<any, any>, tools: readonly BindableTool[]) {
  const { llm, name, includeAgentName } = params;
  const prompt = agentPrompt(params);
  const named = (model: LanguageModelLike) =>
    includeAgentName === undefined ? model : withAgentName(model, includeAgentName);
  let staticModel: Promise<Runnable> | undefined;
  const boundModel = async (model: LanguageModelLike) =>
    prompt.pipe(named((await needsTools(model, tools)) ? await bindAgentTools(model, tools) : model));
  const modelFor = (state: AgentNodeState, config: NodeConfig): Promise<Runnable> => {
    if (typeof llm === "function")
      return Promise.resolve(llm(state, config)).then((model: LanguageModelLike) =>
        prompt.pipe(named(model)),
      );
    staticModel ??= boundModel(llm).catch((error: unknown) => {
      staticModel = undefined;
      throw error;
    });
    return staticModel;
  };
  return async (state: AgentNodeState, config: NodeConfig) => {
    const model = await modelFor(state, config);
    const response = await model.invoke(modelInput(state), config as unknown as RunnableConfig);
    // As LangGraph's: the agent's name, or none, whatever the model named its answer.
    response.name = name;
    if (response.lc_kwargs) response.lc_kwargs.name = name;
    return { messages: [response] };
  };
}

/**
 * @deprecated As in LangGraph.js, where it moved to `createAgent` in the `langchain` package.
 * Building the agent's graph from `ToolNode` and `toolsCondition` gives the same loop in plain
 * sight: `new StateGraph(MessagesAnnotation).addNode("agent", callModel).addNode("tools", new
 * ToolNode(tools)).addConditionalEdges("agent", toolsCondition, ["tools", END]).addEdge("tools", "agent")`.
 *
 * A graph in which a chat model calls tools until it answers, as LangGraph.js 1.7.3's
 * `createReactAgent`: nodes "agent" and "tools" (and "pre_model_hook", "post_model_hook",
 * "generate_structured_response" when asked for), so `interruptBefore: ["tools"]` pauses before
 * the tools run and `invoke(null, config)` lets them.
 *
 * @example
 * const agent = createReactAgent({ llm: model, tools: [getWeather], checkpointer });
 * await agent.invoke({ messages: [{ role: "user", content: "weather in SF?" }] }, config);
 */
export function createReactAgent<
  A extends AgentSchema = typeof MessagesAnnotation,
  StructuredResponseType extends Record<string, any> = Record<string, any>,
>(
  params: CreateReactAgentParams<A, StructuredResponseType>,
): CompiledStateGraph<StateOf<A> & { structuredResponse: StructuredResponseType }, UpdateOf<A>> & {
  description?: string | undefined;
} {
  checkParams(params);
  const { responseFormat, preModelHook, postModelHook, version = "v1" } = params;
  const schema = params.stateSchema ?? createReactAgentAnnotation();
  const definition = definitionOf(schema, "createReactAgent's stateSchema");
  checkAgentSchema(definition, responseFormat !== undefined);
  const tools = agentTools(params.tools);
  const entrypoint = preModelHook != null ? PRE_MODEL_HOOK : AGENT;
  const routes: RouteOptions = { version, entrypoint, hasResponseFormat: responseFormat !== undefined };

  const graph = new StateGraph(
    schema as AgentSchema,
    ...(params.contextSchema ? [params.contextSchema] : []),
  );
  graph.addNode(TOOLS, tools.node);
  if (preModelHook != null) graph.addNode(PRE_MODEL_HOOK, preModelHook).addEdge(PRE_MODEL_HOOK, AGENT);
  const input = preModelHook != null ? { input: preHookInput(definition) } : {};
  graph.addNode(AGENT, agentNode(params, tools.all), input).addEdge(START, entrypoint);
  const finish = routes.hasResponseFormat ? STRUCTURED_RESPONSE : END;
  if (postModelHook != null) {
    graph
      .addNode(POST_MODEL_HOOK, postModelHook)
      .addEdge(AGENT, POST_MODEL_HOOK)
      .addConditionalEdges(POST_MODEL_HOOK, afterPostModelHook(routes), pathMap([TOOLS, entrypoint, finish]));
  } else {
    graph.addConditionalEdges(AGENT, afterAgent(routes), pathMap([TOOLS, finish]));
  }
  if (responseFormat !== undefined) {
    graph.addNode(STRUCTURED_RESPONSE, structuredResponseNode(params.llm, responseFormat));
    graph.addEdge(STRUCTURED_RESPONSE, END);
  }
  const returnDirect = returnDirectNames(tools.all);
  if (returnDirect.size > 0)
    graph.addConditionalEdges(TOOLS, afterTools(returnDirect, entrypoint), pathMap([entrypoint, END]));
  else graph.addEdge(TOOLS, entrypoint);

  const compiled = graph.compile({
    checkpointer: params.checkpointer ?? params.checkpointSaver,
    interruptBefore: params.interruptBefore,
    interruptAfter: params.interruptAfter,
    store: params.store,
    name: params.name,
  });
  return Object.assign(compiled, { description: params.description }) as never;
}
