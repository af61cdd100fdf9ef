import { runCheckpointSaverConformance } from "./conformance/index.ts";
import { MemorySaver } from "./memory-saver.ts";

runCheckpointSaverConformance("MemorySaver", async () => ({ saver: new MemorySaver() }));
