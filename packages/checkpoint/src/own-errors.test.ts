// Which errors are Layover's own (a retry policy's default never retries them): instances of
// LayoverError, from this copy of the package or another one in the process; not an error that
// merely carries a code (a socket's, a driver's).
import { describe, expect, it } from "vitest";
import { CheckpointConflictError, isOwnLayoverError, LayoverError } from "./index.ts";

describe("isOwnLayoverError", () => {
  it("is true of Layover's errors, from another copy of the package too", async () => {
    expect(
      isOwnLayoverError(
        new CheckpointConflictError({ threadId: "t", ns: "", expectedHead: "a", actualHead: "b" }),
      ),
    ).toBe(true);
    expect(isOwnLayoverError(new LayoverError("ANY", "any"))).toBe(true);
    // A second module instance, as a second installed copy of @layover/checkpoint would be.
    // @ts-expect-error: the query makes the bundler load the module anew; TypeScript has no such file.
    const copy = (await import("./errors.ts?copy")) as typeof import("./errors.ts");
    expect(copy.LayoverError).not.toBe(LayoverError);
    expect(isOwnLayoverError(new copy.LayoverError("ANY", "from the other copy"))).toBe(true);
  });

  it("is false of errors that carry a code of their own", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const terminated = Object.assign(new Error("terminating connection"), { code: "57P01" });
    expect(isOwnLayoverError(reset)).toBe(false);
    expect(isOwnLayoverError(terminated)).toBe(false);
    expect(isOwnLayoverError({ code: "CHECKPOINT_CONFLICT", message: "copied" })).toBe(false);
    expect(isOwnLayoverError(null)).toBe(false);
  });
});
