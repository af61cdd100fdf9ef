// The functional API (entrypoint, task, getPreviousState, entrypoint.final). Expectations recorded
// from LangGraph.js 1.7.3 running the same workflows, except where a comment says Layover differs.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Annotation,
  Command,
  entrypoint,
  getConfig,
  getPreviousState,
  InvalidGraphError,
  InvalidResumeError,
  interrupt,
  MemorySaver,
  MissingCheckpointerError,
  NotSerializableError,
  OutsideNodeError,
  START,
  StateGraph,
  task,
} from "../index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });

async function chunks(stream: Promise<AsyncIterableIterator<unknown>>): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const chunk of await stream) all.push(chunk);
  return all;
}

/** Counts each name's runs: `count(name, value)` counts one and gives back `value`. */
function counter() {
  const runs: Record<string, number> = {};
  const count = <T = undefined>(name: string, value?: T): T => {
    runs[name] = (runs[name] ?? 0) + 1;
    return value as T;
  };
  return { runs, count };
}

describe("entrypoint and task", () => {
  it("runs the function with its input and returns its value; tasks stream their results first", async () => {
    const add = task("add", async (a: number, b: number) => a + b);
    const double = task({ name: "double", retry: { maxAttempts: 2 } }, (x: number) => x * 2);
    const wf = entrypoint(
      { name: "wf", checkpointer: new MemorySaver() },
      async (input: { a: number; b: number }) => {
        const sum = await add(input.a, input.b);
        return { sum, doubled: await double(sum) };
      },
    );
    await expect(wf.invoke({ a: 1, b: 2 }, thread())).resolves.toEqual({ sum: 3, doubled: 6 });
    expect(await chunks(wf.stream({ a: 1, b: 2 }, thread()))).toEqual([
      { add: 3 },
      { double: 6 },
      { wf: { sum: 3, doubled: 6 } },
    ]);
    expect(await chunks(wf.stream({ a: 1, b: 2 }, { ...thread(), streamMode: "values" }))).toEqual([
      { sum: 3, doubled: 6 },
    ]);
    const config = thread();
    await wf.invoke({ a: 2, b: 2 }, config);
    const state = await wf.getState(config);
    expect(state.values).toEqual({ sum: 4, doubled: 8 });
    expect(state.next).toEqual([]);
    const history = [];
    for await (const snapshot of wf.getStateHistory(config)) history.push(snapshot);
    expect(history.map((s) => [s.metadata?.source, s.values, s.next])).toEqual([
      ["loop", { sum: 4, doubled: 8 }, []],
      ["input", null, ["wf"]],
    ]);
  });

  it("works without a checkpointer, and in the string form; a task returns a promise even when its function is sync", async () => {
    const inc = task("inc", (x: number) => x + 1);
    const wf = entrypoint("plain", async (x: number) => {
      const pending = inc(x);
      expect(pending).toBeInstanceOf(Promise);
      return (await pending) * 10;
    });
    await expect(wf.invoke(4)).resolves.toBe(50);
  });

  it("pauses at interrupt() in the function, and on resume gives back finished tasks' results instead of running them", async () => {
    const { runs, count } = counter();
    const add = task("add", async (a: number, b: number) => {
      count("add");
      return a + b;
    });
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async (input: number) => {
      count("body");
      const r = await add(input, 2);
      const answer = interrupt<unknown, string>({ question: "ok?", r });
      return { r, answer };
    });
    const config = thread();
    const first = await wf.invoke(1, config);
    expect(Object.keys(first as object)).toEqual(["__interrupt__"]);
    const [asked] = (first as unknown as { __interrupt__: Array<{ id: string; value: unknown }> })
      .__interrupt__;
    expect(asked?.value).toEqual({ question: "ok?", r: 3 });
    const paused = await wf.getState(config);
    expect(paused.values).toBeNull();
    expect(paused.next).toEqual(["wf"]);
    expect(paused.tasks.map((t) => [t.name, t.interrupts.map((i) => i.id)])).toEqual([["wf", [asked?.id]]]);

    expect(await chunks(wf.stream(new Command({ resume: "yes" }), config))).toEqual([
      { __metadata__: { cached: true }, add: 3 },
      { wf: { r: 3, answer: "yes" } },
    ]);
    expect(runs).toEqual({ add: 1, body: 2 });
    expect((await wf.getState(config)).values).toEqual({ r: 3, answer: "yes" });
  });

  it("pauses at interrupt() inside a task; the tasks before and beside it are not run again", async () => {
    const { runs, count } = counter();
    const before = task("before", async (x: number) => count("before", x * 10));
    const beside = task("beside", async (x: number) => count("beside", x + 100));
    const ask = task("ask", async (question: unknown) => {
      count("ask");
      return `got:${interrupt<unknown, string>(question)}`;
    });
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async (x: number) => {
      const b = await before(x);
      const [p, a] = await Promise.all([beside(b), ask({ question: "ok?", b })]);
      return { b, p, a };
    });
    const config = thread();
    const first = (await wf.invoke(1, config)) as unknown as {
      __interrupt__: Array<{ id: string; value: unknown }>;
    };
    expect(first.__interrupt__.map((i) => i.value)).toEqual([{ question: "ok?", b: 10 }]);
    expect(runs).toEqual({ before: 1, beside: 1, ask: 1 });
    // The task's question is the workflow's: its id answers it.
    const id = first.__interrupt__[0]?.id as string;
    expect((await wf.getState(config)).tasks.map((t) => [t.name, t.interrupts.map((i) => i.id)])).toEqual([
      ["wf", [id]],
    ]);
    await expect(wf.invoke(new Command({ resume: { [id]: "yes" } }), config)).resolves.toEqual({
      b: 10,
      p: 110,
      a: "got:yes",
    });
    expect(runs).toEqual({ before: 1, beside: 1, ask: 2 });
  });

  it("asks every question of tasks that pause side by side at once (LangGraph.js: only the first that rejects)", async () => {
    const ask = task("ask", async (q: string) => `${q}:${interrupt<string, string>(q)}`);
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async () => {
      const [x, y] = await Promise.all([ask("q1"), ask("q2")]);
      return { x, y };
    });
    const config = thread();
    const first = (await wf.invoke({}, config)) as unknown as {
      __interrupt__: Array<{ id: string; value: string }>;
    };
    expect(first.__interrupt__.map((i) => i.value).sort()).toEqual(["q1", "q2"]);
    const answers = Object.fromEntries(first.__interrupt__.map((i) => [i.id, i.value.toUpperCase()]));
    await expect(wf.invoke(new Command({ resume: answers }), config)).resolves.toEqual({
      x: "q1:Q1",
      y: "q2:Q2",
    });
  });

  it("fails with a task's error when another task asks beside it (as LangGraph.js), and run again gives back what finished", async () => {
    const { runs, count } = counter();
    let fail = true;
    const boom = task("boom", async () => {
      count("boom");
      await sleep(5);
      if (fail) throw new Error("kaboom");
      return "fixed";
    });
    const ask = task("ask", async () => {
      count("ask");
      return interrupt("q");
    });
    const ok = task("ok", async () => {
      count("ok");
      return "ok";
    });
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async (_input: unknown) => {
      const [a, b, c] = await Promise.all([ok(), boom(), ask()]);
      return [a, b, c];
    });
    const config = thread();
    await expect(wf.invoke({}, config)).rejects.toThrow("kaboom");
    fail = false;
    const asked = (await wf.invoke(null, config)) as unknown as { __interrupt__: Array<{ value: string }> };
    expect(asked.__interrupt__.map((i) => i.value)).toEqual(["q"]);
    await expect(wf.invoke(new Command({ resume: "A" }), config)).resolves.toEqual(["ok", "fixed", "A"]);
    expect(runs.ok).toBe(1);
    expect(runs.boom).toBe(2);
  });

  it("getPreviousState() gives what the thread's last run returned, or saved with entrypoint.final", async () => {
    const checkpointer = new MemorySaver();
    const seen: unknown[] = [];
    const total = entrypoint({ name: "total", checkpointer }, async (n: number) => {
      seen.push(getPreviousState());
      return (getPreviousState<number>() ?? 0) + n;
    });
    const config = thread();
    const results = [];
    for (const n of [1, 2, 3]) results.push(await total.invoke(n, config));
    expect(results).toEqual([1, 3, 6]);
    expect(seen).toEqual([undefined, 1, 3]);
    expect((await total.getState(config)).values).toBe(6);

    const saved: unknown[] = [];
    const fin = entrypoint({ name: "fin", checkpointer }, async (n: number) => {
      const previous = getPreviousState<number>();
      saved.push(previous);
      return entrypoint.final({ value: previous ?? 0, save: 2 * n });
    });
    const other = thread();
    const values = [];
    for (const n of [3, 1, 5]) values.push(await fin.invoke(n, other));
    expect(values).toEqual([0, 6, 2]);
    expect(saved).toEqual([undefined, 6, 2]);
    expect((await fin.getState(other)).values).toBe(2);
  });

  it("retries a task as its policy says; a task's error reaches invoke, and a rerun gives back the tasks that finished", async () => {
    const { runs, count } = counter();
    let failures = 2;
    const flaky = task(
      { name: "flaky", retry: { maxAttempts: 3, initialInterval: 1, jitter: false } },
      async () => {
        count("flaky");
        if (failures-- > 0) throw new Error(`flaky ${failures}`);
        return "ok";
      },
    );
    const once = task("once", async () => count("once", "done"));
    let broken = true;
    const fragile = task("fragile", async () => {
      count("fragile");
      if (broken) throw new RangeError("kaboom");
      return "mended";
    });
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async () => ({
      flaky: await flaky(),
      once: await once(),
      fragile: await fragile(),
    }));
    const config = thread();
    await expect(wf.invoke({}, config)).rejects.toThrow(RangeError);
    expect(runs).toEqual({ flaky: 3, once: 1, fragile: 1 });
    broken = false;
    await expect(wf.invoke(null, config)).resolves.toEqual({ flaky: "ok", once: "done", fragile: "mended" });
    expect(runs).toEqual({ flaky: 3, once: 1, fragile: 2 });
  });

  it("runs the same task called twice twice, each call with an id of its own kept across a resume", async () => {
    const ids: string[] = [];
    const echo = task("echo", async (x: string) => {
      ids.push((getConfig().metadata as { langgraph_task_id: string }).langgraph_task_id);
      return x;
    });
    const idOf = task(
      "idOf",
      async () => (getConfig().metadata as { langgraph_task_id: string }).langgraph_task_id,
    );
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async () => {
      const a = await echo("A");
      const b = await echo("A");
      const first = await idOf();
      const answer = interrupt<string, string>("go on?");
      return { a, b, first, again: await idOf(), answer };
    });
    const config = thread();
    await wf.invoke({}, config);
    expect(ids).toHaveLength(2);
    const done = (await wf.invoke(new Command({ resume: "y" }), config)) as Record<string, string>;
    expect(ids).toHaveLength(2); // both echo calls given back
    expect(done.first).not.toEqual(done.again);
    expect([done.a, done.b, done.answer]).toEqual(["A", "A", "y"]);
  });

  it("reports calls in the tasks stream as LangGraph.js's: pushed tasks whose result is not state", async () => {
    const add = task("add", async (a: number, b: number) => a + b);
    const wf = entrypoint("wf", async (x: number) => add(x, 1));
    const events = (await chunks(wf.stream(1, { streamMode: "tasks" }))) as Array<Record<string, unknown>>;
    expect(events.map((e) => [e.name, "input" in e ? "start" : "result"])).toEqual([
      ["wf", "start"],
      ["add", "start"],
      ["add", "result"],
      ["wf", "result"],
    ]);
    expect(events[1]).toMatchObject({ input: [1, 1], triggers: ["__pregel_push"] });
    expect(events[2]).toMatchObject({ result: {}, error: null });
    expect(events[3]).toMatchObject({ result: { __end__: 2 } });
  });

  it("calls tasks from a task and from a StateGraph node, which keeps their results across its interrupt", async () => {
    const { runs, count } = counter();
    const inner = task("inner", async (x: number) => count("inner", x + 1));
    const outer = task("outer", async (x: number) => count("outer", (await inner(x)) * 2));
    const nested = entrypoint("nested", async (x: number) => outer(x));
    expect(await chunks(nested.stream(1))).toEqual([{ inner: 2 }, { outer: 4 }, { nested: 4 }]);

    const State = Annotation.Root({ n: Annotation<number> });
    const graph = new StateGraph(State)
      .addNode("node", async (state) => {
        const doubled = await outer(state.n);
        return { n: doubled + interrupt<string, number>("add what?") };
      })
      .addEdge(START, "node")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    const paused = await graph.invoke({ n: 3 }, config);
    expect(paused.__interrupt__?.map((i) => i.value)).toEqual(["add what?"]);
    await expect(graph.invoke(new Command({ resume: 100 }), config)).resolves.toEqual({ n: 108 });
    expect(runs).toEqual({ inner: 2, outer: 2 });
  });
});

