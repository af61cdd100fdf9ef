// The TypeScript examples of LangGraph's "Use the graph API" guide
// (docs.langchain.com/oss/javascript/langgraph/use-graph-api), with only the import changed
// from "@langchain/langgraph" to "@layover/graph": each gives the output the guide shows.
// Where the guide picks at random or logs, the test fixes the choice and collects the log.

import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  Command,
  type ConditionalEdgeRouter,
  END,
  type GraphNode,
  GraphRecursionError,
  MessagesValue,
  ReducedValue,
  Send,
  START,
  StateGraph,
  StateSchema,
} from "../index.ts";

describe("use-graph-api: state", () => {
  it("MessagesValue appends a node's message to the input's", async () => {
    const State = new StateSchema({
      messages: MessagesValue,
      extraField: z.number(),
    });
    const node: GraphNode<typeof State> = (_state) => {
      const newMessage = new AIMessage("Hello!");
      return { messages: [newMessage], extraField: 10 };
    };
    const graph = new StateGraph(State).addNode("node", node).addEdge("__start__", "node").compile();
    const result = await graph.invoke({ messages: [new HumanMessage("Hi")], extraField: 0 });
    expect(result.messages.map((message) => `${message.getType()}: ${message.content}`)).toEqual([
      "human: Hi",
      "ai: Hello!",
    ]);
    expect(result.extraField).toBe(10);
    const fromRole = await graph.invoke({ messages: [{ role: "user", content: "Hi" }] });
    expect(fromRole.messages.map((message) => `${message.getType()}: ${message.content}`)).toEqual([
      "human: Hi",
      "ai: Hello!",
    ]);
  });

  it("runtime context: new StateGraph(State, ContextSchema) and invoke(…, { context })", async () => {
    const ContextSchema = z.object({
      myRuntimeValue: z.string(),
    });
    const State = new StateSchema({
      myStateValue: z.number(),
    });
    const node: GraphNode<typeof State> = (_state, runtime) => {
      if (runtime?.context?.myRuntimeValue === "a") {
        return { myStateValue: 1 };
      } else if (runtime?.context?.myRuntimeValue === "b") {
        return { myStateValue: 2 };
      } else {
        throw new Error("Unknown values.");
      }
    };
    const graph = new StateGraph(State, ContextSchema)
      .addNode("node", node)
      .addEdge(START, "node")
      .addEdge("node", END)
      .compile();
    expect(await graph.invoke({}, { context: { myRuntimeValue: "a" } })).toEqual({ myStateValue: 1 });
    expect(await graph.invoke({}, { context: { myRuntimeValue: "b" } })).toEqual({ myStateValue: 2 });
  });
});

