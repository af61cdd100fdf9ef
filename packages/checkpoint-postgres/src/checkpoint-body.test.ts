import { type Checkpoint, jsonSerializer, newCheckpointId } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { decodeBody, encodeBody, INLINE_STRING_MAX, isInline } from "./checkpoint-body.ts";

function checkpoint(values: Record<string, unknown>, versions: Record<string, number>): Checkpoint {
  return {
    v: 1,
    id: newCheckpointId(),
    ts: "2024-05-06T07:08:09.010Z",
    channelValues: values,
    channelVersions: versions,
    updatedChannels: ["a"],
    pendingSends: [{ node: "n", arg: { x: 1 } }],
  };
}

describe("checkpoint body", () => {
  it("keeps primitives inline and names the other channels' blob versions", () => {
    const long = "x".repeat(INLINE_STRING_MAX + 1);
    const input = checkpoint(
      { n: 1, flag: true, none: null, gone: undefined, big: 5n, short: "hi", long, list: [1], obj: {} },
      { n: 3, flag: 1, none: 1, gone: 2, big: 1, short: 1, long: 4, list: 7, obj: 1, absent: 9 },
    );
    const encoded = encodeBody(input, jsonSerializer);
    expect([...encoded.inline]).toEqual(["n", "flag", "none", "gone", "big", "short"]);
    expect(JSON.parse(encoded.blobVersions)).toEqual({ long: 4, list: 7, obj: 1, absent: 9 });
    const decoded = decodeBody(encoded.body, jsonSerializer);
    expect(decoded.channelVersions).toEqual(input.channelVersions);
    expect(Object.keys(decoded.channelVersions)).toEqual(Object.keys(input.channelVersions));
    expect([...decoded.inlineValues]).toEqual([
      ["n", 1],
      ["flag", true],
      ["none", null],
      ["gone", undefined],
      ["big", 5n],
      ["short", "hi"],
    ]);
    expect(decoded.rest).toEqual({
      v: 1,
      ts: input.ts,
      updatedChannels: ["a"],
      pendingSends: [{ node: "n", arg: { x: 1 } }],
    });
  });

  it("keeps fields beyond the known ones exactly", () => {
    const input = { ...checkpoint({ n: 1 }, { n: 1 }), extra: { note: "kept" } } as Checkpoint;
    const decoded = decodeBody(encodeBody(input, jsonSerializer).body, jsonSerializer);
    expect(decoded.rest).toEqual({
      v: 1,
      ts: input.ts,
      updatedChannels: ["a"],
      pendingSends: [{ node: "n", arg: { x: 1 } }],
      extra: { note: "kept" },
    });
  });

  it("refuses versions that are not non-negative integers", () => {
    expect(() => encodeBody(checkpoint({ n: 1 }, { n: 1.5 }), jsonSerializer)).toThrow(
      /non-negative integers/,
    );
    expect(() => encodeBody(checkpoint({ l: [] }, { l: -1 }), jsonSerializer)).toThrow(
      /non-negative integers/,
    );
  });

  it("stores functions and symbols as blobs, so serializing them fails loudly", () => {
    expect(isInline(() => 1)).toBe(false);
    expect(isInline(Symbol("s"))).toBe(false);
    expect(isInline(new Date(0))).toBe(false);
  });
});
