import type { Manifest } from "../manifest/manifest";
import type { ChunkCache } from "./chunk-cache";

export interface ReadaheadOptions {
  /** Chunks fetched ahead of a sequential reader. Default 4 (16 MiB at the default chunk size). */
  window?: number;
}

/**
 * Wraps `ChunkCache.ensure` for a mount: when a read looks sequential (the first chunk of a file,
 * or one whose predecessor is cached), the next `window` chunks of that file start fetching in
 * the background. Random reads into a huge file fetch only what they touch.
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

  async ensure(hash: string): Promise<string> {
    const pos = this.position.get(hash);
    if (pos && (pos.index === 0 || this.cache.has(pos.chunks[pos.index - 1]!))) {
      for (const next of pos.chunks.slice(pos.index + 1, pos.index + 1 + this.window)) {
        // Errors surface when the chunk is really read; here they are only a missed guess.
        if (!this.cache.has(next)) this.cache.ensure(next).catch(() => {});
      }
    }
    return this.cache.ensure(hash);
  }
}
