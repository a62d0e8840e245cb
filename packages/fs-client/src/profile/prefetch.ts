import type { ChunkCache } from "../cache/chunk-cache";
import { Limiter } from "../fetch/limiter";
import type { AccessProfile } from "./access-profile";

export interface PrefetchOptions {
  /** Chunks fetched at once. Default 8. */
  parallelism?: number;
  /** Stops starting new fetches (those under way finish). */
  signal?: AbortSignal;
}

export interface PrefetchResult {
  requested: number;
  fetched: number;
  alreadyCached: number;
  failed: number;
  errors: { hash: string; message: string }[];
}

/**
 * Warms the cache with an image's first-boot chunks, in the order they were first read, so the
 * kernel's early reads find them. Best effort: a failed chunk is counted, not thrown, because the
 * mount fetches (and reports) it again on demand.
 */
export async function prefetch(profile: AccessProfile, cache: ChunkCache, options: PrefetchOptions = {}): Promise<PrefetchResult> {
  const limiter = new Limiter(options.parallelism ?? 8);
  const result: PrefetchResult = { requested: profile.chunks.length, fetched: 0, alreadyCached: 0, failed: 0, errors: [] };
  await cache.open();
  await Promise.all(
    profile.chunks.map((hash) =>
      limiter.run(async () => {
        if (options.signal?.aborted) return;
        const cached = cache.has(hash);
        try {
          await cache.ensure(hash); // also a hit: it keeps boot chunks recent in the LRU
          if (cached) result.alreadyCached++;
          else result.fetched++;
        } catch (err) {
          result.failed++;
          result.errors.push({ hash, message: (err as Error).message });
        }
      }),
    ),
  );
  return result;
}
