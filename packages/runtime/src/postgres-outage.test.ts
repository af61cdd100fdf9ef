import { PostgresSaverError } from "@layover/checkpoint-postgres";
import { describe, expect, it } from "vitest";
import { PostgresUnavailableError } from "./errors.ts";
import { isPostgresDown } from "./postgres-outage.ts";

const pgError = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe("isPostgresDown: which failures may hold a job in the queue (once Postgres does not answer) instead of spending an attempt", () => {
  it("holds for a Postgres that cannot be reached or left a statement unanswered, raw from pg or wrapped by the saver or the client", () => {
    const down = [
      pgError("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"),
      pgError("read ECONNRESET", "ECONNRESET"),
      pgError("Connection terminated unexpectedly"),
      pgError("timeout exceeded when trying to connect"),
      pgError("terminating connection due to administrator command", "57P01"),
      pgError("the database system is starting up", "57P03"),
      pgError("sorry, too many clients already", "53300"),
    ];
    for (const error of down) {
      expect(isPostgresDown(error), error.message).toBe(true);
      const saver = new PostgresSaverError("POSTGRES_UNAVAILABLE", "put failed after 8 attempt(s)", {
        cause: error,
      });
      expect(isPostgresDown(saver), `saver: ${error.message}`).toBe(true);
      expect(isPostgresDown(new PostgresUnavailableError("runs.start", { cause: error }))).toBe(true);
    }
    // A silent network: the saver does not retry a query timeout, and says it failed.
    const silent = pgError("Query read timeout");
    expect(isPostgresDown(silent)).toBe(true);
    expect(
      isPostgresDown(new PostgresSaverError("POSTGRES_QUERY_FAILED", "put failed", { cause: silent })),
    ).toBe(true);
    expect(isPostgresDown(new PostgresUnavailableError("runs.start", { cause: silent }))).toBe(true);
  });

  it("does not hold when Postgres answered: a lost race, a cancelled statement, a refusal, Layover's own errors", () => {
    const answered = [
      pgError("could not serialize access", "40001"),
      pgError("deadlock detected", "40P01"),
      pgError("canceling statement due to statement timeout", "57014"),
      pgError("syntax error at or near", "42601"),
      pgError("relation does not exist", "42P01"),
      new Error("a node's own failure"),
      new PostgresSaverError("POSTGRES_QUERY_FAILED", "put failed", { cause: pgError("x", "22P02") }),
    ];
    for (const error of answered) expect(isPostgresDown(error), error.message).toBe(false);
    const deadlock = pgError("deadlock detected", "40P01");
    expect(
      isPostgresDown(new PostgresSaverError("POSTGRES_UNAVAILABLE", "put failed", { cause: deadlock })),
    ).toBe(false);
    // Only the wrappers of pg's failures are looked through.
    const reset = pgError("read ECONNRESET", "ECONNRESET");
    expect(
      isPostgresDown(new PostgresSaverError("CHECKPOINT_NOT_FOUND", "put failed", { cause: reset })),
    ).toBe(false);
  });
});
