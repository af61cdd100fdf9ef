import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Annotation, Command, END, interrupt, START, StateGraph } from "../index.ts";
import { threadConfig, type UseSaver } from "./helpers.ts";

/** LangChain's messages, when installed (an optional peer of @layover/checkpoint). */
const lc = await import("@langchain/core/messages").catch(() => undefined);

/** Agent state: LangChain messages, appended. What stops at an approval must come back as messages. */
export function describeLangChainMessages(use: UseSaver): void {
  describe.skipIf(lc === undefined)("LangChain messages in state", () => {
    it("are messages again in the node that resumes, in the result and in getState", () =>
      messagesAcrossResume(use()));
  });
}

async function messagesAcrossResume(saver: CheckpointSaver): Promise<void> {
  const { AIMessage, HumanMessage, isAIMessage } = lc as NonNullable<typeof lc>;
  const State = Annotation.Root({
    messages: Annotation<NonNullable<typeof lc>["BaseMessage"]["prototype"][]>({
      reducer: (left, right) => left.concat(right),
      default: () => [],
    }),
  });
  const seen: string[] = [];
  const graph = new StateGraph(State)
    .addNode("agent", () => ({
      messages: [
        new AIMessage({ content: "", tool_calls: [{ id: "c1", name: "book", args: { to: "LIS" } }] }),
      ],
    }))
    .addNode("approve", (state) => {
      const answer = interrupt("book it?");
      seen.push(...state.messages.map((m) => `${m.constructor.name}:${m instanceof HumanMessage}`));
      const last = state.messages.at(-1);
      return {
        messages: [
          new HumanMessage(
            `${answer}: ${last !== undefined && isAIMessage(last) ? last.tool_calls?.[0]?.name : "?"}`,
          ),
        ],
      };
    })
    .addEdge(START, "agent")
    .addEdge("agent", "approve")
    .addEdge("approve", END)
    .compile({ checkpointer: saver });
  const config = threadConfig("lc-messages");
  await graph.invoke({ messages: [new HumanMessage("fly me to Lisbon")] }, config);
  const done = await graph.invoke(new Command({ resume: "approved" }), config);
  expect(seen).toEqual(["HumanMessage:true", "AIMessage:false"]);
  expect(done.messages.map((m) => m.constructor.name)).toEqual(["HumanMessage", "AIMessage", "HumanMessage"]);
  expect(done.messages[2]?.content).toBe("approved: book");
  const state = await graph.getState(config);
  expect(state.values.messages[1]).toBeInstanceOf(AIMessage);
}
