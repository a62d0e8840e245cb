import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { assertHash, assertRefName, BlobNotFoundError, type CollectableStore, type StoredBlob } from "./blob-store";

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix inside the bucket, e.g. "cas/". Default "". */
  prefix?: string;
}

/** User metadata a reuse writes (x-amz-meta-…): when has() last refreshed the blob's age. */
const REUSED_AT = "cellar-reused-at";
/** has() refreshes a blob's age only when it is older than this, so a checkpoint or image that
 * reuses thousands of chunks another writer reused a moment ago costs a HEAD each, not a copy
 * (a worker's shutdown uploads every idle kernel's checkpoint, mostly the same chunks). A writer
 * thus has the grace less this to make what it reused reachable. */
const S3_REUSE_REFRESH_MS = 60_000;

/** The CAS in any S3-compatible bucket, keyed `<prefix><hash[0:2]>/<hash>` like the local store. */
export class S3BlobStore implements CollectableStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? "";
  }

  keyOf(hash: string): string {
    assertHash(hash);
    return `${this.prefix}${hash.slice(0, 2)}/${hash}`;
  }

  /**
   * A reuse (see BlobStore.has) copies the object onto itself with fresh metadata: S3 then moves
   * LastModified, which the listing reports, and the metadata's time is what statBlob reads
   * where a store leaves LastModified as it was (s3rver does). On a versioned bucket each copy
   * leaves a noncurrent version behind, as each delete does: expire them with a lifecycle rule.
   */
  async has(hash: string): Promise<boolean> {
    const blob = await this.statBlob(hash);
    if (!blob) return false;
    if (Date.now() - blob.writtenAt.getTime() < S3_REUSE_REFRESH_MS) return true;
    const key = this.keyOf(hash);
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${this.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
          MetadataDirective: "REPLACE",
          ContentType: "application/octet-stream",
          Metadata: { [REUSED_AT]: new Date().toISOString() },
        }),
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false; // collected since the HEAD: the writer uploads it again
      throw err;
    }
  }

  async size(hash: string): Promise<number | null> {
    return (await this.statBlob(hash))?.size ?? null;
  }

  async statBlob(hash: string): Promise<StoredBlob | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash) }));
      const modified = head.LastModified?.getTime() ?? 0;
      const reused = Date.parse(head.Metadata?.[REUSED_AT] ?? "");
      return { hash, size: head.ContentLength ?? 0, writtenAt: new Date(Number.isNaN(reused) ? modified : Math.max(modified, reused)) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async put(hash: string, compressed: Buffer | Readable): Promise<void> {
    const key = this.keyOf(hash);
    // Skipping the upload is a reuse, so this asks has() (which protects the blob), not size().
    if (await this.has(hash)) {
      if (!Buffer.isBuffer(compressed)) compressed.resume();
      return;
    }
    // A blob is one compressed chunk (a few MiB at most), and PutObject wants its length up
    // front, so a stream is gathered first; S3 objects appear whole, so no temp key is needed.
    const body = Buffer.isBuffer(compressed) ? compressed : await collect(compressed);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: "application/octet-stream",
      }),
    );
  }

  async get(hash: string): Promise<Buffer> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash) }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(hash);
      throw err;
    }
  }

  async createReadStream(hash: string, range?: { start: number; end: number }): Promise<Readable> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(hash),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      const body = res.Body;
      if (body instanceof Readable) return body;
      return Readable.from(Buffer.from(await body!.transformToByteArray()));
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(hash);
      throw err;
    }
  }

  async getRef(name: string): Promise<string | null> {
    assertRefName(name);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}refs/${name}` }));
      const target = (await res.Body!.transformToString()).trim();
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
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}refs/${name}`, Body: hash + "\n", ContentType: "text/plain" }),
    );
  }

  async *listBlobs(): AsyncIterable<StoredBlob> {
    for await (const o of this.list(this.prefix)) {
      const m = o.key.slice(this.prefix.length).match(/^[0-9a-f]{2}\/([0-9a-f]{64})$/);
      if (m) yield { hash: m[1], size: o.size, writtenAt: o.lastModified };
    }
  }

  async *listRefs(): AsyncIterable<{ name: string; hash: string }> {
    const refs = `${this.prefix}refs/`;
    for await (const o of this.list(refs)) {
      const name = o.key.slice(refs.length);
      const hash = await this.getRef(name).catch(() => null);
      if (hash) yield { name, hash };
    }
  }

  async deleteBlob(hash: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash) }));
  }

  async deleteRef(name: string): Promise<void> {
    assertRefName(name);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}refs/${name}` }));
  }

  private async *list(prefix: string): AsyncIterable<{ key: string; size: number; lastModified: Date }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(Buffer.from(p as Uint8Array));
  return Buffer.concat(parts);
}
