import { describe, expect, it } from "vitest";
import { ReadBatcher } from "./read-batcher.ts";

/** A read whose statements are recorded and answered when the test says so. */
function recordedRead() {
  const sent: Array<{ keys: string[]; answer(rows?: Map<string, string>): void; fail(error: Error): void }> =
    [];
  const read = (keys: readonly string[]) =>
    new Promise<Map<string, string>>((resolve, reject) => {
      sent.push({
        keys: [...keys],
        answer: (rows) => resolve(rows ?? new Map(keys.map((key) => [key, `row of ${key}`]))),
        fail: reject,
      });
    });
  return { sent, read };
}

describe("ReadBatcher", () => {
  it("sends a lone read at once, and the reads asked meanwhile together, each key once", async () => {
    const { sent, read } = recordedRead();
    const batcher = new ReadBatcher(read);
    const first = batcher.load("a");
    expect(sent.map((s) => s.keys)).toEqual([["a"]]);
    const later = ["b", "c", "b", "a"].map((key) => batcher.load(key));
    expect(sent).toHaveLength(1);
    sent[0]?.answer();
    expect(await first).toBe("row of a");
    await Promise.resolve();
    expect(sent[1]?.keys).toEqual(["b", "c", "a"]);
    sent[1]?.answer(new Map([["b", "row of b"]]));
    // A key with no row resolves to undefined, for everyone who asked for it.
    expect(await Promise.all(later)).toEqual(["row of b", undefined, "row of b", undefined]);
  });

  it("splits a queue longer than maxBatch, oldest keys first", async () => {
    const { sent, read } = recordedRead();
    const batcher = new ReadBatcher(read, { maxBatch: 2 });
    const loads = ["a", "b", "c", "d", "e"].map((key) => batcher.load(key));
    for (let i = 0; i < 3; i++) {
      await Promise.resolve();
      sent[i]?.answer();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(sent.map((s) => s.keys)).toEqual([["a"], ["b", "c"], ["d", "e"]]);
    expect(await Promise.all(loads)).toEqual(["a", "b", "c", "d", "e"].map((key) => `row of ${key}`));
  });

  it("fails every read of a failed statement, and goes on with the next batch", async () => {
    const { sent, read } = recordedRead();
    const batcher = new ReadBatcher(read, { maxInFlight: 2 });
    const a = batcher.load("a");
    const b = batcher.load("b");
    const c = batcher.load("c");
    expect(sent.map((s) => s.keys)).toEqual([["a"], ["b"]]);
    sent[0]?.fail(new Error("connection lost"));
    await expect(a).rejects.toThrow("connection lost");
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent[2]?.keys).toEqual(["c"]);
    sent[1]?.answer();
    sent[2]?.answer();
    expect(await Promise.all([b, c])).toEqual(["row of b", "row of c"]);
  });

  it("with holdMs, sends a second statement only once the first has been in flight that long", async () => {
    const { sent, read } = recordedRead();
    const batcher = new ReadBatcher(read, { maxInFlight: 2, holdMs: 40 });
    const a = batcher.load("a");
    const b = batcher.load("b");
    const c = batcher.load("c");
    expect(sent.map((s) => s.keys)).toEqual([["a"]]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent).toHaveLength(1);
    // The first slow: the rest go out beside it, together.
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sent.map((s) => s.keys)).toEqual([["a"], ["b", "c"]]);
    // Two in flight: a read asked now waits for one of them.
    const d = batcher.load("d");
    expect(sent).toHaveLength(2);
    sent[1]?.answer();
    expect(await Promise.all([b, c])).toEqual(["row of b", "row of c"]);
    // The one left in flight is slow already: d goes out at once.
    await Promise.resolve();
    expect(sent.map((s) => s.keys)).toEqual([["a"], ["b", "c"], ["d"]]);
    sent[0]?.answer();
    sent[2]?.answer();
    expect(await Promise.all([a, d])).toEqual(["row of a", "row of d"]);
  });

  it("with holdMs, a quick answer sends the reads asked meanwhile at once, without waiting", async () => {
    const { sent, read } = recordedRead();
    const batcher = new ReadBatcher(read, { maxInFlight: 2, holdMs: 10_000 });
    const a = batcher.load("a");
    const later = ["b", "c"].map((key) => batcher.load(key));
    expect(sent).toHaveLength(1);
    sent[0]?.answer();
    expect(await a).toBe("row of a");
    await Promise.resolve();
    expect(sent[1]?.keys).toEqual(["b", "c"]);
    sent[1]?.answer();
    expect(await Promise.all(later)).toEqual(["row of b", "row of c"]);
  });
});
