import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { assertHash, assertRefName, BlobNotFoundError, type CollectableStore, type StoredBlob } from "./blob-store";

/** Blobs as files at `<dir>/<hash[0:2]>/<hash>`; written to a temp name and renamed into place. */
export class LocalDirStore implements CollectableStore {
  /** Shard directories known to exist: saves a mkdir per blob during ingest. */
  private readonly shards = new Set<string>();

  constructor(readonly dir: string) {}

  pathOf(hash: string): string {
    assertHash(hash);
    return join(this.dir, hash.slice(0, 2), hash);
  }

  /** Sets the file's times to now, the one syscall that both answers and protects (see
   * BlobStore.has): the file time is the blob's age for the collector. */
  async has(hash: string): Promise<boolean> {
    const now = new Date();
    try {
      await utimes(this.pathOf(hash), now, now);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      // A store this process may not write is one it cannot collect either: answer, unprotected.
      if (isNotWritable(err)) return (await this.size(hash)) !== null;
      throw err;
    }
  }

  async size(hash: string): Promise<number | null> {
    return (await this.statBlob(hash))?.size ?? null;
  }

  async put(hash: string, compressed: Buffer | Readable): Promise<void> {
    const final = this.pathOf(hash);
    const shard = hash.slice(0, 2);
    if (!this.shards.has(shard)) {
      await mkdir(join(this.dir, shard), { recursive: true });
      this.shards.add(shard);
    }
    // No existence check: callers ask has() first, and a second put of a hash writes the same
    // bytes, which rename swaps in atomically.
    const tmp = `${final}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      if (Buffer.isBuffer(compressed)) await writeFile(tmp, compressed);
      else await pipeline(compressed, createWriteStream(tmp));
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(hash: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(hash));
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(hash);
      throw err;
    }
  }

  async createReadStream(hash: string, range?: { start: number; end: number }): Promise<Readable> {
    if ((await this.size(hash)) === null) throw new BlobNotFoundError(hash);
    // 1 MiB reads: a 4 MiB chunk in 4 reads and socket writes rather than 64 (serving a 1 GB
    // state move's chunks, the gateway's main thread spent most of its time in those calls).
    return createReadStream(this.pathOf(hash), { ...range, highWaterMark: 1024 * 1024 });
  }

  /** Refs live beside the shards, under `refs/<kind>/<hash>`, a file holding the blob hash. */
  async getRef(name: string): Promise<string | null> {
    assertRefName(name);
    try {
      const target = (await readFile(join(this.dir, "refs", name), "utf8")).trim();
      assertHash(target);
      return target;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async putRef(name: string, hash: string): Promise<void> {
    assertRefName(name);
    assertHash(hash);
    const file = join(this.dir, "refs", name);
    await mkdir(join(file, ".."), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(tmp, hash + "\n");
    await rename(tmp, file);
  }

  async statBlob(hash: string): Promise<StoredBlob | null> {
    try {
      const s = await stat(this.pathOf(hash));
      return { hash, size: s.size, writtenAt: s.mtime };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async *listBlobs(): AsyncIterable<StoredBlob> {
    for (const shard of await readdirOrEmpty(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of await readdirOrEmpty(join(this.dir, shard))) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue; // temp files of writes under way
        const blob = await this.statBlob(name);
        if (blob) yield blob;
      }
    }
  }

  async *listRefs(): AsyncIterable<{ name: string; hash: string }> {
    const root = join(this.dir, "refs");
    const walk = async function* (dir: string, prefix: string): AsyncIterable<string> {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (entry.isDirectory()) yield* walk(join(dir, entry.name), `${prefix}${entry.name}/`);
        else if (!entry.name.endsWith(".tmp")) yield `${prefix}${entry.name}`;
      }
    };
    for await (const name of walk(root, "")) {
      const hash = await this.getRef(name).catch(() => null);
      if (hash) yield { name, hash };
    }
  }

  async deleteBlob(hash: string): Promise<void> {
    await rm(this.pathOf(hash), { force: true });
  }

  async deleteRef(name: string): Promise<void> {
    assertRefName(name);
    await rm(join(this.dir, "refs", name), { force: true });
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === "ENOENT";
}

function isNotWritable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === "EACCES" || code === "EPERM" || code === "EROFS";
}
