import { promisify } from "node:util";
import { brotliCompress, brotliDecompress, constants } from "node:zlib";
import { compressFrame, decompressFrame } from "lz4-napi";

/*
 * Two codecs, chosen per blob by the writer; a reader tells them apart by the blob's first bytes,
 * so nothing else (manifest, ref, URL) says which one a blob uses, and a blob's name is always the
 * sha256 of its uncompressed bytes whichever codec stored it.
 *
 * "br": Brotli quality 4 from node:zlib, for image chunks (the default). Measured on 32 MiB of
 * /usr/bin: ratio 0.235, compress 64 MB/s, decompress 321 MB/s, against gzip -6 at 0.279 / 40 /
 * 370 and gzip -1 at 0.315 / 110 / 283. On incompressible bytes (model weights) Brotli stores raw
 * meta-blocks, where gzip -1 manages 47 MB/s.
 *
 * "lz4": the LZ4 frame format (lz4-napi, a napi-rs binding of the Rust lz4_flex; MIT; its native
 * code ships as per-platform npm packages such as @antoniomuso/lz4-napi-linux-x64-gnu, so it
 * installs from the registry with no build or download step), for warm snapshots and
 * suspended-kernel checkpoints: runsc writes them uncompressed (~64 MB idle, ~1 GiB for a kernel
 * holding 1 GiB of arrays), and a worker restoring one must inflate faster than its disk reads.
 * Node 20 has no zstd, and the npm zstd bindings fetch prebuilt binaries at install time, which
 * this build cannot. Measured 2026-12-02 on this machine (2 cores, load average 0.04–2.0; the
 * range over three runs, each the median of 5 rounds; 4 MiB chunks as ingest cuts them;
 * `npx tsx src/store/codec-bench.ts <file>`), MB/s of uncompressed bytes, one chunk in flight
 * / two:
 *
 *   64 MB "kernel-like" (.so files + 50% zero pages)   ratio   compress        decompress
 *     brotli q4                                         0.163   40–93 / 82–157  98–158 / 203–250
 *     lz4 frame, async                                  0.256   478–658 / 745–1048  567–863 / 1125–1460
 *     lz4 frame, sync                                   0.256   461–598 / 608–664   754–843 / 819–916
 *   64 MB random bytes
 *     brotli q4                                         1.000   85–196 / 89–213  210–464 / 286–539
 *     lz4 frame, async                                  1.000   620–1024 / 830–1793  1091–1361 / 940–2987
 *     lz4 frame, sync                                   1.000   773–1395 / 1165–1683  1176–1613 / 1347–2219
 *   sha256 (every fetched blob is hashed after inflating): 1.1–1.7 GB/s on one core
 *   reading a 1 GiB file (dd bs=4M): page cache dropped 764 MB/s and 1.3 GB/s (the VM's host
 *   caches too), O_DIRECT 742 MB/s; from the page cache 3.1–6.1 GB/s
 *
 * So Brotli inflates at a fifth to a tenth of a cold disk read, LZ4 at about the disk's speed
 * per core and above it with two chunks in flight. The async calls run on libuv's thread pool:
 * they do not hold the event loop (which also serves the FUSE daemon's chunk requests and the
 * kernels' sockets) for the 5–10 ms a 4 MiB chunk takes, and two of them use both cores, where
 * the sync ones serialise on the main thread; so the async ones are used.
 */
const compressAsync = promisify(brotliCompress);
const decompressAsync = promisify(brotliDecompress);

export type BlobCodec = "br" | "lz4";

/** The default codec, used for image chunks, manifests and boot packs. */
export const BLOB_CODEC: BlobCodec = "br";

/** An LZ4 frame starts with 0x184D2204, little-endian. */
const LZ4_MAGIC = Buffer.from([0x04, 0x22, 0x4d, 0x18]);

export async function compressChunk(data: Buffer, codec: BlobCodec = BLOB_CODEC): Promise<Buffer> {
  if (codec === "lz4") {
    if (await looksIncompressible(data)) return storedLz4Frame(data);
    const frame = await compressFrame(data);
    // Not meaningfully smaller: stored blocks instead, which every reader takes as they are
    // (decompressBlob hands back a view of the blob) rather than decoding.
    return frame.length > data.length * STORE_RAW_ABOVE ? storedLz4Frame(data) : frame;
  }
  if (codec !== "br") throw new Error(`unknown blob codec ${String(codec)}`);
  return compressAsync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 4,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
}