describe("use-graph-api: sequences, branches, loops", () => {
  it("a sequence of three steps", async () => {
    const State = new StateSchema({
      value1: z.string(),
      value2: z.number(),
    });
    const step1: GraphNode<typeof State> = (_state) => {
      return { value1: "a" };
    };
    const step2: GraphNode<typeof State> = (state) => {
      const currentValue1 = state.value1;
      return { value1: `${currentValue1} b` };
    };
    const step3: GraphNode<typeof State> = (_state) => {
      return { value2: 10 };
    };
    const graph = new StateGraph(State)
      .addNode("step1", step1)
      .addNode("step2", step2)
      .addNode("step3", step3)
      .addEdge(START, "step1")
      .addEdge("step1", "step2")
      .addEdge("step2", "step3")
      .compile();
    expect(await graph.invoke({ value1: "c" })).toEqual({ value1: "a b", value2: 10 });
  });

  it("fan out from a to b and c, fan in to d, with a reducer", async () => {
    const log: string[] = [];
    const State = new StateSchema({
      aggregate: new ReducedValue(
        z.array(z.string()).default(() => []),
        { reducer: (x, y) => x.concat(y) },
      ),
    });
    const nodeA: GraphNode<typeof State> = (state) => {
      log.push(`Adding "A" to ${state.aggregate}`);
      return { aggregate: [`A`] };
    };
    const nodeB: GraphNode<typeof State> = (state) => {
      log.push(`Adding "B" to ${state.aggregate}`);
      return { aggregate: [`B`] };
    };
    const nodeC: GraphNode<typeof State> = (state) => {
      log.push(`Adding "C" to ${state.aggregate}`);
      return { aggregate: [`C`] };
    };
    const nodeD: GraphNode<typeof State> = (state) => {
      log.push(`Adding "D" to ${state.aggregate}`);
      return { aggregate: [`D`] };
    };
    const graph = new StateGraph(State)
      .addNode("a", nodeA)
      .addNode("b", nodeB)
      .addNode("c", nodeC)
      .addNode("d", nodeD)
      .addEdge(START, "a")
      .addEdge("a", "b")
      .addEdge("a", "c")
      .addEdge("b", "d")
      .addEdge("c", "d")
      .addEdge("d", END)
      .compile();
    const result = await graph.invoke({ aggregate: [] });
    expect(result).toEqual({ aggregate: ["A", "B", "C", "D"] });
    expect(log).toEqual(['Adding "A" to ', 'Adding "B" to A', 'Adding "C" to A', 'Adding "D" to A,B,C']);
  });

  it("conditional branching with a ConditionalEdgeRouter, to one node or several", async () => {
    const State = new StateSchema({
      aggregate: new ReducedValue(
        z.array(z.string()).default(() => []),
        { reducer: (x, y) => x.concat(y) },
      ),
      which: z.string(),
    });
    const nodeA: GraphNode<typeof State> = (_state) => {
      return { aggregate: ["A"], which: "c" };
    };
    const nodeB: GraphNode<typeof State> = (_state) => {
      return { aggregate: ["B"] };
    };
    const nodeC: GraphNode<typeof State> = (_state) => {
      return { aggregate: ["C"] };
    };
    const conditionalEdge: ConditionalEdgeRouter<typeof State, "b" | "c"> = (state) => {
      return state.which as "b" | "c";
    };
    const graph = new StateGraph(State)
      .addNode("a", nodeA)
      .addNode("b", nodeB)
      .addNode("c", nodeC)
      .addEdge(START, "a")
      .addEdge("b", END)
      .addEdge("c", END)
      .addConditionalEdges("a", conditionalEdge)
      .compile();
    expect(await graph.invoke({ aggregate: [] })).toEqual({ aggregate: ["A", "C"], which: "c" });

    const routeBcOrCd: ConditionalEdgeRouter<typeof State, "b" | "c" | "d"> = (state) => {
      if (state.which === "cd") {
        return ["c", "d"];
      }
      return ["b", "c"];
    };
    const fanOut = new StateGraph(State)
      .addNode("a", () => ({ aggregate: ["A"], which: "cd" }))
      .addNode("b", nodeB)
      .addNode("c", nodeC)
      .addNode("d", () => ({ aggregate: ["D"] }))
      .addEdge(START, "a")
      .addConditionalEdges("a", routeBcOrCd)
      .compile();
    expect(await fanOut.invoke({ aggregate: [] })).toEqual({ aggregate: ["A", "C", "D"], which: "cd" });
  });

  it("map-reduce with Send: streamed updates, one per joke", async () => {
    const OverallState = new StateSchema({
      topic: z.string(),
      subjects: z.array(z.string()),
      jokes: new ReducedValue(
        z.array(z.string()).default(() => []),
        { reducer: (x, y) => x.concat(y) },
      ),
      bestSelectedJoke: z.string(),
    });
    const generateTopics: GraphNode<typeof OverallState> = (_state) => {
      return { subjects: ["lions", "elephants", "penguins"] };
    };
    const generateJoke: GraphNode<typeof OverallState> = (state) => {
      const jokeMap: Record<string, string> = {
        lions: "Why don't lions like fast food? Because they can't catch it!",
        elephants: "Why don't elephants use computers? They're afraid of the mouse!",
        penguins:
          "Why don't penguins like talking to strangers at parties? Because they find it hard to break the ice.",
      };
      // The node reads the Send's argument, which OverallState (the guide's type, in LangGraph.js too) does not have.
      return { jokes: [jokeMap[(state as any).subject] as string] };
    };
    const continueToJokes: ConditionalEdgeRouter<typeof OverallState, "generateJoke"> = (state) => {
      return state.subjects.map((subject) => new Send("generateJoke", { subject }));
    };
    const bestJoke: GraphNode<typeof OverallState> = (_state) => {
      return { bestSelectedJoke: "penguins" };
    };
    const graph = new StateGraph(OverallState)
      .addNode("generateTopics", generateTopics)
      .addNode("generateJoke", generateJoke)
      .addNode("bestJoke", bestJoke)
      .addEdge(START, "generateTopics")
      .addConditionalEdges("generateTopics", continueToJokes)
      .addEdge("generateJoke", "bestJoke")
      .addEdge("bestJoke", END)
      .compile();
    const steps: unknown[] = [];
    for await (const step of await graph.stream({ topic: "animals" })) {
      steps.push(step);
    }
    expect(steps).toEqual([
      { generateTopics: { subjects: ["lions", "elephants", "penguins"] } },
      { generateJoke: { jokes: ["Why don't lions like fast food? Because they can't catch it!"] } },
      { generateJoke: { jokes: ["Why don't elephants use computers? They're afraid of the mouse!"] } },
      {
        generateJoke: {
          jokes: [
            "Why don't penguins like talking to strangers at parties? Because they find it hard to break the ice.",
          ],
        },
      },
      { bestJoke: { bestSelectedJoke: "penguins" } },
    ]);
  });

  it("a loop ends by its condition, and a recursion limit of 4 throws GraphRecursionError", async () => {
    const log: string[] = [];
    const State = new StateSchema({
      aggregate: new ReducedValue(
        z.array(z.string()).default(() => []),
        { reducer: (x, y) => x.concat(y) },
      ),
    });
    const nodeA: GraphNode<typeof State> = (state) => {
      log.push(`Node A sees ${state.aggregate}`);
      return { aggregate: ["A"] };
    };
    const nodeB: GraphNode<typeof State> = (state) => {
      log.push(`Node B sees ${state.aggregate}`);
      return { aggregate: ["B"] };
    };
    const route: ConditionalEdgeRouter<typeof State, "b"> = (state) => {
      if (state.aggregate.length < 7) {
        return "b";
      } else {
        return END;
      }
    };
    const graph = new StateGraph(State)
      .addNode("a", nodeA)
      .addNode("b", nodeB)
      .addEdge(START, "a")
      .addConditionalEdges("a", route)
      .addEdge("b", "a")
      .compile();
    expect(await graph.invoke({ aggregate: [] })).toEqual({ aggregate: ["A", "B", "A", "B", "A", "B", "A"] });
    log.length = 0;
    let caught = "";
    try {
      await graph.invoke({ aggregate: [] }, { recursionLimit: 4 });
    } catch (error) {
      if (error instanceof GraphRecursionError) {
        caught = "Recursion Error";
      }
    }
    expect(caught).toBe("Recursion Error");
    // The guide prints a fifth line ("Node A sees A,B,A,B"); LangGraph.js 1.7.3 runs four nodes, as Layover does.
    expect(log).toEqual(["Node A sees ", "Node B sees A", "Node A sees A,B", "Node B sees A,B,A"]);
  });
});

