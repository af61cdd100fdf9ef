import pg from "pg";
import { describe, expect, it } from "vitest";
import { isStatementAnswer } from "./pipelined-statements.ts";

/** What pg's parser makes of a server's ErrorResponse: its severity (S, in the server's language) and SQLSTATE (C). */
function serverError(severity: string, code: string): pg.DatabaseError {
  const error = new pg.DatabaseError("some message", 0, "error");
  error.severity = severity;
  error.code = code;
  return error;
}

describe("isStatementAnswer: a statement's own failure, whatever the server's language", () => {
  it("takes an English ERROR for the statement's own failure, and FATAL or PANIC for the session's end", () => {
    expect(isStatementAnswer(serverError("ERROR", "23505"))).toBe(true);
    expect(isStatementAnswer(serverError("FATAL", "57P01"))).toBe(false);
    expect(isStatementAnswer(serverError("PANIC", "XX000"))).toBe(false);
  });

  it("reads a translated severity (lc_messages not English) by its SQLSTATE", () => {
    // German, French and Russian servers' errors: a unique violation, a cancelled statement
    // (statement_timeout), a division by zero, a bad database name given to a function.
    expect(isStatementAnswer(serverError("FEHLER", "23505"))).toBe(true);
    expect(isStatementAnswer(serverError("ERREUR", "57014"))).toBe(true);
    expect(isStatementAnswer(serverError("ОШИБКА", "22012"))).toBe(true);
    expect(isStatementAnswer(serverError("FEHLER", "3D000"))).toBe(true); // pg_database_size('nosuch')
    // Russian, Swedish and Italian servers' session ends (German and French say FATAL): terminated
    // by an operator, a dropped database, an idle transaction's or a transaction's timeout, a protocol violation.
    expect(isStatementAnswer(serverError("ВАЖНО", "57P01"))).toBe(false);
    expect(isStatementAnswer(serverError("FATALT", "57P04"))).toBe(false);
    expect(isStatementAnswer(serverError("FATALE", "25P03"))).toBe(false);
    expect(isStatementAnswer(serverError("ВАЖНО", "25P04"))).toBe(false);
    expect(isStatementAnswer(serverError("FATALT", "08P01"))).toBe(false);
  });

  it("takes no client-side failure for an answer: a socket error, pg's own errors", () => {
    expect(isStatementAnswer(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe(
      false,
    );
    expect(isStatementAnswer(new Error("Query read timeout"))).toBe(false);
    expect(isStatementAnswer(undefined)).toBe(false);
  });
});
