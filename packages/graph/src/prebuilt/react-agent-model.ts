// The model of createReactAgent, as LangGraph's finds it: a chat model, a binding of one (already
// bound to the tools, or not), a RunnableSequence holding one, or a configurable model
// (`initChatModel`). The tools are bound unless a binding already carries them all.
import type { LanguageModelLike } from "@langchain/core/language_models/base";
import { Runnable, RunnableBinding, RunnableSequence } from "@langchain/core/runnables";
import { InvalidGraphError } from "../errors.ts";

/** A chat model as LangGraph recognises one: it invokes and has a `_modelType`. */
export interface ChatModelLike {
  invoke(input: unknown, config?: unknown): Promise<unknown>;
  _modelType(): string;
  bindTools?(tools: unknown[], kwargs?: unknown): Runnable;
  withStructuredOutput?(schema: unknown, options?: unknown): Runnable;
}

/** LangChain's configurable model (`initChatModel`), which makes its model when first used. */
interface ConfigurableModel {
  _queuedMethodOperations: unknown;
  _model(): Promise<unknown>;
}

/** A tool as a model is bound to: a client tool (a runnable) or a provider's own (a plain object). */
export type BindableTool = Record<string, unknown> | { name: string };

export function isChatModel(model: unknown): model is ChatModelLike {
  return (
    typeof model === "object" &&
    model !== null &&
    typeof (model as { invoke?: unknown }).invoke === "function" &&
    "_modelType" in model
  );
}

function isConfigurableModel(model: unknown): model is ConfigurableModel {
  return (
    typeof model === "object" &&
    model !== null &&
    "_queuedMethodOperations" in model &&
    typeof (model as { _model?: unknown })._model === "function"
  );
}

const isBindableChatModel = (
  model: unknown,
): model is ChatModelLike & Required<Pick<ChatModelLike, "bindTools">> =>
  isChatModel(model) && typeof model.bindTools === "function";

const isModelStep = (step: unknown) =>
  RunnableBinding.isRunnableBinding(step) || isChatModel(step) || isConfigurableModel(step);

/** The model step of a RunnableSequence (`prompt.pipe(model)`), else `llm` itself. */
function modelOf(llm: unknown): unknown {
  if (!RunnableSequence.isRunnableSequence(llm)) return llm;
  return llm.steps.find(isModelStep) ?? llm;
}

/** The tools a binding carries (`kwargs.tools`, or `config.tools` as bindTools' withConfig sets them). */
function boundToolsOf(binding: RunnableBinding<unknown, unknown>): Record<string, any>[] | undefined {
  const fromKwargs = (binding.kwargs as { tools?: unknown } | undefined)?.tools;
  const fromConfig = (binding.config as { tools?: unknown } | undefined)?.tools;
  const tools = Array.isArray(fromKwargs) ? fromKwargs : Array.isArray(fromConfig) ? fromConfig : undefined;
  // Google's models bind one entry listing the functions.
  if (tools?.length === 1 && "functionDeclarations" in tools[0]) return tools[0].functionDeclarations;
  return tools;
}

/** The name of a tool as a provider binds it (OpenAI's, Anthropic's, Bedrock's shapes). */
function boundToolName(bound: Record<string, any>): string | undefined {
  if (bound.type === "function" && bound.function !== undefined) return bound.function.name;
  if ("name" in bound) return bound.name;
  return bound.toolSpec?.name;
}

/**
 * Whether `llm` needs the tools bound: not when it is a binding that already carries tools, which
 * must then be the agent's (as many, and every client tool's name among them).
 */
