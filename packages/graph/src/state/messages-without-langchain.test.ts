import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.doUnmock("@langchain/core/messages");
  vi.resetModules();
});

describe("messagesStateReducer without @langchain/core", () => {
  it("refuses a message that is not an object by its kind, not by what it says", async () => {
    vi.resetModules();
    vi.doMock("@langchain/core/messages", () => {
      throw new Error("Cannot find package '@langchain/core'");
    });
    const { messagesStateReducer } = await import("./messages.ts");
    expect(() => messagesStateReducer([], ["my card is 4111-1111-1111-1111"])).toThrow(
      expect.objectContaining({ code: "INVALID_UPDATE", message: expect.stringContaining("got a string") }),
    );
    expect(() => messagesStateReducer([], ["my card is 4111-1111-1111-1111"])).not.toThrow(/4111/);
  });
});
