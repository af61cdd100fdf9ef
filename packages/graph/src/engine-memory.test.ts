// The engine's semantics suite against the in-process saver. The Postgres saver runs the
// same suite (packages/checkpoint-postgres).
import { MemorySaver } from "@layover/checkpoint";
import { runEngineSuite } from "./testing/index.ts";

runEngineSuite("MemorySaver", () => new MemorySaver());
