// The worker's graph module: `layover-worker --graphs examples/flight-booking/graphs.ts`.
import { buildFlightBooking } from "./graph.ts";

export const graphs = { "flight-booking": buildFlightBooking() };