/*
 * Incompressible chunks (random floats, model weights, compressed files) are kept raw, in LZ4
 * frames of stored blocks (the frame format's own "uncompressed block" flag, so any LZ4 reader,
 * an older worker's included, decodes them). Measured 2026-12-07 on this machine, per GB of
 * numpy random floats in 4 MiB chunks: LZ4 compress 0.73 s for a 1.000 ratio, its decode 0.30 s
 * (a copy through the thread pool), sha256 0.49 s; 16 samples of 4 KiB per chunk 0.026 s. So a
 * chunk whose samples do not shrink is not compressed at all, and a stored frame is read by
 * slicing the blob: a state move of 1 GB of arrays no longer pays for LZ4 on its way in, at the
 * blob server, or on its way out.
 */
/** Compressed output above this share of the input is not worth decoding: stored instead. */
const STORE_RAW_ABOVE = 0.97;
const SAMPLES = 16;
const SAMPLE_BYTES = 4096;

/** Whether evenly spread samples of `data` fail to shrink under LZ4; small blobs are always tried. */
async function looksIncompressible(data: Buffer): Promise<boolean> {
  if (data.length < SAMPLES * SAMPLE_BYTES * 4) return false;
  const step = Math.floor((data.length - SAMPLE_BYTES) / (SAMPLES - 1));
  const sample = Buffer.allocUnsafe(SAMPLES * SAMPLE_BYTES);
  for (let i = 0; i < SAMPLES; i++) data.copy(sample, i * SAMPLE_BYTES, i * step, i * step + SAMPLE_BYTES);
  return (await compressFrame(sample)).length > sample.length * STORE_RAW_ABOVE;
}

/** FLG 0x60 (version 1, independent blocks, no checksums, no content size), BD 0x70 (4 MiB
 * blocks), and the header checksum of those two bytes (xxh32 >> 8), as lz4_flex writes it. */
const STORED_FRAME_HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73]);
const STORED_BLOCK_MAX = 4 * 1024 * 1024;

/** `data` as an LZ4 frame of stored (uncompressed) blocks. */
export function storedLz4Frame(data: Buffer): Buffer {
  const blocks = Math.ceil(data.length / STORED_BLOCK_MAX);
  const out = Buffer.allocUnsafe(STORED_FRAME_HEADER.length + blocks * 4 + data.length + 4);
  let pos = STORED_FRAME_HEADER.copy(out, 0);
  for (let at = 0; at < data.length; at += STORED_BLOCK_MAX) {
    const size = Math.min(STORED_BLOCK_MAX, data.length - at);
    pos = out.writeUInt32LE((size | 0x80000000) >>> 0, pos);
    pos += data.copy(out, pos, at, at + size);
  }
  out.writeUInt32LE(0, pos);
  return out;
}

/** Which codec a blob was written with, by its first bytes. */
export function blobCodecOf(blob: Buffer): BlobCodec {
  return blob.length >= 4 && blob.subarray(0, 4).equals(LZ4_MAGIC) ? "lz4" : "br";
}

/**
 * Inflates a blob of either codec. Throws on a truncated or corrupt blob, and on one that would
 * inflate past `maxOutputLength` (checked before inflating, so a hostile blob cannot exhaust
 * memory); callers still verify the hash of what comes out. A blob that starts like an LZ4 frame
 * but does not decode as one is tried as Brotli before giving up, since a Brotli stream may start
 * with those four bytes too.
 */
export async function decompressBlob(blob: Buffer, maxOutputLength?: number): Promise<Buffer> {
  const brotli = () => decompressAsync(blob, maxOutputLength === undefined ? {} : { maxOutputLength });
  if (blobCodecOf(blob) !== "lz4") return brotli();
  try {
    return await decompressLz4(blob, maxOutputLength);
  } catch (lz4Error) {
    try {
      return await brotli();
    } catch {
      throw lz4Error;
    }
  }
}

