import { describe, expect, it } from "vitest";
import { InvalidConfigError } from "./errors.ts";
import { parseEnv, postgresTimeouts, ServiceEnv, whyItFailed } from "./service.ts";

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

  it("gives the file and line of a module that does not parse (Node's errors carry a code, yet are not Layover's)", () => {
    const broken = Object.assign(new SyntaxError("Expression expected"), {
      code: "ERR_INVALID_TYPESCRIPT_SYNTAX",
      stack:
        "/srv/graphs.ts:1\nexport const graphs = {a:\n\nSyntaxError [ERR_INVALID_TYPESCRIPT_SYNTAX]: Expression expected",
    });
    expect(whyItFailed(broken)).toContain("/srv/graphs.ts:1");
  });

  it("says a configuration mistake in its message alone, without a stack", () => {
    expect(whyItFailed(new InvalidConfigError("Invalid worker environment:\n  REDIS_URL: a URL"))).toBe(
      "Invalid worker environment:\n  REDIS_URL: a URL",
    );
  });
});

describe("postgresTimeouts", () => {
  const env = (extra: Record<string, string>) => parseEnv(ServiceEnv, extra, "worker");
  it("refuses a statement timeout not shorter than the query timeout, naming both (a slow statement would pass for a lost network)", () => {
    expect(() =>
      postgresTimeouts(env({ DATABASE_QUERY_TIMEOUT_MS: "5000", DATABASE_STATEMENT_TIMEOUT_MS: "5000" })),
    ).toThrow(
      /DATABASE_STATEMENT_TIMEOUT_MS \(5000 ms\) must be shorter than DATABASE_QUERY_TIMEOUT_MS \(5000 ms\)/,
    );
    expect(
      postgresTimeouts(env({ DATABASE_QUERY_TIMEOUT_MS: "5000", DATABASE_STATEMENT_TIMEOUT_MS: "4000" })),
    ).toEqual({
      queryTimeoutMs: 5_000,
      statementTimeoutMs: 4_000,
    });
    // None of either: no race between them.
    expect(
      postgresTimeouts(env({ DATABASE_QUERY_TIMEOUT_MS: "0", DATABASE_STATEMENT_TIMEOUT_MS: "9000" })),
    ).toMatchObject({
      queryTimeoutMs: 0,
    });
    expect(postgresTimeouts(env({ DATABASE_STATEMENT_TIMEOUT_MS: "0" }))).toMatchObject({
      statementTimeoutMs: 0,
    });
  });
});