export async function needsTools(llm: LanguageModelLike, tools: readonly BindableTool[]): Promise<boolean> {
  let model = modelOf(llm);
  if (isConfigurableModel(model)) model = await model._model();
  if (!RunnableBinding.isRunnableBinding(model)) return true;
  const bound = boundToolsOf(model);
  if (bound === undefined) return true;
  if (bound.length !== tools.length) {
    throw new InvalidGraphError(
      `createReactAgent: the model is bound to ${bound.length} tools and the agent has ${tools.length}; they must be the same. Pass the model unbound (the agent binds its tools), or bind exactly the agent's tools.`,
    );
  }
  const boundNames = new Set(bound.map(boundToolName).filter((name) => name));
  const missing = tools.flatMap((tool) =>
    Runnable.isRunnable(tool) && !boundNames.has(tool.name as string) ? [tool.name as string] : [],
  );
  if (missing.length > 0) {
    throw new InvalidGraphError(
      `createReactAgent: the model's bindTools() lacks the tools ${missing.map((name) => `"${name}"`).join(", ")}; the tools bound must be the agent's.`,
    );
  }
  return false;
}

/** `llm` with the tools bound, where it is a chat model or a binding of one; else undefined. */
function bindDirectly(llm: unknown, tools: readonly BindableTool[]): Runnable | undefined {
  if (isBindableChatModel(llm)) return llm.bindTools([...tools]);
  if (!RunnableBinding.isRunnableBinding(llm) || !isBindableChatModel(llm.bound)) return undefined;
  // A binding's own config and kwargs (`model.withConfig({ tags })`) stay over the new binding.
  const rebound = llm.bound.bindTools([...tools]);
  if (!RunnableBinding.isRunnableBinding(rebound)) {
    return binding({
      bound: rebound,
      config: llm.config,
      kwargs: llm.kwargs,
      configFactories: llm.configFactories,
    });
  }
  return binding({
    bound: rebound.bound,
    config: { ...llm.config, ...rebound.config },
    kwargs: { ...llm.kwargs, ...rebound.kwargs },
    configFactories: rebound.configFactories ?? llm.configFactories,
  });
}

/** A RunnableBinding of these parts, those undefined left out. */
function binding(parts: {
  bound: Runnable;
  config: unknown;
  kwargs: unknown;
  configFactories: unknown;
}): Runnable {
  const defined = Object.fromEntries(Object.entries(parts).filter(([, value]) => value !== undefined));
  return new RunnableBinding(defined as ConstructorParameters<typeof RunnableBinding>[0]);
}

/** `llm` with the agent's tools bound: itself, its configurable model's, or its sequence's model step. */
export async function bindAgentTools(
  llm: LanguageModelLike,
  tools: readonly BindableTool[],
): Promise<Runnable> {
  const direct = bindDirectly(llm, tools);
  if (direct !== undefined) return direct;
  if (isConfigurableModel(llm)) {
    const made = bindDirectly(await llm._model(), tools);
    if (made !== undefined) return made;
  }
  if (RunnableSequence.isRunnableSequence(llm)) {
    const index = llm.steps.findIndex(isModelStep);
    const bound = index >= 0 ? bindDirectly(llm.steps[index], tools) : undefined;
    if (bound !== undefined) {
      const steps = llm.steps.slice();
      steps.splice(index, 1, bound);
      return RunnableSequence.from(steps as unknown as Parameters<typeof RunnableSequence.from>[0]);
    }
  }
  throw new InvalidGraphError(
    `createReactAgent: the model ${llm} has no bindTools(): give a chat model that calls tools, or one already bound to the agent's tools.`,
  );
}

/** The chat model under `llm` (its binding's, its sequence's model step): what gives structured output. */
export async function chatModelOf(llm: unknown): Promise<ChatModelLike> {
  let model = modelOf(llm);
  if (isConfigurableModel(model)) model = await model._model();
  if (RunnableBinding.isRunnableBinding(model)) model = model.bound;
  if (!isChatModel(model)) {
    throw new InvalidGraphError(
      `createReactAgent: expected the model to be a chat model, or a binding of one (model.bindTools(…)); got ${(model as object)?.constructor?.name}.`,
    );
  }
  return model;
}
