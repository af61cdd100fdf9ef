import { runStoreConformance } from "./conformance/index.ts";
import { InMemoryStore } from "./store/index.ts";

runStoreConformance(
  "InMemoryStore",
  async () => ({ store: new InMemoryStore() }),
  async (index) => ({ store: new InMemoryStore({ index }) }),
);
