export {
  BaseCache,
  type CacheEntry,
  type CacheFullKey,
  checkCacheEntries,
  checkCacheKey,
  InvalidCacheOperationError,
  isCache,
} from "./base-cache.ts";
export { InMemoryCache } from "./memory-cache.ts";