describe("entrypoint and task: refusals", () => {
  it("refuses a task called outside a running workflow, with the reason", () => {
    const add = task("add", async (a: number) => a);
    expect(() => add(1)).toThrow(OutsideNodeError);
    expect(() => add(1)).toThrow(/The task "add" can only be called while a graph node runs/);
    expect(() => getPreviousState()).toThrow(OutsideNodeError);
  });

  it("refuses names, functions and options it cannot run, before anything runs", () => {
    expect(() => task("", async () => 1)).toThrow(InvalidGraphError);
    expect(() => task({ name: "a:b" }, async () => 1)).toThrow(/without ":" or "\|"/);
    expect(() => task("gen", function* () {} as never)).toThrow(/generator function/);
    expect(() => entrypoint({ name: "wf", cache: {} } as never, async () => 1)).toThrow(/takes a cache/);
    expect(() => entrypoint({ name: "wf", checkpointer: true } as never, async () => 1)).toThrow(
      InvalidGraphError,
    );
    expect(() => entrypoint({ name: "wf", store: {} as never }, async () => 1)).toThrow(/long-term store/);
    expect(() => entrypoint("wf", async function* () {} as never)).toThrow(/generator function/);
  });

  it("refuses interrupt() without a checkpointer, and a result a checkpointer cannot keep", async () => {
    const wf = entrypoint("wf", async () => interrupt("ok?"));
    await expect(wf.invoke({})).rejects.toThrow(MissingCheckpointerError);
    await expect(wf.invoke({})).rejects.toThrow(/entrypoint\(\{ name, checkpointer/);
    const callback = task("callback", async () => () => "later");
    const called = entrypoint({ name: "called", checkpointer: new MemorySaver() }, async () => callback());
    await expect(called.invoke({}, thread())).rejects.toThrow(NotSerializableError);
    await expect(called.invoke({}, thread())).rejects.toThrow(
      /The result of task "callback" cannot be stored/,
    );
  });
});

it("README: a booking workflow books once, after the answer, without searching again", async () => {
  const Answer = z.object({ approved: z.boolean() });
  type Offer = { flight: string; price: number };
  const calls: string[] = [];
  const flights = {
    cheapest: async (route: string) => {
      calls.push("search");
      return { flight: `${route}-1`, price: 99 };
    },
  };
  const airline = {
    book: async (offer: Offer) => {
      calls.push("book");
      return { confirmation: `C-${offer.flight}` };
    },
  };
  const checkpointer = new MemorySaver();

  const search = task("search", async (route: string) => flights.cheapest(route));
  const approve = task("approve", async (offer: Offer) =>
    interrupt({ question: "Book this flight?", offer }, { timeout: "1h", schema: Answer }),
  );
  const book = task({ name: "book", retry: { maxAttempts: 3 } }, async (offer: Offer) => airline.book(offer));

  const booking = entrypoint({ name: "booking", checkpointer }, async ({ route }: { route: string }) => {
    const offer = await search(route);
    const { approved } = await approve(offer);
    return approved ? { status: "booked", ...(await book(offer)) } : { status: "rejected" };
  });

  const config = thread();
  const paused = (await booking.invoke({ route: "AMS-JFK" }, config)) as unknown as {
    __interrupt__: Array<{ value: unknown; timeoutMs?: number }>;
  };
  expect(paused.__interrupt__).toMatchObject([
    { value: { question: "Book this flight?" }, timeoutMs: 3_600_000 },
  ]);
  await expect(booking.invoke(new Command({ resume: { approved: "yes" } }), config)).rejects.toThrow(
    InvalidResumeError,
  );
  await expect(booking.invoke(new Command({ resume: { approved: true } }), config)).resolves.toEqual({
    status: "booked",
    confirmation: "C-AMS-JFK-1",
  });
  expect(calls).toEqual(["search", "book"]);
});
