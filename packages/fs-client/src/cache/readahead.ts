import type { Manifest } from "../manifest/manifest";
import type { ChunkCache, ChunkLocation } from "./chunk-cache";

export interface ReadaheadOptions {
  /** Chunks fetched ahead of a sequential reader. Default 4 (16 MiB at the default chunk size). */
  window?: number;
}

/**
 * Wraps the cache for a mount: when a read looks sequential (a chunk whose predecessor in the
 * same file is cached), the next `window` chunks of that file start fetching in the background.
 * The first chunk alone does not count: a shared library's loader reads its header, then jumps,
 * and reading ahead there would fetch megabytes nobody reads. Random reads into a huge file fetch
 * only what they touch.
 */
export class Readahead {
  private readonly position = new Map<string, { chunks: string[]; index: number }>();
  private readonly window: number;

  constructor(
    manifest: Manifest,
    private readonly cache: ChunkCache,
    options: ReadaheadOptions = {},
  ) {
    this.window = options.window ?? 4;
    for (const e of manifest.entries) {
      if (!e.chunks || e.chunks.length < 2) continue;
      // A chunk shared by several files reads ahead along the first: enough for a heuristic.
      e.chunks.forEach((h, index) => {
        if (!this.position.has(h)) this.position.set(h, { chunks: e.chunks!, index });
      });
    }
  }

  /** `ChunkCache.locate`, plus readahead: what a mount's fetch handler calls. */
  locate(hash: string): Promise<ChunkLocation> {
    this.ahead(hash);
    return this.cache.locate(hash);
  }

  /** `ChunkCache.ensure`, plus readahead. */
  ensure(hash: string): Promise<string> {
    this.ahead(hash);
    return this.cache.ensure(hash);
  }

  private ahead(hash: string): void {
    const pos = this.position.get(hash);
    if (!pos || pos.index === 0 || !this.cache.has(pos.chunks[pos.index - 1]!)) return;
    for (const next of pos.chunks.slice(pos.index + 1, pos.index + 1 + this.window)) {
      // Errors surface when the chunk is really read; here they are only a missed guess.
      if (!this.cache.has(next)) this.cache.locate(next).catch(() => {});
    }
  }
}