async function decompressLz4(blob: Buffer, maxOutputLength: number | undefined): Promise<Buffer> {
  const limit = maxOutputLength ?? Number.MAX_SAFE_INTEGER;
  const { contentSize, bound, blockMax, stored } = lz4FrameBounds(blob, limit);
  if (contentSize !== null && contentSize > limit) {
    throw new RangeError(`LZ4 frame declares ${contentSize} bytes, more than the ${limit} allowed`);
  }
  // Every block inflates to at most the frame's block size, so `bound` caps what decoding can
  // allocate. Only the last block of a frame is short, so a blob within the cap has a bound at
  // most one block above it: anything more is refused unopened, the rest checked after.
  if (bound > limit + blockMax) throw new RangeError(`LZ4 frame may inflate to more than the ${limit} bytes allowed`);
  if (stored) {
    // Nothing to decode: the content is the blocks' own bytes (a view when there is one block).
    const out =
      stored.length === 1 ? blob.subarray(stored[0]![0], stored[0]![1]) : Buffer.concat(stored.map(([a, b]) => blob.subarray(a, b)));
    if (out.length > limit) throw new RangeError(`LZ4 frame inflates to ${out.length} bytes, more than the ${limit} allowed`);
    if (contentSize !== null && out.length !== contentSize)
      throw new Error(`corrupt LZ4 frame: ${out.length} bytes, not the ${contentSize} declared`);
    return out;
  }
  let out: Buffer;
  try {
    out = await decompressFrame(blob);
  } catch (err) {
    throw new Error(`corrupt LZ4 frame: ${(err as Error).message}`);
  }
  if (out.length > limit) throw new RangeError(`LZ4 frame inflates to ${out.length} bytes, more than the ${limit} allowed`);
  if (contentSize !== null && out.length !== contentSize)
    throw new Error(`corrupt LZ4 frame: ${out.length} bytes, not the ${contentSize} declared`);
  return out;
}

const BLOCK_MAX_BYTES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

/**
 * Reads an LZ4 frame's header and walks its block headers (no decoding): the declared content
 * size if any, the frame's block size, and the most its blocks can inflate to (the walk stops
 * once that passes `stopAbove`). Throws on a malformed or truncated frame, or one followed by
 * more bytes: our writer stores exactly one frame per blob. `stored`: where each block's bytes
 * are, when every block is stored uncompressed and the frame has no checksums (the content is
 * then those bytes as they are); else null.
 */
export function lz4FrameBounds(
  blob: Buffer,
  stopAbove = Number.MAX_SAFE_INTEGER,
): { contentSize: number | null; bound: number; blockMax: number; stored: Array<[number, number]> | null } {
  const fail = (why: string): never => {
    throw new Error(`corrupt LZ4 frame: ${why}`);
  };
  if (blob.length < 7 || !blob.subarray(0, 4).equals(LZ4_MAGIC)) fail("no frame header");
  const flg = blob[4]!;
  const bd = blob[5]!;
  if (flg >> 6 !== 1) fail(`version ${flg >> 6}`);
  const blockMax = BLOCK_MAX_BYTES[(bd >> 4) & 7] ?? fail(`block size code ${(bd >> 4) & 7}`);
  const blockChecksums = (flg & 0x10) !== 0;
  let pos = 6;
  let contentSize: number | null = null;
  if (flg & 0x08) {
    if (blob.length < pos + 8) fail("truncated header");
    const size = blob.readBigUInt64LE(pos);
    contentSize = size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
    pos += 8;
  }
  if (flg & 0x01) pos += 4; // dictionary id
  pos += 1; // header checksum
  let bound = 0;
  // Checksums would need checking; frames with them are decoded by lz4_flex, which does.
  let stored: Array<[number, number]> | null = blockChecksums || flg & 0x04 ? null : [];
  for (;;) {
    if (blob.length < pos + 4) fail("truncated block header");
    const word = blob.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break; // end mark
    const size = word & 0x7fffffff;
    if (size > blockMax) fail(`block of ${size} bytes in a frame of ${blockMax}-byte blocks`);
    if (blob.length < pos + size + (blockChecksums ? 4 : 0)) fail("truncated block");
    // A stored (uncompressed) block is exactly its size; a compressed one at most blockMax.
    bound += word & 0x80000000 ? size : blockMax;
    if (word & 0x80000000) stored?.push([pos, pos + size]);
    else stored = null;
    if (bound > stopAbove + blockMax) return { contentSize, bound, blockMax, stored: null };
    pos += size + (blockChecksums ? 4 : 0);
  }
  if (flg & 0x04) pos += 4; // content checksum
  if (pos !== blob.length) fail(pos > blob.length ? "truncated content checksum" : `${blob.length - pos} bytes after the frame`);
  return { contentSize, bound, blockMax, stored: stored?.length ? stored : null };
}
