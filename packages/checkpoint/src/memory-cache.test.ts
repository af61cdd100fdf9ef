import { InMemoryCache } from "./cache/memory-cache.ts";
import { runCacheConformance } from "./conformance/cache.ts";

runCacheConformance("InMemoryCache", async () => ({ cache: new InMemoryCache() }));
