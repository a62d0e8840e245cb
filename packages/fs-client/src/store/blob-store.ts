import type { Readable } from "node:stream";

/**
 * The content-addressed store. Keys are the sha256 hex of a blob's UNCOMPRESSED bytes; values
 * are the compressed bytes (see codec.ts). The store trusts its caller on put: ingest computes
 * the hash, and readers verify it after decompressing.
 */
export interface BlobStore {
  /**
   * Whether the store holds `hash`, asked by a writer that skips uploading what is there. A true
   * answer is also a reuse: it refreshes the blob's age (the local store sets the file's time, S3
   * copies the object onto itself), so the garbage collector leaves it for a grace period from
   * now even if it was old and unreachable, while the writer goes on to make it reachable (a
   * manifest or ref naming it). Reusing a manifest means reusing its chunks: has() each of them
   * too (ingest does, leaves first). Reads that are not about to reuse a blob ask size().
   */
  has(hash: string): Promise<boolean>;
  /** Idempotent: a second put of a hash leaves the same content in place. */
  put(hash: string, compressed: Buffer | Readable): Promise<void>;
  /** Rejects with a BlobNotFoundError when absent. */
  get(hash: string): Promise<Buffer>;
  /** Compressed size in bytes, or null when absent. */
  size(hash: string): Promise<number | null>;
  /** Inclusive byte range of the compressed blob, as in HTTP Range. */
  createReadStream(hash: string, range?: { start: number; end: number }): Promise<Readable>;
  /**
   * Named pointers to blobs, e.g. `boot-profile/<imageId>`: the one mutable corner of the
   * store, for facts learned after ingest (what an image reads while it boots, its warm
   * snapshot). Null when the name was never set.
   */
  getRef(name: string): Promise<string | null>;
  /** Points `name` at `hash`; the last writer wins. */
  putRef(name: string, hash: string): Promise<void>;
}

/** A blob as the garbage collector sees it. */
export interface StoredBlob {
  hash: string;
  size: number;
  /** When it was last written or reused (has()), by the store's own clock: its age. */
  writtenAt: Date;
}

/** What the garbage collector needs beyond BlobStore: to list and delete. */
export interface CollectableStore extends BlobStore {
  listBlobs(): AsyncIterable<StoredBlob>;
  /**
   * One blob as it is now, null when absent. The collector asks again right before deleting a
   * blob it listed as old, because a writer may have reused it since. It can be younger than the
   * listing said: S3 listings carry no metadata, and where a copy onto itself leaves LastModified
   * as it was (s3rver), only this read sees the reuse.
   */
  statBlob(hash: string): Promise<StoredBlob | null>;
  listRefs(): AsyncIterable<{ name: string; hash: string }>;
  /** Gone already is fine. */
  deleteBlob(hash: string): Promise<void>;
  deleteRef(name: string): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly hash: string) {
    super(`blob ${hash} not found`);
    this.name = "BlobNotFoundError";
  }
}

const HASH_RE = /^[0-9a-f]{64}$/;

export function assertHash(hash: string): void {
  if (!HASH_RE.test(hash)) throw new Error(`not a sha256 hex hash: ${JSON.stringify(hash)}`);
}

const REF_RE = /^[a-z][a-z0-9-]*\/[0-9a-f]{64}$/;

/** A ref is `<kind>/<sha256 hex>`: the kind says what it points at, the hash what it is about. */
export function assertRefName(name: string): void {
  if (!REF_RE.test(name)) throw new Error(`not a ref name (<kind>/<sha256 hex>): ${JSON.stringify(name)}`);
}
