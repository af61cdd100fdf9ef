// The README's main command (`pnpm demo`): seed 004 in-process with MemorySaver. Three bookings
// pause at the approval gate; one is approved, one rejected with a reason, one edited.

import { Command, MemorySaver } from "@layover/graph";
import { buildFlightBooking, type Decision } from "./graph.ts";

const app = buildFlightBooking({ checkpointer: new MemorySaver() });

const bookings: Array<{ threadId: string; decision: Decision }> = [
  { threadId: "booking-42", decision: { choice: "approve" } },
  { threadId: "booking-43", decision: { choice: "reject", reason: "Found cheaper on Kayak" } },
  { threadId: "booking-44", decision: { choice: "edit", edits: { date: "2026-05-30" } } },
];

for (const { threadId, decision } of bookings) {
  const config = { configurable: { thread_id: threadId } };
  const paused = await app.invoke({ userRequest: "Cheap flight LAX to JFK next Friday" }, config);
  if (threadId === "booking-42") {
    console.log("Paused at the approval gate; the interrupt payload:");
    console.log(JSON.stringify(paused.__interrupt__, null, 2));
  }
  const final = await app.invoke(new Command({ resume: decision }), config);
  console.log(`${threadId}  ${decision.choice.padEnd(7)}  ${final.bookingConfirmation}`);
}
