import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  Command,
  InvalidInputError,
  interrupt,
  isGraphBubbleUp,
  isParentCommand,
  MAX_DURATION_MS,
  MemorySaver,
  ParentCommand,
  parseDuration,
  START,
  StateGraph,
} from "./index.ts";
import { expectCode, expectThrowsCode } from "./testing/helpers.ts";

const run = promisify(execFile);
const State = Annotation.Root({ answer: Annotation<string>() });

describe("interrupt() without a checkpointer", () => {
  it("fails with MissingCheckpointerError that names the fix", async () => {
    const graph = new StateGraph(State)
      .addNode("ask", () => ({ answer: interrupt("name?") }))
      .addEdge(START, "ask")
      .compile();
    const error = await expectCode(graph.invoke({}), "MISSING_CHECKPOINTER");
    expect(error.name).toBe("MissingCheckpointerError");
    expect(error).toMatchObject({ lc_error_code: "MISSING_CHECKPOINTER" });
    expect(error.message).toContain("compile({ checkpointer: new MemorySaver() })");
  });

  it("fails the same way inside a subgraph of a graph without a checkpointer", async () => {
    const subgraph = new StateGraph(State)
      .addNode("ask", () => ({ answer: interrupt("name?") }))
      .addEdge(START, "ask")
      .compile();
    const graph = new StateGraph(State).addNode("sub", subgraph).addEdge(START, "sub").compile();
    await expectCode(graph.invoke({}), "MISSING_CHECKPOINTER");
  });

  it("does not stop a graph that never interrupts from running without one", async () => {
    const graph = new StateGraph(State)
      .addNode("answer", () => ({ answer: "42" }))
      .addEdge(START, "answer")
      .compile();
    expect(await graph.invoke({})).toEqual({ answer: "42" });
  });
});

describe("interrupt() outside a node", () => {
  it("fails with OutsideNodeError", () => {
    const error = expectThrowsCode(() => interrupt("name?"), "OUTSIDE_NODE");
    expect(error.message).toContain("inside a node");
  });
});

describe("parseDuration", () => {
  it("reads milliseconds and unit strings", () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(parseDuration("250ms")).toBe(250);
  });

  it("refuses anything else, saying what it accepts", () => {
    for (const bad of ["soon", "10", "-5s", -1, Number.NaN]) {
      const error = expectThrowsCode(() => parseDuration(bad), "INVALID_INPUT");
      expect(error.message).toContain('"30s"');
    }
  });

  it("refuses more than a century, which Postgres could not add to now()", () => {
    expect(parseDuration("36500d")).toBe(MAX_DURATION_MS);
    for (const long of ["36501d", Number.MAX_VALUE, "99999999999d"]) {
      const error = expectThrowsCode(() => parseDuration(long), "INVALID_INPUT");
      expect(error.message).toContain("at most a century");
    }
  });
});

describe("the GraphInterrupt a pause throws", () => {
  it("is a GraphBubbleUp, as LangGraph's: a catch-all in node code that throws those on still pauses", async () => {
    const graph = new StateGraph(State)
      .addNode("ask", () => {
        try {
          return { answer: interrupt("name?") };
        } catch (error) {
          if (isGraphBubbleUp(error)) throw error;
          return { answer: "swallowed" };
        }
      })
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "bubble-up" } };
    expect((await graph.invoke({}, config)).__interrupt__).toHaveLength(1);
    expect(await graph.invoke(new Command({ resume: "Ada" }), config)).toEqual({ answer: "Ada" });
  });

  it("pauses where Error.stackTraceLimit cannot be set (node --frozen-intrinsics)", async () => {
    const fixture = fileURLToPath(new URL("./testing/frozen-pause.ts", import.meta.url));
    const { stdout } = await run(process.execPath, ["--frozen-intrinsics", "--no-warnings", fixture]);
    expect(JSON.parse(stdout)).toEqual({ paused: 1 });
  });

  it("is told apart from a node's own failures, as a Command for the parent graph is", () => {
    expect(isGraphBubbleUp(new ParentCommand(new Command({ graph: Command.PARENT, goto: "next" })))).toBe(
      true,
    );
    expect(isParentCommand(new ParentCommand(new Command({ graph: Command.PARENT, goto: "next" })))).toBe(
      true,
    );
    for (const other of [new Error("boom"), new InvalidInputError("bad"), undefined, null, "GraphInterrupt"])
      expect(isGraphBubbleUp(other)).toBe(false);
  });

  it("leaves the stack traces of the errors after it whole (it takes none of its own)", async () => {
    const graph = new StateGraph(State)
      .addNode("ask", () => ({ answer: interrupt("name?") }))
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const before = Error.stackTraceLimit;
    const paused = await graph.invoke({}, { configurable: { thread_id: "stack" } });
    expect(paused.__interrupt__).toHaveLength(1);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error("after").stack?.split("\n").length).toBeGreaterThan(1);
  });
});
