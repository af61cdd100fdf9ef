import { describe, expect, it } from "vitest";
import { statementName } from "./schema-name.ts";

describe("prepared statement names", () => {
  it("stay within Postgres's 63 characters for the longest schema names", () => {
    const longest = "s".repeat(63);
    expect(statementName("put_checkpoint", longest).length).toBeLessThanOrEqual(63);
  });

  it("differ between schemas that share a long prefix, so a shared pool never mixes them up", () => {
    const a = `${"tenant_".repeat(8)}a`;
    const b = `${"tenant_".repeat(8)}b`;
    expect(statementName("read_head", a)).not.toBe(statementName("read_head", b));
  });
});
