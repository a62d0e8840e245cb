// Where warm snapshots live: in the CAS, so any worker can restore one, and materialised on this
// worker's disk, so a restore never refetches. A checkpoint directory is ingested like an image
// (manifest + chunk blobs); the ref `warm-snapshot/<key>` names its manifest.
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { fetchManifest, ingestDirectory, type BlobStore } from "@cellar/fs-client";

/** The CAS as a worker sees it over HTTP (`BlobFetcher` from @cellar/fs-client). */
export interface SnapshotRemote {
  fetchChunk(hash: string): Promise<Buffer>;
  fetchRef(name: string): Promise<string | null>;
  putBlob(hash: string, compressed: Buffer): Promise<void>;
  putRef(name: string, hash: string): Promise<void>;
}

export interface LocalSnapshot {
  key: string;
  /** The manifest hash of the checkpoint directory: the snapshot's identity. */
  id: string;
  /** The directory to pass to `runsc restore --image-path`. */
  dir: string;
}

export class SnapshotStore {
  private distrusted: Record<string, string[]> | null = null;

  constructor(
    /** e.g. `$CELLAR_CACHE/snapshots`. */
    readonly root: string,
    private readonly remote: SnapshotRemote | null,
    /** Names the CAS ref of a key's newest snapshot: `<refPrefix><key>`. */
    private readonly refPrefix = "warm-snapshot/",
  ) {}

  /** The snapshot for `key` on this disk, fetching it from the CAS if only the CAS has it;
   * null if there is none, or only one this worker saw fail. */
  async get(key: string): Promise<LocalSnapshot | null> {
    const id = await this.remoteId(key);
    if (!id || (await this.isDistrusted(key, id))) return null;
    return this.getById(key, id);
  }

  /** Snapshot `id` of `key`: this disk's copy, else fetched from the CAS; null without a CAS. */
  async getById(key: string, id: string): Promise<LocalSnapshot | null> {
    const dir = this.dirFor(key, id);
    if (existsSync(path.join(dir, ".complete"))) return { key, id, dir };
    if (!this.remote) return null;
    await this.materialise(id, dir);
    return { key, id, dir };
  }

  /** Stores a checkpoint directory under `key`: into the CAS (if there is one) and, by moving
   * it, as this worker's local copy. */
  async put(key: string, checkpointDir: string): Promise<LocalSnapshot> {
    const { imageId: id } = await ingestDirectory(checkpointDir, this.remote ? new UploadStore(this.remote) : new NullStore(), { onWarning: () => {} });
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

  /** Stores a checkpoint directory in the CAS as snapshot `expectedId` of `key` and points the
   * key's ref at it, leaving the directory where it is. Used when the local copy was kept first
   * and the upload runs afterwards, from a copy that matches the local one byte for byte. */
  async upload(key: string, checkpointDir: string, expectedId: string): Promise<void> {
    if (!this.remote) throw new Error("there is no content store to upload to");
    const { imageId: id } = await ingestDirectory(checkpointDir, new UploadStore(this.remote), { onWarning: () => {} });
    if (id !== expectedId) throw new Error(`the uploaded checkpoint is ${id}, not the local copy's ${expectedId}`);
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

  /** The CAS's ref, or this disk's record of the last one put when there is no CAS. */
  private async remoteId(key: string): Promise<string | null> {
    if (this.remote) return this.remote.fetchRef(this.refPrefix + key);
    try {
      return (await readFile(path.join(this.root, key, "current"), "utf8")).trim() || null;
    } catch {
      return null;
    }
  }

  private async materialise(id: string, dir: string): Promise<void> {
    const remote = this.remote!;
    const manifest = await fetchManifest(remote, id);
    const tmp = `${dir}.part-${process.pid}-${Date.now()}`;
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    try {
      for (const entry of manifest.entries) {
        const target = path.join(tmp, entry.path);
        if (!target.startsWith(tmp + path.sep) && target !== tmp) throw new Error(`snapshot manifest ${id} escapes its directory: ${entry.path}`);
        if (entry.type === "dir") await mkdir(target, { recursive: true });
        if (entry.type !== "file") continue;
        const fh = await open(target, "w", 0o600);
        try {
          for (const hash of entry.chunks ?? []) await fh.write(await remote.fetchChunk(hash));
        } finally {
          await fh.close();
        }
      }
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

/** ingestDirectory writes through a BlobStore; this one uploads each blob to the CAS. Reads are
 * not needed by ingest and not offered. */
class UploadStore implements BlobStore {
  constructor(private readonly remote: SnapshotRemote) {}
  async has(): Promise<boolean> {
    return false; // uploads are idempotent, and the server verifies each one
  }
  async put(hash: string, compressed: Buffer | Readable): Promise<void> {
    await this.remote.putBlob(hash, Buffer.isBuffer(compressed) ? compressed : await collect(compressed));
  }
  get(): Promise<Buffer> { return Promise.reject(new Error("UploadStore cannot read blobs")); }
  size(): Promise<number | null> { return Promise.reject(new Error("UploadStore cannot read blobs")); }
  createReadStream(): Promise<Readable> { return Promise.reject(new Error("UploadStore cannot read blobs")); }
  getRef(name: string): Promise<string | null> { return this.remote.fetchRef(name); }
  putRef(name: string, hash: string): Promise<void> { return this.remote.putRef(name, hash); }
}

/** Without a CAS (tests, a worker on its own) ingest only computes the manifest hash. */
class NullStore implements BlobStore {
  async has(): Promise<boolean> { return true; }
  async put(): Promise<void> {}
  get(): Promise<Buffer> { return Promise.reject(new Error("no store")); }
  async size(): Promise<number | null> { return null; }
  createReadStream(): Promise<Readable> { return Promise.reject(new Error("no store")); }
  async getRef(): Promise<string | null> { return null; }
  async putRef(): Promise<void> {}
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
