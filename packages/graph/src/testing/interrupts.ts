import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Annotation, Command, END, interrupt, START, StateGraph } from "../index.ts";
import { appendReducer, CallCounter, expectCode, threadConfig, type UseSaver } from "./helpers.ts";

const AnswerState = Annotation.Root({
  answers: Annotation<unknown[], unknown>({ reducer: appendReducer, default: () => [] }),
  done: Annotation<boolean>(),
});

/** Items 2 and 3: pausing with interrupt(), resuming with Command({ resume }). */
export function describeInterrupts(use: UseSaver): void {
  describe("interrupt() and Command({ resume })", () => {
    it("stops at the end of the superstep and returns the state with __interrupt__", () =>
      stopsAtEndOfStep(use()));
    it("restarts the node from its beginning on resume", () => restartsNode(use()));
    it("gives the k-th interrupt() call the k-th resume value", () => kthResume(use()));
    for (const falsy of [false, 0, "", null]) {
      it(`resumes with the falsy value ${JSON.stringify(falsy)}`, () => falsyResume(use(), falsy));
    }
  });
  describe("interrupt() values must be JSON", () => {
    for (const [what, make, path] of BAD_VALUES) {
      it(`fails at the interrupt() call for ${what}, naming ${path}`, () => badValue(use(), make, path));
    }
  });
}

async function stopsAtEndOfStep(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(AnswerState)
    .addNode("ask", () => ({ answers: interrupt({ question: "ok?" }) }))
    .addNode("sibling", () => {
      calls.hit("sibling");
      return { answers: "sibling" };
    })
    .addNode("after", () => {
      calls.hit("after");
      return { done: true };
    })
    .addEdge(START, "ask")
    .addEdge(START, "sibling")
    .addEdge("ask", "after")
    .compile({ checkpointer: saver });
  const result = await graph.invoke({ answers: "input" }, threadConfig("stop"));
  // As LangGraph: what the paused superstep's other tasks finished shows in the result.
  expect(result).toEqual({
    answers: ["input", "sibling"],
    __interrupt__: [{ id: expect.stringMatching(/^[0-9a-f-]{36}$/), value: { question: "ok?" } }],
  });
  expect(calls.of("sibling")).toBe(1);
  expect(calls.of("after")).toBe(0);
}

async function restartsNode(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(AnswerState)
    .addNode("ask", () => {
      calls.hit("before");
      const answer = interrupt("name?");
      calls.hit("after");
      return { answers: answer };
    })
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
  const config = threadConfig("restart");
  await graph.invoke({}, config);
  expect([calls.of("before"), calls.of("after")]).toEqual([1, 0]);
  const result = await graph.invoke(new Command({ resume: "Ada" }), config);
  expect(result).toEqual({ answers: ["Ada"] });
  expect([calls.of("before"), calls.of("after")]).toEqual([2, 1]);
}

async function kthResume(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(AnswerState)
    .addNode("form", () => {
      const name = interrupt("name?");
      const age = interrupt(`age of ${name}?`);
      const city = interrupt(`city of ${name}?`);
      return { answers: [[name, age, city]] };
    })
    .addEdge(START, "form")
    .compile({ checkpointer: saver });
  const config = threadConfig("kth");
  expect((await graph.invoke({}, config)).__interrupt__?.[0]?.value).toBe("name?");
  const second = await graph.invoke(new Command({ resume: "Ada" }), config);
  expect(second.__interrupt__?.map((i) => i.value)).toEqual(["age of Ada?"]);
  const third = await graph.invoke(new Command({ resume: 36 }), config);
  expect(third.__interrupt__?.map((i) => i.value)).toEqual(["city of Ada?"]);
  const done = await graph.invoke(new Command({ resume: "London" }), config);
  expect(done).toEqual({ answers: [["Ada", 36, "London"]] });
}

async function falsyResume(saver: CheckpointSaver, falsy: unknown): Promise<void> {
  const graph = new StateGraph(AnswerState)
    .addNode("ask", () => ({ answers: [interrupt("value?")], done: true }))
    .addEdge(START, "ask")
    .addEdge("ask", END)
    .compile({ checkpointer: saver });
  const config = threadConfig("falsy");
  await graph.invoke({}, config);
  const result = await graph.invoke(new Command({ resume: falsy }), config);
  expect(result).toEqual({ answers: [falsy], done: true });
  expect((await graph.getState(config)).next).toEqual([]);
}

const BAD_VALUES: ReadonlyArray<readonly [string, () => unknown, string]> = [
  ["a function", () => ({ callback: () => 1 }), "$.callback"],
  ["a class instance with methods", () => ({ items: [new Money(1)] }), "$.items[0]"],
  ["a cycle", cyclicValue, "$.node.self"],
  ["a BigInt", () => ({ amount: 10n }), "$.amount"],
  ["undefined inside an array", () => ({ list: [1, undefined, 3] }), "$.list[1]"],
  ["a Date", () => ({ when: new Date(0) }), "$.when"],
];

class Money {
  readonly cents: number;
  constructor(cents: number) {
    this.cents = cents;
  }
  format(): string {
    return `${this.cents / 100}`;
  }
}

function cyclicValue(): unknown {
  const node: Record<string, unknown> = { name: "loop" };
  node.self = node;
  return { node };
}

async function badValue(saver: CheckpointSaver, make: () => unknown, path: string): Promise<void> {
  let caught: unknown;
  const graph = new StateGraph(AnswerState)
    .addNode("ask", () => {
      try {
        interrupt(make());
      } catch (error) {
        caught = error;
        throw error;
      }
    })
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
  const config = threadConfig("json");
  const error = await expectCode(graph.invoke({}, config), "NOT_SERIALIZABLE");
  expect(caught).toBe(error);
  expect(error.message).toContain(path);
  expect((error as { path?: unknown }).path).toBe(path);
  expect((await graph.getState(config)).tasks[0]?.interrupts).toEqual([]);
}
