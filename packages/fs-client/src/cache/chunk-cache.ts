import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ChunkSource } from "../fetch/chunk-source";
import { assertHash } from "../store/blob-store";

export interface ChunkCacheOptions {
  /** Evict least recently used chunks once the cache holds more than this. */
  maxBytes: number;
  /** Where missing chunks come from; must hand back verified bytes. */
  source: ChunkSource;
  /**
   * Keeps a chunk handed out by `ensure` from eviction for this long, so a reader can open the
   * path it was given before the file goes; the cache may run over `maxBytes` meanwhile. Worth
   * setting only when the budget is near the readers' working set: the native daemon already
   * asks again when a chunk vanishes before its open (src/mount/pressure.test.ts). Default 0.
   */
  minResidencyMs?: number;
}

export interface ChunkCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  fetchedBytes: number;
}

export type AccessListener = (hash: string, hit: boolean) => void;

/**
 * The worker's chunk cache, shared by every sandbox on it. Verified, uncompressed chunks live at
 * `<dir>/<hash[0:2]>/<hash>`: the native FUSE daemon opens them there itself, so that layout is
 * a contract. A chunk appears under its name only complete (written to a temp name, renamed).
 *
 * Recency is kept in memory (Map order) and written to file mtimes, which seed it on startup.
 * The chunk an `ensure` just inserted is never its own victim; `minResidencyMs` extends that.
 */
export class ChunkCache {
  readonly stats: ChunkCacheStats = { hits: 0, misses: 0, evictions: 0, fetchedBytes: 0 };
  /** hash → size in bytes, least recently used first. */
  private readonly entries = new Map<string, number>();
  /** hash → when `ensure` last handed it out (performance.now()); absent for chunks found on disk. */
  private readonly handedOut = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly listeners = new Set<AccessListener>();
  private used = 0;
  private ready: Promise<void> | null = null;
  private clearing: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    private readonly options: ChunkCacheOptions,
  ) {}

  /** Loads what an earlier run left on disk. Called by the first `ensure` if not before. */
  open(): Promise<void> {
    this.ready ??= this.scan();
    return this.ready;
  }

  get usedBytes(): number {
    return this.used;
  }

  get chunkCount(): number {
    return this.entries.size;
  }

  pathOf(hash: string): string {
    assertHash(hash);
    return join(this.dir, hash.slice(0, 2), hash);
  }

  has(hash: string): boolean {
    return this.entries.has(hash);
  }

  /** Hashes from least to most recently used. */
  lruOrder(): string[] {
    return [...this.entries.keys()];
  }

  /** Called on every ensure, hit or miss: the hook prefetch profiles record from. */
  onAccess(listener: AccessListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Path of the chunk's file, fetching it first if the cache lacks it. */
  async ensure(hash: string): Promise<string> {
    assertHash(hash);
    while (this.clearing) await this.clearing;
    await this.open();
    const size = this.entries.get(hash);
    if (size !== undefined) {
      this.stats.hits++;
      this.markUsed(hash, size);
      this.handedOut.set(hash, performance.now());
      this.emit(hash, true);
      return this.pathOf(hash);
    }
    let p = this.inFlight.get(hash);
    if (!p) {
      this.stats.misses++;
      p = this.fill(hash).finally(() => this.inFlight.delete(hash));
      this.inFlight.set(hash, p);
    }
    this.emit(hash, false);
    const path = await p;
    if (this.entries.has(hash)) this.handedOut.set(hash, performance.now());
    return path;
  }

  /** Drops every cached chunk; later ensures fetch again. Waits for fetches under way. */
  async clear(): Promise<void> {
    while (this.clearing) await this.clearing;
    this.clearing = (async () => {
      await this.open();
      await Promise.allSettled(this.inFlight.values());
      await rm(this.dir, { recursive: true, force: true });
      await mkdir(this.dir, { recursive: true });
      this.entries.clear();
      this.handedOut.clear();
      this.used = 0;
    })();
    try {
      await this.clearing;
    } finally {
      this.clearing = null;
    }
  }

  private async fill(hash: string): Promise<string> {
    const data = await this.options.source.fetchChunk(hash);
    const final = this.pathOf(hash);
    await mkdir(join(this.dir, hash.slice(0, 2)), { recursive: true });
    const tmp = join(this.dir, hash.slice(0, 2), `.${hash}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      await writeFile(tmp, data);
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.stats.fetchedBytes += data.length;
    this.entries.set(hash, data.length);
    this.handedOut.set(hash, performance.now());
    this.used += data.length;
    await this.evict(hash);
    return final;
  }

  private markUsed(hash: string, size: number): void {
    this.entries.delete(hash);
    this.entries.set(hash, size);
    const now = new Date();
    // Best effort: only the order after a restart depends on it.
    utimes(this.pathOf(hash), now, now).catch(() => {});
  }

  /** `keep`, the chunk just inserted, always stays: its `ensure` has yet to return its path. */
  private async evict(keep?: string): Promise<void> {
    const grace = this.options.minResidencyMs ?? 0;
    const now = performance.now();
    for (const [hash, size] of this.entries) {
      if (this.used <= this.options.maxBytes) break;
      if (hash === keep) continue;
      const given = this.handedOut.get(hash);
      if (given !== undefined && now - given < grace) continue;
      this.handedOut.delete(hash);
      this.entries.delete(hash);
      this.used -= size;
      this.stats.evictions++;
      // A reader that already opened the file keeps its bytes: unlink only drops the name.
      await unlink(this.pathOf(hash)).catch(() => {});
    }
  }

  private async scan(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const found: { hash: string; size: number; mtime: number }[] = [];
    for (const shard of await readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of await readdir(join(this.dir, shard))) {
        const path = join(this.dir, shard, name);
        if (name.endsWith(".tmp")) {
          await rm(path, { force: true }); // left by a crash mid-write
          continue;
        }
        if (!/^[0-9a-f]{64}$/.test(name) || name.slice(0, 2) !== shard) continue;
        const st = await stat(path);
        found.push({ hash: name, size: st.size, mtime: st.mtimeMs });
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) {
      this.entries.set(f.hash, f.size);
      this.used += f.size;
    }
    await this.evict();
  }

  private emit(hash: string, hit: boolean): void {
    for (const l of this.listeners) l(hash, hit);
  }
}
