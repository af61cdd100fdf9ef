import { Command, MemorySaver } from "@layover/graph";
import { describe, expect, it } from "vitest";
import { buildFlightBooking, planBooking } from "./graph.ts";

const request = { userRequest: "Cheap flight LAX to JFK next Friday" };

describe("flight-booking example (seed 004)", () => {
  it("plans deterministically: next Friday after 2026-05-22 is 2026-05-29", () => {
    expect(planBooking(request.userRequest, "2026-05-22").args).toEqual({
      origin: "LAX",
      destination: "JFK",
      date: "2026-05-29",
      priceUsd: 187,
    });
  });

  it("pauses before booking with the seed's payload, and books nothing until approved", async () => {
    const app = buildFlightBooking({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "booking-42" } };
    const paused = await app.invoke(request, config);
    expect(paused.bookingConfirmation).toBeUndefined();
    expect(paused.__interrupt__).toHaveLength(1);
    expect(paused.__interrupt__?.[0]).toMatchObject({
      id: expect.any(String),
      value: { kind: "approve_booking", summary: "Book LAX->JFK for $187?", action: paused.proposedAction },
      resumeSchema: expect.objectContaining({ anyOf: expect.any(Array) }),
    });
    const snapshot = await app.getState(config);
    expect(snapshot.next).toEqual(["approvalGate"]);
  });

  it("refuses a decision that is not approve / reject / edit, and stays paused", async () => {
    const app = buildFlightBooking({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "booking-bad" } };
    await app.invoke(request, config);
    await expect(app.invoke(new Command({ resume: { choice: "maybe" } }), config)).rejects.toMatchObject({
      code: "INVALID_RESUME",
    });
    const snapshot = await app.getState(config);
    expect(snapshot.next).toEqual(["approvalGate"]);
    expect(snapshot.values.bookingConfirmation).toBeUndefined();
  });

  it("rejects a booking nobody approved in time with the scheduler's timeout rejection", async () => {
    const app = buildFlightBooking({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "booking-late" } };
    await app.invoke(request, config);
    const timedOut = { action: "reject", reason: "timeout", timedOutAt: "2026-05-22T10:00:00.000Z" };
    const final = await app.invoke(new Command({ resume: timedOut }), config);
    expect(final.bookingConfirmation).toBe("Rejected by timeout: nobody approved in time");
  });

  it.each([
    [{ choice: "approve" }, "BOOKED LAX->JFK on 2026-05-29 for $187.00"],
    [{ choice: "reject", reason: "Found cheaper on Kayak" }, "Rejected by user: Found cheaper on Kayak"],
    [{ choice: "edit", edits: { date: "2026-05-30" } }, "BOOKED LAX->JFK on 2026-05-30 for $187.00"],
  ])("resumes with %j", async (decision, confirmation) => {
    const app = buildFlightBooking({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "booking" } };
    await app.invoke(request, config);
    const final = await app.invoke(new Command({ resume: decision }), config);
    expect(final.bookingConfirmation).toBe(confirmation);
    expect((await app.getState(config)).next).toEqual([]);
  });
});
