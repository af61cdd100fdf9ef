import { describe, expect, it } from "vitest";
import { whyItFailed } from "./service.ts";

describe("whyItFailed (what a service that could not start prints)", () => {
  it("gives every cause under the message, so the reason is on the screen", () => {
    const root = Object.assign(new Error('database "nodb" does not exist'), { code: "3D000" });
    const outer = new Error("Migrating runtime failed.", { cause: root });
    expect(whyItFailed(outer).split("\n").at(-1)).toBe('caused by: database "nodb" does not exist');
  });

  it("gives the stack of a bug (an error that is not Layover's), so its file and line show", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'timeout')");
    expect(whyItFailed(bug)).toContain("service.test.ts");
  });
});
