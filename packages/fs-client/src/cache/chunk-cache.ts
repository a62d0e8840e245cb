import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { open as openFile } from "node:fs/promises";
import type { ChunkSource } from "../fetch/chunk-source";
import { assertHash } from "../store/blob-store";
import { packHeaderLength, packLayout, type PackMember } from "./pack-file";

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

/** Where a chunk's bytes are: a whole chunk file, or a span of a pack file (`pack` set). */
export interface ChunkLocation {
  path: string;
  offset: number;
  size: number;
  /** The pack's hash when the chunk lives in `<dir>/packs/<pack>`. */
  pack?: string;
}

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
  /** Chunks a prefetch is bringing: ensure waits for that instead of fetching them again. */
  private readonly expected = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<AccessListener>();
  /** Shard directories known to exist. */
  private readonly shards = new Set<string>();
  /** Chunks that live inside pack files rather than files of their own. */
  private readonly packed = new Map<string, { pack: string; offset: number }>();
  /** Pack hash → members still cached; the pack file goes when the last one is evicted. */
  private readonly packLive = new Map<string, number>();
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

  /**
   * Says `hashes` will arrive by `arrival` (inserted by whoever fetches them). Until it settles,
   * an ensure of one of them waits for it, then fetches only if the chunk still is not there.
   */
  expect(hashes: string[], arrival: Promise<unknown>): void {
    const done = arrival.catch(() => {});
    for (const h of hashes) if (!this.entries.has(h)) this.expected.set(h, done);
    void done.then(() => {
      for (const h of hashes) if (this.expected.get(h) === done) this.expected.delete(h);
    });
  }

  /**
   * Where the chunk's bytes are, fetching it first if the cache lacks it. Unlike `ensure`, a
   * chunk that came in a pack stays there: the mount's daemon reads it at its offset.
   */
  async locate(hash: string): Promise<ChunkLocation> {
    const path = await this.ensureEntry(hash);
    const p = this.packed.get(hash);
    const size = this.entries.get(hash) ?? 0;
    return p ? { path: this.packPath(p.pack), offset: p.offset, size, pack: p.pack } : { path, offset: 0, size };
  }

  /** The chunk's bytes, from wherever the cache keeps them. */
  async read(hash: string): Promise<Buffer> {
    const loc = await this.locate(hash);
    const fh = await openFile(loc.path, "r");
    try {
      const buf = Buffer.allocUnsafe(loc.size);
      const { bytesRead } = await fh.read(buf, 0, loc.size, loc.offset);
      if (bytesRead !== loc.size) throw new Error(`chunk ${hash}: short read from ${loc.path}`);
      return buf;
    } finally {
      await fh.close();
    }
  }

  /**
   * Path of a file holding exactly the chunk, fetching it first if the cache lacks it. A chunk
   * that came in a pack is copied out to its own file first.
   */
  async ensure(hash: string): Promise<string> {
    const path = await this.ensureEntry(hash);
    if (!this.packed.has(hash)) return path;
    // File first, bookkeeping after: a concurrent copy-out writes the same bytes, rename is atomic.
    await this.writeChunkFile(hash, await this.read(hash));
    const emptied = this.dropPacked(hash);
    if (emptied) await this.releasePack(emptied);
    return this.pathOf(hash);
  }

  /**
   * Adds a pack (verified `members` of `pack`, fetched some other way) as one file. Returns how
   * many members were new; the others were already cached or being fetched and keep that copy.
   */
  async insertPack(packHash: string, pack: Buffer, members: PackMember[]): Promise<number> {
    assertHash(packHash);
    while (this.clearing) await this.clearing;
    await this.open();
    const fresh = members.filter((m) => !this.entries.has(m.hash) && !this.inFlight.has(m.hash));
    if (fresh.length === 0 || this.packLive.has(packHash)) return 0;
    const final = this.packPath(packHash);
    await mkdir(join(this.dir, "packs"), { recursive: true });
    const tmp = `${final}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(tmp, pack);
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    let added = 0;
    for (const m of fresh) {
      if (this.entries.has(m.hash)) continue; // fetched on its own while the pack was written
      this.entries.set(m.hash, m.size);
      this.packed.set(m.hash, { pack: packHash, offset: m.offset });
      this.used += m.size;
      added++;
    }
    this.packLive.set(packHash, added);
    if (added === 0) await this.releasePack(packHash);
    this.stats.fetchedBytes += pack.length;
    await this.evict();
    return added;
  }

  private packPath(pack: string): string {
    return join(this.dir, "packs", pack);
  }

  /** Forgets that `hash` is in a pack; true when that was the pack's last member. */
  private dropPacked(hash: string): string | null {
    const p = this.packed.get(hash);
    if (!p) return null;
    this.packed.delete(hash);
    const left = (this.packLive.get(p.pack) ?? 1) - 1;
    if (left > 0) {
      this.packLive.set(p.pack, left);
      return null;
    }
    return p.pack;
  }

  private async releasePack(pack: string): Promise<void> {
    this.packLive.delete(pack);
    await unlink(this.packPath(pack)).catch(() => {});
  }

  private async ensureEntry(hash: string): Promise<string> {
    assertHash(hash);
    while (this.clearing) await this.clearing;
    await this.open();
    const coming = this.expected.get(hash);
    if (coming && !this.entries.has(hash)) await coming;
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
      this.shards.clear();
      this.entries.clear();
      this.handedOut.clear();
      this.packed.clear();
      this.packLive.clear();
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
    this.stats.fetchedBytes += data.length;
    return this.write(hash, data);
  }

  private async write(hash: string, data: Buffer): Promise<string> {
    const final = await this.writeChunkFile(hash, data);
    this.entries.set(hash, data.length);
    this.handedOut.set(hash, performance.now());
    this.used += data.length;
    await this.evict(hash);
    return final;
  }

  private async writeChunkFile(hash: string, data: Buffer): Promise<string> {
    const final = this.pathOf(hash);
    const shard = hash.slice(0, 2);
    if (!this.shards.has(shard)) {
      await mkdir(join(this.dir, shard), { recursive: true });
      this.shards.add(shard);
    }
    const tmp = join(this.dir, hash.slice(0, 2), `.${hash}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      await writeFile(tmp, data);
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return final;
  }

  private markUsed(hash: string, size: number): void {
    this.entries.delete(hash);
    this.entries.set(hash, size);
    const now = new Date();
    // Best effort: only the order after a restart depends on it.
    const p = this.packed.get(hash);
    utimes(p ? this.packPath(p.pack) : this.pathOf(hash), now, now).catch(() => {});
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
      if (this.packed.has(hash)) {
        const emptied = this.dropPacked(hash);
        if (emptied) await this.releasePack(emptied);
      } else {
        await unlink(this.pathOf(hash)).catch(() => {});
      }
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
    found.push(...(await this.scanPacks(new Set(found.map((f) => f.hash)))));
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) {
      if (this.entries.has(f.hash)) continue;
      this.entries.set(f.hash, f.size);
      this.used += f.size;
    }
    await this.evict();
  }

  /** Members of the pack files an earlier run left, read from their headers. */
  private async scanPacks(chunkFiles: Set<string>): Promise<{ hash: string; size: number; mtime: number }[]> {
    const dir = join(this.dir, "packs");
    const names = await readdir(dir).catch(() => [] as string[]);
    const found: { hash: string; size: number; mtime: number }[] = [];
    for (const name of names) {
      const path = join(dir, name);
      if (!/^[0-9a-f]{64}$/.test(name)) {
        await rm(path, { force: true }); // a temp file left by a crash mid-write
        continue;
      }
      try {
        const fh = await openFile(path, "r");
        let members: PackMember[];
        let mtime: number;
        try {
          const st = await fh.stat();
          mtime = st.mtimeMs;
          const head = Buffer.alloc(Math.min(st.size, 64 * 1024));
          await fh.read(head, 0, head.length, 0);
          const need = packHeaderLength(head) ?? st.size;
          const full = need > head.length ? Buffer.alloc(need) : head;
          if (full !== head) await fh.read(full, 0, need, 0);
          members = packLayout(full, st.size);
        } finally {
          await fh.close();
        }
        let live = 0;
        for (const m of members) {
          if (chunkFiles.has(m.hash) || this.packed.has(m.hash)) continue;
          this.packed.set(m.hash, { pack: name, offset: m.offset });
          found.push({ hash: m.hash, size: m.size, mtime });
          live++;
        }
        if (live > 0) this.packLive.set(name, live);
        else await rm(path, { force: true });
      } catch {
        await rm(path, { force: true }); // unreadable: its chunks will be fetched again
      }
    }
    return found;
  }

  private emit(hash: string, hit: boolean): void {
    for (const l of this.listeners) l(hash, hit);
  }
}
