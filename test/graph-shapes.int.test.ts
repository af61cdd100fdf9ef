// Differential tests of graph shapes beyond one question in a top-level node: each runs
// in-process (the engine and its MemorySaver) and through the runtime (two workers, so parks
// and resumes land on either; real Postgres, Redis and BullMQ); what a user sees must match
// (support/differential.ts): values, questions, tasks and next, history, node executions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionsOf } from "./fixtures/executions.ts";
import { byId, differential, just, type Seen } from "./support/differential.ts";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("graph-shapes");
  await h.startWorker({ id: "worker-a" });
  await h.startWorker({ id: "worker-b" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("1. interrupts inside subgraphs", () => {
  it("a subgraph used as a node: asks once, resumes, the parent goes on", async () => {
    const { shown, remote: r } = await differential(h, "sub-node", { value: "v" }, [just("Ada")]);
    expect(shown.remote[0]).toMatchObject({
      next: ["sub"],
      tasks: [{ name: "sub", interrupts: [{ ask: "name?", of: "v" }] }],
    });
    expect(shown.remote[1]?.values).toMatchObject({ name: "Ada", log: ["before", "after Ada"] });
    expect(executionsOf(r.threadId)).toEqual({ before: 1, inner: 2, after: 1 });
  });

  it("a subgraph called from a node function: both re-run on resume, as in-process", async () => {
    const { shown, remote: r } = await differential(h, "sub-call", { value: "v" }, [just("Ada")]);
    expect(shown.remote[0]?.tasks).toEqual([{ name: "caller", interrupts: [{ ask: "name?", of: "v" }] }]);
    expect(shown.remote[1]?.values).toMatchObject({ log: ["called for Ada", "after Ada"] });
    expect(executionsOf(r.threadId)).toEqual({ caller: 2, inner: 2, after: 1 });
  });

  it("two levels of subgraphs as nodes, asking at both levels", async () => {
    const { shown, remote: r } = await differential(h, "nested-nodes", { value: "v" }, [
      just("Ada"),
      just("London"),
    ]);
    expect(shown.remote[1]?.tasks).toEqual([{ name: "mid", interrupts: [{ ask: "city?", of: "Ada" }] }]);
    expect(shown.remote[2]?.values).toMatchObject({ log: ["Ada from London"] });
    expect(executionsOf(r.threadId)).toEqual({ inner: 2, where: 2, after: 1 });
  });

  it("two levels of subgraphs called from node functions, asking at both levels", async () => {
    const { shown, remote: r } = await differential(h, "nested-calls", { value: "v" }, [
      just("Ada"),
      just("London"),
    ]);
    expect(shown.remote[2]?.values).toMatchObject({ log: ["Ada from London"] });
    expect(executionsOf(r.threadId)).toEqual({ outer: 3, midcaller: 3, inner: 2 });
  });
});

describe("2. Send fan-out where every branch asks", () => {
  const items = ["a", "b", "c"];
  const all = byId(
    () => true,
    (v: { review: string }) => `ok-${v.review}`,
  );
  const only = (picked: string[]) =>
    byId(
      (v: { review: string }) => picked.includes(v.review),
      (v: { review: string }) => `ok-${v.review}`,
    );

  for (const graphId of ["fanout", "fanout-sub"] as const) {
    it(`${graphId}: answered all at once by id`, async () => {
      const { shown, remote: r } = await differential(h, graphId, { items }, [all]);
      // In the order the branches were sent, as the engine lists them.
      expect(shown.remote[0]?.interrupts.map((i) => i.value)).toEqual([
        { review: "a" },
        { review: "b" },
        { review: "c" },
      ]);
      expect(shown.remote[1]?.values.results).toEqual(["a:ok-a", "b:ok-b", "c:ok-c", "summary of 3"]);
      expect(executionsOf(r.threadId)).toMatchObject({
        "review:a": 2,
        "review:b": 2,
        "review:c": 2,
        summary: 1,
      });
    });

    it(`${graphId}: answered in two parts; answered branches do not run again`, async () => {
      const { shown, remote: r } = await differential(
        h,
        graphId,
        { items },
        [only(["a", "c"]), only(["b"])],
        {
          pausedValues: false,
        },
      );
      const ids = (s: Seen | undefined) => (s?.interrupts ?? []).map((i) => i.id);
      // The question still waiting keeps its id.
      expect(ids(shown.remote[1])).toEqual(
        (shown.remote[0]?.interrupts ?? [])
          .filter((i) => (i.value as { review: string }).review === "b")
          .map((i) => i.id),
      );
      expect(shown.remote[2]?.values.results).toEqual(["a:ok-a", "b:ok-b", "c:ok-c", "summary of 3"]);
      expect(executionsOf(r.threadId)).toMatchObject({
        "review:a": 2,
        "review:b": 2,
        "review:c": 2,
        summary: 1,
      });
    });
  }
});

describe("3. parallel nodes: one asks, one finishes", () => {
  it("the finished node does not run again after the resume", async () => {
    const { shown, remote: r } = await differential(h, "ask-and-work", {}, [just("yes")], {
      pausedValues: false,
    });
    expect(shown.remote[0]?.tasks).toEqual([{ name: "ask", interrupts: ["ok?"] }]);
    expect(shown.remote[1]?.values).toMatchObject({ asked: "yes", worked: 1 });
    expect(executionsOf(r.threadId)).toEqual({ ask: 2, work: 1, join: 1 });
  });

  it("the same with the question inside a subgraph", async () => {
    const { remote: r, shown } = await differential(h, "sub-and-work", { value: "v" }, [just("Ada")], {
      pausedValues: false,
    });
    expect(shown.remote[1]?.values.log).toEqual(["work", "join Ada"]);
    expect(executionsOf(r.threadId)).toEqual({ inner: 2, work: 1, join: 1 });
  });
});

describe("4. Command({ goto, update }) after a resume (seeds 002, 004)", () => {
  it("email review: approve with an edit sends it; reject ends", async () => {
    const approved = await differential(h, "email-review", { emailContent: "hi" }, [
      just({ approved: true, editedResponse: "Edited" }),
    ]);
    expect(approved.shown.remote[1]?.values).toMatchObject({ responseText: "Edited", sent: "Edited" });
    const rejected = await differential(h, "email-review", { emailContent: "hi" }, [
      just({ approved: false }),
    ]);
    expect(rejected.shown.remote[1]?.values).not.toHaveProperty("sent");
    expect(executionsOf(rejected.remote.threadId)).toEqual({ draft: 1, humanReview: 2 });
  });

  it("flight booking: approve, edit and reject route with Command", async () => {
    const approve = await differential(h, "booking-route", {}, [just({ choice: "approve" })]);
    expect(approve.shown.remote[1]?.values.bookingConfirmation).toBe("BOOKED LAX->JFK on 2026-05-29");
    const edit = await differential(h, "booking-route", {}, [
      just({ choice: "edit", edits: { date: "2026-05-30" } }),
    ]);
    expect(edit.shown.remote[1]?.values.bookingConfirmation).toBe("BOOKED LAX->JFK on 2026-05-30");
    const reject = await differential(h, "booking-route", {}, [
      just({ choice: "reject", reason: "cheaper" }),
    ]);
    expect(reject.shown.remote[1]?.values.bookingConfirmation).toBe("Rejected by user: rejected: cheaper");
    expect(executionsOf(reject.remote.threadId)).toEqual({ planner: 1, gate: 2, cancel: 1 });
  });
});

describe("7. messages and a custom reducer across a pause", () => {
  it("keeps the messages (merged by id) and the reducer's sum", async () => {
    const { shown } = await differential(
      h,
      "chat-approval",
      { messages: [{ role: "user", content: "book it", id: "human-1" }] },
      [just("approved")],
    );
    expect(shown.remote[0]?.interrupts.map((i) => i.value)).toEqual([
      { ask: "send it?", call: { to: "JFK" } },
    ]);
    const done = shown.remote[1]?.values as {
      messages: Array<{ content: string; id: string; getType(): string }>;
      tokens: number;
    };
    // LangChain's messages, as in-process: the request removed by id, the tool's result kept.
    expect(done.messages.map((m) => [m.getType(), m.content])).toEqual([
      ["ai", "proposing for 1 messages"],
      ["tool", "booked approved"],
      ["human", "note: approved"],
    ]);
    expect(done.tokens).toBe(15);
  });
});

describe("questions asked again beside new ones", () => {
  it("a sibling's waiting question keeps its place after a subgraph's new questions", async () => {
    const { shown } = await differential(h, "sub-grows-beside", {}, [
      byId(
        (v) => v.ask === "one?",
        () => "1",
      ),
      byId(
        () => true,
        (v) => v.ask.slice(0, -1),
      ),
    ]);
    expect(shown.remote.map((seen) => seen.interrupts.map((i) => (i.value as { ask: string }).ask))).toEqual([
      ["one?", "sibling?"],
      ["x?", "y?", "sibling?"],
      [],
    ]);
  });
});