describe("use-graph-api: Command", () => {
  // The guide routes on Math.random(); this picks the branch it shows.
  const random = () => 0.25;

  it("a node updates the state and routes with Command (goto)", async () => {
    const log: string[] = [];
    const State = new StateSchema({
      foo: z.string(),
    });
    const nodeA: GraphNode<typeof State, "nodeB" | "nodeC"> = (_state) => {
      log.push("Called A");
      const value = random() > 0.5 ? "b" : "c";
      const goto = value === "b" ? "nodeB" : "nodeC";
      return new Command({
        update: { foo: value },
        goto,
      });
    };
    const nodeB: GraphNode<typeof State> = (state) => {
      log.push("Called B");
      return { foo: `${state.foo}b` };
    };
    const nodeC: GraphNode<typeof State> = (state) => {
      log.push("Called C");
      return { foo: `${state.foo}c` };
    };
    const graph = new StateGraph(State)
      .addNode("nodeA", nodeA, {
        ends: ["nodeB", "nodeC"],
      })
      .addNode("nodeB", nodeB)
      .addNode("nodeC", nodeC)
      .addEdge(START, "nodeA")
      .compile();
    expect(await graph.invoke({ foo: "" })).toEqual({ foo: "cc" });
    expect(log).toEqual(["Called A", "Called C"]);
  });

  it("a subgraph's node goes to a node of its parent with Command.PARENT", async () => {
    const log: string[] = [];
    const State = new StateSchema({
      foo: new ReducedValue(z.string().default(""), { reducer: (x, y) => x + y }),
    });
    const nodeA: GraphNode<typeof State, "nodeB" | "nodeC"> = (_state) => {
      log.push("Called A");
      const value = random() > 0.5 ? "nodeB" : "nodeC";
      return new Command({
        update: { foo: "a" },
        goto: value,
        graph: Command.PARENT,
      });
    };
    // The guide also gives the subgraph's nodeA { ends: ["nodeB", "nodeC"] }, which LangGraph.js
    // 1.7.3 refuses ("Found edge ending at unknown node `nodeB`"): the parent's nodes are not the subgraph's.
    const subgraph = new StateGraph(State).addNode("nodeA", nodeA).addEdge(START, "nodeA").compile();
    const nodeB: GraphNode<typeof State> = (_state) => {
      log.push("Called B");
      return { foo: "b" };
    };
    const nodeC: GraphNode<typeof State> = (_state) => {
      log.push("Called C");
      return { foo: "c" };
    };
    const graph = new StateGraph(State)
      .addNode("subgraph", subgraph, { ends: ["nodeB", "nodeC"] })
      .addNode("nodeB", nodeB)
      .addNode("nodeC", nodeC)
      .addEdge(START, "subgraph")
      .compile();
    expect(await graph.invoke({ foo: "" })).toEqual({ foo: "ac" });
    expect(log).toEqual(["Called A", "Called C"]);
  });
});
