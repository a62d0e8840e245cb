// Where warm snapshots live: in the CAS, so any worker can restore one, and materialised on this
// worker's disk, so a restore never refetches. A checkpoint directory is ingested like an image
// (manifest + chunk blobs); the ref `warm-snapshot/<key>` names its manifest. runsc writes the
// checkpoint uncompressed and it stays so on disk; its chunks go to the CAS as LZ4 frames, which
// inflate about as fast as the disk reads (Brotli, the image codec, is 5-10x slower: see
// fs-client's codec.ts), so a worker fetching a 1 GiB checkpoint is not held up by the CPU.
import { constants, existsSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { fetchManifest, ingestDirectory, type BlobStore, type IngestOptions, type Manifest, type ManifestEntry } from "@cellar/fs-client";
import { eachAtMost } from "../each-at-most";

/** The CAS as a worker sees it over HTTP (`BlobFetcher` from @cellar/fs-client). */
export interface SnapshotRemote {
  fetchChunk(hash: string): Promise<Buffer>;
  fetchRef(name: string): Promise<string | null>;
  putBlob(hash: string, compressed: Buffer): Promise<void>;
  /** Absent: every chunk is uploaded (uploads are idempotent, and the server verifies each one).
   * Present, a true answer must also protect the blob from the CAS garbage collector while the
   * checkpoint's manifest and ref are still to come (BlobStore.has: BlobFetcher's HEAD does). */
  hasBlob?(hash: string): Promise<boolean>;
  putRef(name: string, hash: string): Promise<void>;
}

export interface LocalSnapshot {
  key: string;
  /** The manifest hash of the checkpoint directory: the snapshot's identity. */
  id: string;
  /** The directory to pass to `runsc restore --image-path`. */
  dir: string;
}

export interface SnapshotStoreOptions {
  /** Bytes per chunk when a checkpoint is ingested. Default: fs-client's (4 MiB). */
  chunkSize?: number;
  /** Chunks fetched at once when materialising a snapshot. Default 8: with 4 MiB chunks at most
   * ~64 MiB of chunk buffers are held, whatever the checkpoint's size. */
  fetchParallelism?: number;
}

export class SnapshotStore {
  private distrusted: Record<string, string[]> | null = null;
  /** Materialisations under way, by local directory: concurrent callers share one. */
  private readonly materialising = new Map<string, Promise<void>>();

  constructor(
    /** e.g. `$CELLAR_CACHE/snapshots`. */
    readonly root: string,
    private readonly remote: SnapshotRemote | null,
    /** Names the CAS ref of a key's newest snapshot: `<refPrefix><key>`. */
    private readonly refPrefix = "warm-snapshot/",
    private readonly options: SnapshotStoreOptions = {},
  ) {}

  /** The snapshot for `key` on this disk, fetching it from the CAS if only the CAS has it;
   * null if there is none, or only one this worker saw fail. */
  async get(key: string): Promise<LocalSnapshot | null> {
    const id = await this.lookup(key);
    return id ? this.getById(key, id) : null;
  }

  /** The id of the snapshot `get(key)` would return, without fetching it; null if none. */
  async lookup(key: string): Promise<string | null> {
    const id = await this.remoteId(key);
    return id && !(await this.isDistrusted(key, id)) ? id : null;
  }

  /** Snapshot `id` of `key`: this disk's copy, else fetched from the CAS; null without a CAS.
   * Callers asking for the same snapshot while it is being fetched wait for that one fetch (and
   * all reject if it fails; the next call tries again). */
  async getById(key: string, id: string): Promise<LocalSnapshot | null> {
    const dir = this.dirFor(key, id);
    if (existsSync(path.join(dir, ".complete"))) return { key, id, dir };
    if (!this.remote) return null;
    let pending = this.materialising.get(dir);
    if (!pending) {
      pending = this.materialise(id, dir).finally(() => this.materialising.delete(dir));
      this.materialising.set(dir, pending);
    }
    await pending;
    return { key, id, dir };
  }

  /** Stores a checkpoint directory under `key`: into the CAS (if there is one) and, by moving
   * it, as this worker's local copy. */
  async put(key: string, checkpointDir: string): Promise<LocalSnapshot> {
    const { imageId: id } = await ingestDirectory(
      checkpointDir,
      this.remote ? new UploadStore(this.remote) : new NullStore(),
      this.ingestOptions(),
    );
    const dir = this.dirFor(key, id);
    // Older snapshots of this key are superseded: only the newest is kept on disk.
    await rm(path.join(this.root, key), { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    await rename(checkpointDir, dir);
    await writeFile(path.join(dir, ".complete"), "");
    await writeFile(path.join(this.root, key, "current"), id);
    if (this.remote) await this.remote.putRef(this.refPrefix + key, id);
    return { key, id, dir };
  }

  /** Stores a checkpoint directory in the CAS and points `key`'s ref at it, leaving the directory
   * where it is. Used when the local copy was kept first and the upload runs afterwards; with
   * `expectedId`, the upload must have that id. */
  async upload(key: string, checkpointDir: string, expectedId?: string): Promise<void> {
    if (!this.remote) throw new Error("there is no content store to upload to");
    const { imageId: id } = await ingestDirectory(checkpointDir, new UploadStore(this.remote), this.ingestOptions());
    if (expectedId !== undefined && id !== expectedId)
      throw new Error(`the uploaded checkpoint is ${id}, not the local copy's ${expectedId}`);
    await this.remote.putRef(this.refPrefix + key, id);
  }

  /** A snapshot that failed to restore: its local copy goes, and this worker never uses that
   * snapshot for this key again (a newer one under the same key is trusted afresh). */
  async discard(snap: LocalSnapshot): Promise<void> {
    const distrusted = await this.loadDistrusted();
    distrusted[snap.key] = [...new Set([...(distrusted[snap.key] ?? []), snap.id])];
    await mkdir(this.root, { recursive: true });
    await writeFile(path.join(this.root, "distrusted.json"), JSON.stringify(distrusted));
    await rm(this.dirFor(snap.key, snap.id), { recursive: true, force: true });
  }

  /** Deletes this disk's copies of `key` (the CAS keeps its own). */
  async removeLocal(key: string): Promise<void> {
    await rm(path.join(this.root, key), { recursive: true, force: true });
  }

  async isDistrusted(key: string, id: string): Promise<boolean> {
    return (await this.loadDistrusted())[key]?.includes(id) ?? false;
  }

  private dirFor(key: string, id: string): string {
    return path.join(this.root, key, id);
  }

  /** Chunks as LZ4; the id (the manifest hash) is of the uncompressed bytes, so it is the same
   * whatever the codec, and matches a local copy ingested with none. */
  private ingestOptions(): IngestOptions {
    return { codec: "lz4", chunkSize: this.options.chunkSize, onWarning: () => {} };
  }

  /** The CAS's ref, or this disk's record of the last one put when there is no CAS. */
  private async remoteId(key: string): Promise<string | null> {
    if (this.remote) return this.remote.fetchRef(this.refPrefix + key);
    try {
      return (await readFile(path.join(this.root, key, "current"), "utf8")).trim() || null;
    } catch {
      return null;
    }
  }

  /**
   * Fetches snapshot `id` into `dir`: the manifest, then its chunks, `fetchParallelism` at a time,
   * each written at its offset, so memory stays bounded whatever the file sizes. A chunk that
   * occurs more than once (zero pages) is fetched once. Everything goes to a temporary directory
   * renamed into place when complete; on any failure (a missing, truncated or corrupt blob: the
   * fetcher verifies each against its hash) that directory is removed and the error rethrown.
   */
  private async materialise(id: string, dir: string): Promise<void> {
    const remote = this.remote!;
    const manifest = await fetchManifest(remote, id);
    const tmp = `${dir}.part-${process.pid}-${Date.now()}`;
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    try {
      await fetchAll(await layOut(manifest, id, tmp), this.options.fetchParallelism ?? 8, remote);
      await writeFile(path.join(tmp, ".complete"), "");
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  private async loadDistrusted(): Promise<Record<string, string[]>> {
    if (!this.distrusted) {
      try {
        this.distrusted = JSON.parse(await readFile(path.join(this.root, "distrusted.json"), "utf8")) as Record<string, string[]>;
      } catch {
        this.distrusted = {};
      }
    }
    return this.distrusted;
  }
}

/** Where one chunk's bytes go: each place it occurs, and the length it must have there. */
export interface ChunkJob {
  hash: string;
  length: number;
  places: { file: string; offset: number }[];
}

/** Makes the directories and (empty) files of `manifest` under `tmp`; returns the chunks to
 * fetch, one job per distinct chunk. A file that `reuse` provides itself (it answers true, having
 * put the file at its target) is not created and its chunks are not fetched. */
export async function layOut(
  manifest: Manifest,
  id: string,
  tmp: string,
  reuse?: (entry: ManifestEntry, target: string) => Promise<boolean>,
): Promise<ChunkJob[]> {
  const jobs = new Map<string, ChunkJob>();
  for (const entry of manifest.entries) {
    const target = path.join(tmp, entry.path);
    if (!target.startsWith(tmp + path.sep) && target !== tmp) throw new Error(`manifest ${id} escapes its directory: ${entry.path}`);
    if (entry.type === "dir") await mkdir(target, { recursive: true });
    if (entry.type !== "file" || (reuse && (await reuse(entry, target)))) continue;
    await (await open(target, "w", 0o600)).close();
    const chunks = entry.chunks ?? [];
    if (chunks.length !== Math.ceil(entry.size / manifest.chunkSize)) {
      throw new Error(`manifest ${id}: ${entry.path} has ${chunks.length} chunks for ${entry.size} bytes`);
    }
    chunks.forEach((hash, i) => {
      const offset = i * manifest.chunkSize;
      const length = Math.min(manifest.chunkSize, entry.size - offset);
      let job = jobs.get(hash);
      if (!job) {
        job = { hash, length, places: [] };
        jobs.set(hash, job);
      }
      if (job.length !== length) throw new Error(`manifest ${id}: chunk ${hash} has two lengths`);
      job.places.push({ file: target, offset });
    });
  }
  return [...jobs.values()];
}

/** Runs the jobs with at most `parallelism` chunks fetched or being written at once. After the
 * first failure no job starts, the running ones finish, and that failure is thrown. */
export async function fetchAll(jobs: ChunkJob[], parallelism: number, remote: Pick<SnapshotRemote, "fetchChunk">): Promise<void> {
  await eachAtMost(jobs, parallelism, async (job) => {
    const data = await remote.fetchChunk(job.hash);
    if (data.length !== job.length) throw new Error(`chunk ${job.hash} is ${data.length} bytes, not ${job.length}`);
    for (const { file, offset } of job.places) await writeAt(file, data, offset);
  });
}

/** Opened per chunk rather than held per file: a 4 MiB write dwarfs an open, and a manifest of
 * many files never holds many descriptors. `create`: the file may not exist yet (it is made
 * 0644, never truncated: other pieces of it may be written already). */
export async function writeAt(file: string, data: Uint8Array, offset: number, opts: { create?: boolean } = {}): Promise<void> {
  const fh = await open(file, opts.create ? constants.O_WRONLY | constants.O_CREAT : "r+", 0o644);
  try {
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  } finally {
    await fh.close();
  }
}

/** ingestDirectory writes through a BlobStore; this one uploads each blob to the CAS. Reads are
 * not needed by ingest and not offered. */
export class UploadStore implements BlobStore {
  constructor(private readonly remote: Pick<SnapshotRemote, "fetchRef" | "putBlob" | "hasBlob" | "putRef">) {}
  // Checkpoints of kernels restored from one warm snapshot share most of their chunks: asking
  // first saves compressing and sending them (a worker's shutdown uploads every idle kernel's).
  // A chunk found may be old and reachable from nothing (the kernel was resumed, its earlier
  // checkpoint's ref dropped): the server's HEAD refreshes its age, so the collector keeps it
  // until this checkpoint's ref names it.
  async has(hash: string): Promise<boolean> {
    return (await this.remote.hasBlob?.(hash)) ?? false;
  }
  async put(hash: string, compressed: Buffer | Readable): Promise<void> {
    await this.remote.putBlob(hash, Buffer.isBuffer(compressed) ? compressed : await collect(compressed));
  }
  get(): Promise<Buffer> {
    return Promise.reject(new Error("UploadStore cannot read blobs"));
  }
  size(): Promise<number | null> {
    return Promise.reject(new Error("UploadStore cannot read blobs"));
  }
  createReadStream(): Promise<Readable> {
    return Promise.reject(new Error("UploadStore cannot read blobs"));
  }
  getRef(name: string): Promise<string | null> {
    return this.remote.fetchRef(name);
  }
  putRef(name: string, hash: string): Promise<void> {
    return this.remote.putRef(name, hash);
  }
}

/** Without a CAS (tests, a worker on its own) ingest only computes the manifest hash. */
class NullStore implements BlobStore {
  async has(): Promise<boolean> {
    return true;
  }
  async put(): Promise<void> {}
  get(): Promise<Buffer> {
    return Promise.reject(new Error("no store"));
  }
  async size(): Promise<number | null> {
    return null;
  }
  createReadStream(): Promise<Readable> {
    return Promise.reject(new Error("no store"));
  }
  async getRef(): Promise<string | null> {
    return null;
  }
  async putRef(): Promise<void> {}
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
