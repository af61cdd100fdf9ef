// The worker's graph module: `layover-worker --graphs examples/flight-booking/graphs.ts`.
// BOOKING_APPROVAL_TIMEOUT_MS (optional) is how long a booking waits for a person before the
// scheduler rejects it.
import { buildFlightBooking } from "./graph.ts";

const timeout = Number(process.env.BOOKING_APPROVAL_TIMEOUT_MS ?? "");

export const graphs = {
  "flight-booking": {
    graph: buildFlightBooking(),
    ...(Number.isFinite(timeout) && timeout > 0 ? { interruptTimeout: timeout } : {}),
  },
};
