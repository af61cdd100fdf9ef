// LangGraph's prebuilt tools node and its router (`@langchain/langgraph/prebuilt`): the node
// that runs the tool calls of an agent's last AI message, each answered by a ToolMessage, and
// the edge that sends the agent there while it asks for tools. A tool that calls `interrupt()`
// pauses the graph (the approval before a risky action); that pause, an answer it refuses and
// the run's cancellation are not the model's to fix.
import { type BaseMessage, isAIMessage, isBaseMessage, ToolMessage } from "@langchain/core/messages";
import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
import { isParentCommand } from "../algo/node-writes.ts";
import { Command, isCommand, isSend } from "../command.ts";
import { END } from "../constants.ts";
import { InvalidInputError, InvalidResumeError } from "../errors.ts";
import { isGraphInterrupt } from "../interrupt.ts";

/** A tool as ToolNode calls it: LangChain's `tool()`, a `StructuredTool`, a `DynamicTool`. */
export interface ToolLike {
  name: string;
  invoke(input: any, config?: any): Promise<unknown>;
}

export interface ToolNodeOptions {
  /** The node's name as a runnable (default "tools"); the graph's name for it is addNode's. */
  name?: string;
  tags?: string[];
  /**
   * Whether a tool's error becomes an error ToolMessage the model sees and may fix (default),
   * or fails the node. An `interrupt()` in a tool pauses the graph either way.
   */
  handleToolErrors?: boolean;
}

/** A tool call as AI messages carry it. */
interface ToolCall {
  name: string;
  args: Record<string, unknown>;
  id?: string;
}

/** A `Send` to a ToolNode with one call: `new Send("tools", { ...state, lg_tool_call: call })`. */
interface SendInput {
  lg_tool_call: ToolCall;
  [key: string]: unknown;
}

type ToolOutput = ToolMessage | Command;

const isMessageList = (input: unknown): input is BaseMessage[] =>
  Array.isArray(input) && input.every(isBaseMessage);

const isSendInput = (input: unknown): input is SendInput =>
  typeof input === "object" && input !== null && "lg_tool_call" in input;

/** The list of messages `input` is or holds, refused when it has none. */
function messagesOf(input: unknown): BaseMessage[] {
  if (isMessageList(input)) return input;
  const messages = (input as { messages?: unknown } | null)?.messages;
  if (isMessageList(messages)) return messages;
  throw new InvalidInputError(
    "ToolNode only accepts BaseMessage[] or { messages: BaseMessage[] } as input: give it a state with a messages key (MessagesAnnotation, MessagesValue) or a list of messages.",
  );
}

/** The calls of the last AI message that no ToolMessage answers yet. */
function pendingCalls(messages: readonly BaseMessage[]): ToolCall[] {
  const aiMessage = messages.findLast((message) => isAIMessage(message));
  if (aiMessage === undefined || !isAIMessage(aiMessage)) {
    throw new InvalidInputError(
      "ToolNode only accepts AIMessages as input: the messages have no AI message whose tool calls it could run. Route to it only while the last AI message asks for tools (toolsCondition).",
    );
  }
  const answered = new Set(
    messages
      .filter((message) => message.getType() === "tool")
      .map((message) => (message as ToolMessage).tool_call_id),
  );
  return (aiMessage.tool_calls ?? []).filter((call) => call.id == null || !answered.has(call.id));
}

/**
 * The node's output: the tool messages as an update (a list for a list input), or, where tools
 * returned Commands, the Commands and updates in order — their `Send`s to the parent graph merged
 * into one Command, as LangGraph's.
 */
function nodeOutput(input: unknown, outputs: ToolOutput[]): unknown {
  const asUpdate = (messages: ToolMessage[]) => (Array.isArray(input) ? messages : { messages });
  if (!outputs.some(isCommand)) return asUpdate(outputs as ToolMessage[]);
  const combined: unknown[] = [];
  let parentSends: unknown[] | undefined;
  for (const output of outputs) {
    if (!isCommand(output)) combined.push(asUpdate([output]));
    else if (output.graph === Command.PARENT && Array.isArray(output.goto) && output.goto.every(isSend)) {
      parentSends = [...(parentSends ?? []), ...output.goto];
    } else combined.push(output);
  }
  if (parentSends) combined.push(new Command({ graph: Command.PARENT, goto: parentSends as never }));
  return combined;
}

