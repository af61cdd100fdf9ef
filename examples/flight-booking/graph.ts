// Seed 004's flight-booking agent, in TypeScript: a planner proposes one booking, an approval
// gate pauses with interrupt() before the card is charged, and a person approves, rejects with a
// reason, or edits the proposal. The planner is deterministic (no LLM, no network) so the example
// runs anywhere and its output can be tested.

import {
  type CompileOptions,
  END,
  type GraphNode,
  interrupt,
  isTimeoutRejection,
  START,
  StateGraph,
  StateSchema,
} from "@layover/graph";
import { z } from "zod";

const BookingArgs = z.object({
  origin: z.string(),
  destination: z.string(),
  date: z.string(),
  priceUsd: z.number(),
});
export type BookingArgs = z.infer<typeof BookingArgs>;

export const BookingState = new StateSchema({
  userRequest: z.string(),
  /** The day the request was made (YYYY-MM-DD): "next Friday" is relative to it. */
  requestedOn: z.string().default("2026-05-22"),
  proposedAction: z.object({ name: z.literal("book_flight"), args: BookingArgs, id: z.string() }).optional(),
  bookingConfirmation: z.string().optional(),
  /** How long this booking may wait for approval (ms); without it the graph's default applies. */
  approvalWindowMs: z.number().int().positive().optional(),
});

/** What a person answers at the approval gate. */
export const Decision = z.discriminatedUnion("choice", [
  z.object({ choice: z.literal("approve") }),
  z.object({ choice: z.literal("reject"), reason: z.string().default("") }),
  z.object({ choice: z.literal("edit"), edits: BookingArgs.partial() }),
]);
export type Decision = z.input<typeof Decision>;

/** A decision, or the rejection the scheduler sends when nobody answered in time. */
const Answer = z.union([
  Decision,
  z.object({ action: z.literal("reject"), reason: z.literal("timeout"), timedOutAt: z.string() }),
]);

const FARES: Record<string, number> = { "LAX-JFK": 187, "SFO-SEA": 96, "JFK-LHR": 512 };
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** The fake tool seed 004 guards: in a real agent, this charges the user's saved card. */
export function bookFlight(args: BookingArgs): string {
  return `BOOKED ${args.origin}->${args.destination} on ${args.date} for $${args.priceUsd.toFixed(2)}`;
}

/** "Cheap flight LAX to JFK next Friday" → a book_flight call, the same every time. */
export function planBooking(
  request: string,
  requestedOn: string,
): NonNullable<typeof BookingState.State.proposedAction> {
  const airports = request.match(/\b[A-Z]{3}\b/g) ?? [];
  const [origin = "LAX", destination = "JFK"] = airports;
  const route = `${origin}-${destination}`;
  const priceUsd = FARES[route] ?? 100 + ([...route].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 400);
  return {
    name: "book_flight",
    args: { origin, destination, date: nextWeekday(request, requestedOn), priceUsd },
    id: `call_${route}_${requestedOn}`,
  };
}

function nextWeekday(request: string, requestedOn: string): string {
  const day = new Date(`${requestedOn}T00:00:00Z`);
  const wanted = WEEKDAYS.findIndex((name) => request.toLowerCase().includes(`next ${name}`));
  const ahead = wanted < 0 ? 7 : (wanted - day.getUTCDay() + 7) % 7 || 7;
  day.setUTCDate(day.getUTCDate() + ahead);
  return day.toISOString().slice(0, 10);
}

const planner: GraphNode<typeof BookingState> = (state) => ({
  proposedAction: planBooking(state.userRequest, state.requestedOn),
});

const approvalGate: GraphNode<typeof BookingState> = (state) => {
  const action = state.proposedAction!;
  const { origin, destination, priceUsd } = action.args;
  // The schema is stored with the interrupt: a resume that does not fit is refused before
  // anything changes, by whichever process receives it.
  const decision = interrupt(
    { kind: "approve_booking", summary: `Book ${origin}->${destination} for $${priceUsd}?`, action },
    { schema: Answer, ...(state.approvalWindowMs ? { timeout: state.approvalWindowMs } : {}) },
  );
  if (isTimeoutRejection(decision))
    return { bookingConfirmation: "Rejected by timeout: nobody approved in time" };
  if (decision.choice === "reject") {
    return { bookingConfirmation: `Rejected by user: ${decision.reason}` };
  }
  const args =
    decision.choice === "edit" ? BookingArgs.parse({ ...action.args, ...decision.edits }) : action.args;
  return { bookingConfirmation: bookFlight(args) };
};

/** The graph, compiled with the caller's options (the checkpointer above all). */
export function buildFlightBooking(options: CompileOptions = {}) {
  return new StateGraph(BookingState)
    .addNode("planner", planner)
    .addNode("approvalGate", approvalGate)
    .addEdge(START, "planner")
    .addEdge("planner", "approvalGate")
    .addEdge("approvalGate", END)
    .compile(options);
}
