import type { Decision } from "./graph.ts";

const ROUTES = ["LAX to JFK", "SFO to SEA", "JFK to LHR", "BOS to MIA", "ORD to DEN"];
const DAYS = ["Friday", "Monday", "Wednesday", "Saturday"];

/** The demo's 20 requests: a deterministic mix of routes and days. */
export function demoRequests(count = 20): string[] {
  return Array.from(
    { length: count },
    (_, i) => `Cheap flight ${ROUTES[i % ROUTES.length]} next ${DAYS[i % DAYS.length]}`,
  );
}

/** What the approving person decides for the i-th booking: approve, reject or edit, in turn. */
export function demoDecision(i: number): Decision {
  switch (i % 3) {
    case 0:
      return { choice: "approve" };
    case 1:
      return { choice: "reject", reason: "Found cheaper on Kayak" };
    default:
      return { choice: "edit", edits: { date: "2026-06-01" } };
  }
}