/**
 * Whether a tool's error is the run's rather than the model's to fix: a pause, a Command for the
 * parent graph, an answer its interrupt's own check refused (the run fails, as in any node), or
 * the run's cancellation (the node stops; the step is not stored with an error for the model).
 */
function notTheModels(error: unknown, config: RunnableConfig): boolean {
  if (isGraphInterrupt(error) || isParentCommand(error) || error instanceof InvalidResumeError) return true;
  return config.signal?.aborted === true;
}

/**
 * A node that runs the tool calls of the last AI message in its input, in parallel, and answers
 * each with a ToolMessage (calls already answered are skipped): LangGraph's prebuilt ToolNode.
 * `graph.addNode("tools", new ToolNode(tools))`, or `await toolNode.invoke({ messages })`.
 */
export class ToolNode<T = any> extends Runnable<T, T> {
  lc_namespace = ["langgraph", "prebuilt"];
  readonly tools: ToolLike[];
  readonly handleToolErrors: boolean;
  /** Tags the tools' calls carry besides the node's. */
  private readonly tags: readonly string[];

  constructor(tools: readonly ToolLike[], options: ToolNodeOptions = {}) {
    super();
    this.tools = [...tools];
    this.name = options.name ?? "tools";
    this.handleToolErrors = options.handleToolErrors ?? true;
    this.tags = options.tags ?? [];
  }

  override invoke(input: T, options: RunnableConfig = {}): Promise<T> {
    const config = this.tags.length
      ? { ...options, tags: [...new Set([...(options.tags ?? []), ...this.tags])] }
      : options;
    return this.run(input, config);
  }

  /** The node's work, as LangGraph's (a subclass may override it): every pending call's answer. */
  protected async run(input: unknown, config: RunnableConfig): Promise<T> {
    if (isSendInput(input)) {
      const { lg_tool_call: call, ...state } = input;
      return nodeOutput(input, [await this.runTool(call, config, state)]) as T;
    }
    const calls = pendingCalls(messagesOf(input));
    const outputs = await Promise.all(calls.map((call) => this.runTool(call, config, input)));
    return nodeOutput(input, outputs) as T;
  }

  /**
   * One call's answer: the tool's ToolMessage or Command, or its error as the model's to fix.
   * A subclass may override it, as LangGraph's.
   */
  protected async runTool(call: ToolCall, config: RunnableConfig, state: unknown): Promise<ToolOutput> {
    const tool = this.tools.find((candidate) => candidate.name === call.name);
    try {
      if (tool === undefined) throw new Error(`Tool "${call.name}" not found.`);
      const store = (config as { store?: unknown }).store ?? null;
      const runtime = { ...config, config, state, toolCallId: call.id ?? "", store };
      const output = await tool.invoke({ ...call, type: "tool_call" }, runtime);
      if ((isBaseMessage(output) && output.getType() === "tool") || isCommand(output)) {
        return output as ToolOutput;
      }
      return new ToolMessage({
        status: "success",
        name: tool.name,
        content: typeof output === "string" ? output : JSON.stringify(output),
        tool_call_id: call.id ?? "",
      });
    } catch (error) {
      if (!this.handleToolErrors || notTheModels(error, config)) throw error;
      return new ToolMessage({
        status: "error",
        content: `Error: ${(error as Error).message}\n Please fix your mistakes.`,
        name: call.name,
        tool_call_id: call.id ?? "",
      });
    }
  }
}

/**
 * The router after an agent's model: "tools" while its last message asks for tools, else END.
 * `addConditionalEdges("agent", toolsCondition)` (with a node named "tools", as LangGraph's).
 */
export function toolsCondition(state: BaseMessage[] | { messages: BaseMessage[] }): "tools" | typeof END {
  const messages = Array.isArray(state) ? state : state.messages;
  const last = messages.at(-1) as { tool_calls?: unknown[] } | undefined;
  return last !== undefined && (last.tool_calls?.length ?? 0) > 0 ? "tools" : END;
}
