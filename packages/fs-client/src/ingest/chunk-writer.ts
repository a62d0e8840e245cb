import { createHash } from "node:crypto";
import type { BlobStore } from "../store/blob-store";
import { BLOB_CODEC, compressChunk, type BlobCodec } from "../store/codec";

export interface IngestStats {
  /** Regular files in the manifest (hard links count once per path). */
  files: number;
  /** Sum of file sizes: what a full copy of the image would move. */
  logicalBytes: number;
  /** Compressed bytes this ingest added to the store. */
  storedBytes: number;
  /** Uncompressed bytes of the blobs this ingest added. */
  newBytes: number;
  newBlobs: number;
  /** Chunk references whose blob was already stored (by an earlier image or earlier in this one). */
  dedupedBlobs: number;
  /** Entries left out of the image (devices, sockets, FIFOs, dangling hard links). */
  skipped: number;
}

export function emptyStats(): IngestStats {
  return { files: 0, logicalBytes: 0, storedBytes: 0, newBytes: 0, newBlobs: 0, dedupedBlobs: 0, skipped: 0 };
}

/** Logical bytes over newly stored uncompressed bytes, across one or more ingests into one store. */
export function dedupRatio(stats: IngestStats[]): number {
  const logical = stats.reduce((n, s) => n + s.logicalBytes, 0);
  const stored = stats.reduce((n, s) => n + s.newBytes, 0);
  return stored === 0 ? (logical === 0 ? 1 : Infinity) : logical / stored;
}

/**
 * Cuts file contents into fixed-size chunks, hashes each and stores it compressed if the store
 * lacks it. At most `parallelism` chunks are being compressed/written at once and reading waits
 * for a free slot, so memory stays near (parallelism + 1) × chunkSize whatever the file size.
 */
export class ChunkWriter {
  readonly stats = emptyStats();
  private readonly seen = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(
    private readonly store: BlobStore,
    readonly chunkSize: number,
    private readonly parallelism = 2,
    /** How new chunks are compressed; their hash (the name) is of the uncompressed bytes either way. */
    readonly codec: BlobCodec = BLOB_CODEC,
  ) {}

  /** Reads a file's bytes to the end; resolves to its chunk hashes and size. `owned`: the pieces
   * are never reused by their source (readChunks' are not), so a piece that is a whole chunk is
   * stored as it is rather than copied. */
  async writeFile(content: AsyncIterable<Uint8Array>, opts: { owned?: boolean } = {}): Promise<{ chunks: string[]; size: number }> {
    const chunks: string[] = [];
    let size = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const emit = async (chunk: Buffer) => {
      chunks.push(await this.writeChunk(chunk));
    };
    for await (const piece of content) {
      let buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      size += buf.length;
      while (opts.owned && pendingBytes === 0 && buf.length >= this.chunkSize) {
        await emit(buf.subarray(0, this.chunkSize));
        buf = buf.subarray(this.chunkSize);
      }
      while (pendingBytes + buf.length >= this.chunkSize) {
        const take = this.chunkSize - pendingBytes;
        pending.push(buf.subarray(0, take));
        buf = buf.subarray(take);
        await emit(Buffer.concat(pending, this.chunkSize));
        pending = [];
        pendingBytes = 0;
      }
      if (buf.length > 0) {
        // Copy: a stream may reuse its buffers once we ask for the next piece.
        pending.push(Buffer.from(buf));
        pendingBytes += buf.length;
      }
    }
    if (pendingBytes > 0) await emit(Buffer.concat(pending, pendingBytes));
    return { chunks, size };
  }

  /** Hashes now; stores in the background, waiting first if all slots are busy. */
  async writeChunk(data: Buffer): Promise<string> {
    this.throwIfFailed();
    const hash = createHash("sha256").update(data).digest("hex");
    if (this.seen.has(hash)) {
      this.stats.dedupedBlobs++;
      return hash;
    }
    this.seen.add(hash);
    while (this.inFlight.size >= this.parallelism) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const job = this.storeChunk(hash, data).then(
      () => {
        this.inFlight.delete(job);
      },
      (err) => {
        this.inFlight.delete(job);
        this.failure ??= err;
      },
    );
    this.inFlight.add(job);
    return hash;
  }

  /** Waits for every chunk to be stored; rejects with the first storage error. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  private async storeChunk(hash: string, data: Buffer): Promise<void> {
    if (await this.store.has(hash)) {
      this.stats.dedupedBlobs++;
      return;
    }
    const blob = await compressChunk(data, this.codec);
    await this.store.put(hash, blob);
    this.stats.newBlobs++;
    this.stats.newBytes += data.length;
    this.stats.storedBytes += blob.length;
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }
}
