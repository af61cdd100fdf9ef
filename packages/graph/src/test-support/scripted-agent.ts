// Agents' tests' parts: a chat model that answers with the turns of its script in order (tool calls
// among them), binds tools the way providers' models do (`withConfig({ tools })`), gives
// structured output from its next turn, and notes what each call was given.
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage, ToolMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { type Runnable, RunnableLambda } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import * as z from "zod";

/** A tool adding two numbers. */
export const add = tool(({ a, b }) => `${a + b}`, {
  name: "add",
  description: "Add two numbers",
  schema: z.object({ a: z.number(), b: z.number() }),
});

/** One turn of the script: the answer's text, and the tool calls it makes. */
export interface Turn {
  id: string;
  content?: string;
  calls?: Array<{ name: string; args: Record<string, unknown>; id: string }>;
}

/** What one call of the model was given: its messages (type and text) and the tools bound. */
export interface SeenCall {
  messages: Array<[string, unknown]>;
  tools: string[];
}

type BoundTool = { type: "function"; function: { name: string } };

export class ScriptedChatModel extends BaseChatModel {
  readonly script: Turn[];
  readonly seen: SeenCall[];
  /** What withStructuredOutput was asked for: its options (name, strict…). */
  readonly structured: unknown[];

  constructor(script: readonly Turn[], shared?: { seen: SeenCall[]; structured: unknown[] }) {
    super({});
    this.script = [...script];
    this.seen = shared?.seen ?? [];
    this.structured = shared?.structured ?? [];
  }

  _llmType(): string {
    return "scripted";
  }

  override bindTools(tools: Array<{ name: string }>): Runnable {
    const bound: BoundTool[] = tools.map((t) => ({ type: "function", function: { name: t.name } }));
    return this.withConfig({ tools: bound } as never);
  }

  /** The next turn of the script (a plain answer once it has run out). */
  private next(): AIMessage {
    const turn = this.script.shift() ?? { id: "ai-end", content: "(script over)" };
    const calls = (turn.calls ?? []).map((call) => ({ ...call, type: "tool_call" as const }));
    return new AIMessage({ id: turn.id, content: turn.content ?? "", tool_calls: calls });
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const tools = ((options as { tools?: BoundTool[] }).tools ?? []).map((t) => t.function.name);
    this.seen.push({ messages: messages.map((m) => [m.getType(), m.content]), tools });
    const message = this.next();
    return { generations: [{ message, text: String(message.content) }] };
  }

  /** The next turn as the structured answer: its first call's arguments, else its text as JSON. */
  override withStructuredOutput(_schema: unknown, options?: unknown): Runnable {
    this.structured.push(options ?? null);
    return RunnableLambda.from(async (messages: BaseMessage[]) => {
      const answer = (await this.invoke(messages)) as AIMessage;
      const [call] = answer.tool_calls ?? [];
      return call !== undefined ? call.args : JSON.parse(String(answer.content));
    }) as never;
  }
}

/** A call of the add tool. */
export const addCall = (id: string, a: number, b: number) => ({ name: "add", args: { a, b }, id });

/** An agent's input: the user's message. */
export const user = (content: string) => ({ messages: [{ role: "user", content }] });

/** A turn asking for these calls. */
export const asks = (id: string, ...calls: NonNullable<Turn["calls"]>): Turn => ({ id, calls });

/** A turn answering with this text. */
export const says = (id: string, content: string): Turn => ({ id, content });

/** Messages as a reader compares them: one line each, with the ids, names and calls that matter. */
export function transcript(messages: readonly BaseMessage[]): string[] {
  return messages.map((m) => {
    const name = m.name ? ` (${m.name})` : "";
    if (AIMessage.isInstance(m)) {
      const calls = (m.tool_calls ?? []).map((c) => ` → ${c.name} ${JSON.stringify(c.args)} #${c.id}`);
      return `ai ${m.id}${name}: ${m.content}${calls.join("")}`;
    }
    if (ToolMessage.isInstance(m))
      return `tool #${m.tool_call_id}${name}${m.status ? ` ${m.status}` : ""}: ${m.content}`;
    return `${m.getType()}${name}: ${m.content}`;
  });
}

/** What each call of the model read, one line a message. */
export const readByModel = (model: ScriptedChatModel) =>
  model.seen.map((call) => call.messages.map(([type, content]) => `${type}: ${content}`));
