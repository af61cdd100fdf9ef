// Every complete TypeScript snippet of shared/seeds/002 (LangGraph's interrupt docs), with
// only the import changed to @layover/graph, gives the output the seed documents.

import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Annotation,
  Command,
  END,
  type GraphNode,
  INTERRUPT,
  interrupt,
  isInterrupted,
  MemorySaver,
  START,
  StateGraph,
  StateSchema,
} from "./index.ts";

describe("seed 002: basic interrupt + resume", () => {
  it("pauses with __interrupt__ and resumes with Command({ resume: true })", async () => {
    const State = new StateSchema({
      approved: z.boolean().default(false),
    });
    const approvalNode = async (_state: typeof State.State) => {
      const approved = interrupt("Do you approve this action?");
      return { approved };
    };
    const checkpointer = new MemorySaver();
    const graph = new StateGraph(State)
      .addNode("approval", approvalNode)
      .addEdge(START, "approval")
      .addEdge("approval", END)
      .compile({ checkpointer });
    const config = { configurable: { thread_id: "thread-1" } };
    let result = await graph.invoke({ approved: false }, config);
    expect(result.__interrupt__).toEqual([{ id: expect.any(String), value: "Do you approve this action?" }]);
    result = await graph.invoke(new Command({ resume: true }), config);
    expect(result.approved).toBe(true);
    expect(result.__interrupt__).toBeUndefined();
  });
});

describe("seed 002: approval workflow (human_review routes with Command)", () => {
  const EmailAgentState = new StateSchema({
    emailContent: z.string().default(""),
    responseText: z.string().default(""),
    classification: z.object({ urgency: z.string() }).optional(),
    sent: z.string().optional(),
  });
  const humanReview: GraphNode<typeof EmailAgentState> = async (state) => {
    const classification = state.classification!;
    const humanDecision = interrupt({
      emailId: state.emailContent,
      draftResponse: state.responseText,
      urgency: classification.urgency,
      action: "Please review and approve/edit this response",
    });
    if (humanDecision.approved) {
      return new Command({
        update: { responseText: humanDecision.editedResponse || state.responseText },
        goto: "sendReply",
      });
    } else {
      return new Command({ update: {}, goto: END });
    }
  };
  const graph = new StateGraph(EmailAgentState)
    .addNode("humanReview", humanReview, { ends: ["sendReply", END] })
    .addNode("sendReply", (state: typeof EmailAgentState.State) => ({ sent: `sent: ${state.responseText}` }))
    .addEdge(START, "humanReview")
    .compile({ checkpointer: new MemorySaver() });
  const input = {
    emailContent: "Where is my order?",
    responseText: "It ships today.",
    classification: { urgency: "high" },
  };

  it("shows the draft, and an approval with an edit sends the edited reply", async () => {
    const config = { configurable: { thread_id: "email-approve" } };
    const paused = await graph.invoke(input, config);
    expect(paused.__interrupt__?.[0]?.value).toEqual({
      emailId: "Where is my order?",
      draftResponse: "It ships today.",
      urgency: "high",
      action: "Please review and approve/edit this response",
    });
    const done = await graph.invoke(
      new Command({ resume: { approved: true, editedResponse: "Shipped!" } }),
      config,
    );
    expect(done.responseText).toBe("Shipped!");
    expect(done.sent).toBe("sent: Shipped!");
  });

  it("a rejection goes to END without sending", async () => {
    const config = { configurable: { thread_id: "email-reject" } };
    await graph.invoke(input, config);
    const done = await graph.invoke(new Command({ resume: { approved: false } }), config);
    expect(done.sent).toBeUndefined();
    expect((await graph.getState(config)).next).toEqual([]);
  });
});

describe("seed 002: validation loop", () => {
  it("re-prompts until the answer is valid", async () => {
    const State = new StateSchema({ age: z.number().nullable().default(null) });
    const getAgeNode = (_state: typeof State.State) => {
      let prompt = "What is your age?";
      while (true) {
        const answer = interrupt(prompt);
        if (typeof answer === "number" && answer > 0) {
          return { age: answer };
        } else {
          prompt = `'${answer}' is not a valid age. Please enter a positive number.`;
        }
      }
    };
    const graph = new StateGraph(State)
      .addNode("getAge", getAgeNode)
      .addEdge(START, "getAge")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "form-1" } };
    const first = await graph.invoke({ age: null }, config);
    expect(first.__interrupt__?.[0]?.value).toBe("What is your age?");
    const retry = await graph.invoke(new Command({ resume: "thirty" }), config);
    expect(retry.__interrupt__?.[0]?.value).toBe(
      "'thirty' is not a valid age. Please enter a positive number.",
    );
    const final = await graph.invoke(new Command({ resume: 30 }), config);
    expect(final.age).toBe(30);
    expect(final.__interrupt__).toBeUndefined();
  });
});

describe("seed 002: multiple interrupts", () => {
  it("resumes parallel interrupts at once with a map of id → value", async () => {
    const State = Annotation.Root({
      vals: Annotation<string[]>({
        reducer: (left, right) => left.concat(Array.isArray(right) ? right : [right]),
        default: () => [],
      }),
    });
    function nodeA(_state: typeof State.State) {
      const answer = interrupt("question_a") as string;
      return { vals: [`a:${answer}`] };
    }
    function nodeB(_state: typeof State.State) {
      const answer = interrupt("question_b") as string;
      return { vals: [`b:${answer}`] };
    }
    const graph = new StateGraph(State)
      .addNode("a", nodeA)
      .addNode("b", nodeB)
      .addEdge(START, "a")
      .addEdge(START, "b")
      .addEdge("a", END)
      .addEdge("b", END)
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "1" } };
    const interruptedResult = await graph.invoke({ vals: [] }, config);
    const resumeMap: Record<string, string> = {};
    if (isInterrupted(interruptedResult)) {
      for (const i of interruptedResult[INTERRUPT]) {
        if (i.id != null) {
          resumeMap[i.id] = `answer for ${i.value}`;
        }
      }
    }
    expect(Object.keys(resumeMap)).toHaveLength(2);
    const result = await graph.invoke(new Command({ resume: resumeMap }), config);
    expect(result.vals).toEqual(["a:answer for question_a", "b:answer for question_b"]);
  });
});
