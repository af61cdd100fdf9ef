// The agent's state schema checks and the nodes around its model: the agent node's input schema
// when a pre-model hook may set `llmInputMessages`, and the node that asks the model for the
// structured response once the loop ends — both as LangGraph's createReactAgent has them.
import { type BaseMessage, SystemMessage } from "@langchain/core/messages";
import type { Runnable, RunnableConfig } from "@langchain/core/runnables";
import type { InteropZodType } from "@langchain/core/utils/types";
import { InvalidGraphError } from "../errors.ts";
import type { NodeConfig } from "../graph/spec.ts";
import { Annotation } from "../state/annotation.ts";
import { STATE_DEFINITION, type StateDefinition, type StateDefinitionLike } from "../state/definition.ts";
import { messagesStateReducer } from "../state/messages.ts";
import { chatModelOf } from "./react-agent-model.ts";

/** `{ schema, prompt }`: the schema, and a system prompt put before the messages for this call alone. */
export interface StructuredResponseSchemaOptions<T> {
  schema: InteropZodType<T> | Record<string, any>;
  prompt?: string;
  strict?: boolean;
  /** Passed on to withStructuredOutput (`name`, `method`…). */
  [key: string]: unknown;
}

/** A structured response's schema: a zod schema, a JSON schema, or `{ schema, prompt, ...options }`. */
export type ResponseFormat<T extends Record<string, any> = Record<string, any>> =
  | InteropZodType<T>
  | StructuredResponseSchemaOptions<T>
  | Record<string, any>;

/** Refuses a state the agent cannot run over: no `messages`, or no `structuredResponse` to put its answer in. */
export function checkAgentSchema(definition: StateDefinition, hasResponseFormat: boolean): void {
  if (!definition.fields.has("messages"))
    throw new InvalidGraphError(
      "Missing required `messages` key in state schema: createReactAgent's stateSchema must have messages (extend createReactAgentAnnotation().spec or MessagesAnnotation.spec).",
    );
  // LangGraph drops the answer where the state has no key for it; Layover refuses such a write.
  if (hasResponseFormat && !definition.fields.has("structuredResponse"))
    throw new InvalidGraphError(
      "createReactAgent with responseFormat puts the answer in `structuredResponse`, which the stateSchema lacks: add structuredResponse: Annotation<T> (or extend createReactAgentAnnotation().spec).",
    );
}

/** The messages the pre-model hook gives the model instead of the state's: replaced at each write. */
const llmInputMessages = Annotation.Root({
  llmInputMessages: Annotation<BaseMessage[]>({
    reducer: (_current: BaseMessage[], update: unknown) => messagesStateReducer([], update),
    default: () => [],
  }),
})
  [STATE_DEFINITION]()
  .fields.get("llmInputMessages");

/** The agent node's input schema behind a pre-model hook: the state's keys and `llmInputMessages`. */
export function preHookInput(state: StateDefinition): StateDefinitionLike {
  const fields = new Map(state.fields);
  if (llmInputMessages !== undefined) fields.set("llmInputMessages", llmInputMessages);
  return { [STATE_DEFINITION]: () => ({ fields }) } as unknown as StateDefinitionLike;
}

/** The model's structured output for `responseFormat`, with its options and prompt where given. */
function structuredModel(
  model: { withStructuredOutput?(schema: unknown, options?: unknown): Runnable },
  responseFormat: ResponseFormat<any>,
): { runnable: Runnable; prompt: string | undefined } {
  if (typeof model.withStructuredOutput !== "function")
    throw new InvalidGraphError(
      "createReactAgent with responseFormat needs a chat model with withStructuredOutput().",
    );
  if (typeof responseFormat === "object" && responseFormat !== null && "schema" in responseFormat) {
    const { prompt, schema, ...options } = responseFormat as StructuredResponseSchemaOptions<any>;
    return { runnable: model.withStructuredOutput(schema, options), prompt };
  }
  return { runnable: model.withStructuredOutput(responseFormat), prompt: undefined };
}

/**
 * The "generate_structured_response" node: the model (without its tools) asked for an answer in
 * `responseFormat`'s shape, from the state's messages, into `structuredResponse`.
 */
export function structuredResponseNode(llm: unknown, responseFormat: ResponseFormat<any>) {
  return async (state: { messages: BaseMessage[] }, config: NodeConfig) => {
    const chosen =
      typeof llm === "function" ? await (llm as (s: unknown, c: unknown) => unknown)(state, config) : llm;
    const { runnable, prompt } = structuredModel(await chatModelOf(chosen), responseFormat);
    const messages =
      prompt == null ? state.messages : [new SystemMessage({ content: prompt }), ...state.messages];
    const response = await runnable.invoke(messages, config as unknown as RunnableConfig);
    if (response == null)
      throw new Error(
        "Failed to parse structured response against the provided `responseFormat` schema: the structured-output parser returned null/undefined, which usually means the model output did not satisfy the schema.",
      );
    return { structuredResponse: response };
  };
}
