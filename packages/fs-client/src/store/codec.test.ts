import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { compressFrame, decompressFrame } from "lz4-napi";
import { BlobIntegrityError, verifyBlob } from "../fetch/verify";
import { BlobFetcher } from "../fetch/blob-fetcher";
import { blobCodecOf, compressChunk, decompressBlob, lz4FrameBounds, storedLz4Frame, type BlobCodec } from "./codec";
import { startTestBlobServer, TEST_TOKEN } from "./test-blob-server";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const MAGIC = Buffer.from([0x04, 0x22, 0x4d, 0x18]);

/** Something like a checkpoint: text, a run of zero pages, random bytes; `n` bytes in all. */
function checkpointLike(n: number): Buffer {
  const out = Buffer.alloc(n);
  const text = Buffer.from("import numpy as np\nx = np.zeros((1024, 1024))\n".repeat(4096));
  text.copy(out, 0, 0, Math.min(text.length, n >> 2));
  randomBytes(n >> 2).copy(out, n >> 1);
  return out;
}

describe("blob codecs", () => {
  const cases: [string, Buffer][] = [
    ["empty", Buffer.alloc(0)],
    ["one byte", Buffer.from("x")],
    ["text", Buffer.from("print(1)\n".repeat(1000))],
    ["9 MiB, three LZ4 blocks", checkpointLike(9 * 1024 * 1024)],
  ];
  for (const codec of ["br", "lz4"] as BlobCodec[]) {
    for (const [name, data] of cases) {
      it(`round-trips ${name} through ${codec}, and the reader needs no flag`, async () => {
        const blob = await compressChunk(data, codec);
        expect(blobCodecOf(blob)).toBe(codec);
        expect((await decompressBlob(blob)).equals(data)).toBe(true);
        expect((await decompressBlob(blob, Math.max(1, data.length))).equals(data)).toBe(true); // zlib refuses a cap of 0
        expect((await verifyBlob(sha(data), blob)).equals(data)).toBe(true);
      });
    }
  }

  it("keeps Brotli the default, and LZ4 blobs start with the frame magic", async () => {
    const data = checkpointLike(1024 * 1024);
    const br = await compressChunk(data);
    const lz4 = await compressChunk(data, "lz4");
    expect(br.subarray(0, 4).equals(MAGIC)).toBe(false);
    expect(lz4.subarray(0, 4).equals(MAGIC)).toBe(true);
    expect(br.equals(await compressChunk(data, "br"))).toBe(true);
    // LZ4 trades ratio for speed, but still compresses zero pages and text.
    expect(lz4.length).toBeLessThan(data.length * 0.6);
    await expect(compressChunk(data, "zstd" as BlobCodec)).rejects.toThrow(/unknown blob codec/);
  });

  it("refuses an LZ4 blob that would inflate past the cap", async () => {
    const data = Buffer.alloc(1024 * 1024 + 1, 0);
    const blob = await compressChunk(data, "lz4");
    expect(blob.length).toBeLessThan(10_000);
    await expect(decompressBlob(blob, data.length - 1)).rejects.toThrow(/more than the 1048576 allowed/);
    await expect(verifyBlob(sha(data), blob, data.length - 1)).rejects.toBeInstanceOf(BlobIntegrityError);
    expect((await decompressBlob(blob, data.length)).length).toBe(data.length);
  });

  it("refuses a hostile LZ4 frame before inflating it", async () => {
    // One 4 MiB block of zeros is ~16 KiB compressed; 64 of them in one frame would inflate to
    // 256 MiB. The block walk sees that from the headers alone.
    const one = await compressFrame(Buffer.alloc(4 * 1024 * 1024));
    const header = one.subarray(0, 7);
    const block = one.subarray(7, one.length - 4);
    const hostile = Buffer.concat([header, ...Array.from({ length: 64 }, () => block), Buffer.alloc(4)]);
    expect(lz4FrameBounds(hostile).bound).toBe(256 * 1024 * 1024);
    const t0 = performance.now();
    await expect(decompressBlob(hostile, 16 * 1024 * 1024)).rejects.toThrow(/may inflate to more than the 16777216 bytes allowed/);
    expect(performance.now() - t0).toBeLessThan(200);
    // A frame that declares a content size over the cap is refused on that alone.
    const declared = Buffer.concat([MAGIC, Buffer.from([0x68, 0x70]), Buffer.alloc(8), Buffer.from([0]), Buffer.alloc(4)]);
    declared.writeBigUInt64LE(1n << 40n, 6);
    await expect(decompressBlob(declared, 1024)).rejects.toThrow(/declares 1099511627776 bytes/);
  });

  it("rejects a corrupt, truncated or padded LZ4 blob", async () => {
    const data = checkpointLike(2 * 1024 * 1024);
    const blob = await compressChunk(data, "lz4");
    const hash = sha(data);

    const truncated = blob.subarray(0, blob.length >> 1);
    await expect(decompressBlob(truncated)).rejects.toThrow(/corrupt LZ4 frame: truncated block/);
    await expect(verifyBlob(hash, truncated)).rejects.toBeInstanceOf(BlobIntegrityError);
    await expect(verifyBlob(hash, blob.subarray(0, blob.length - 2))).rejects.toBeInstanceOf(BlobIntegrityError);
    await expect(decompressBlob(Buffer.concat([blob, Buffer.from("junk")]))).rejects.toThrow(/4 bytes after the frame/);

    // Flipped bytes inside the compressed block: the decoder fails or the hash check does.
    const flipped = Buffer.from(blob);
    for (let i = 64; i < 96; i++) flipped[i] = flipped[i]! ^ 0xff;
    await expect(verifyBlob(hash, flipped)).rejects.toBeInstanceOf(BlobIntegrityError);

    // A wrong block size in a block header.
    const badSize = Buffer.from(blob);
    badSize.writeUInt32LE(0x7fffffff, 7);
    await expect(decompressBlob(badSize)).rejects.toThrow(/corrupt LZ4 frame/);
  });

  it("keeps incompressible chunks raw in stored LZ4 blocks, which any LZ4 reader decodes and ours only slices", async () => {
    const floats = Buffer.from(Float64Array.from({ length: (4 * 1024 * 1024) / 8 }, () => Math.random()).buffer);
    const blob = await compressChunk(floats, "lz4");
    expect(blobCodecOf(blob)).toBe("lz4");
    expect(blob.length).toBe(floats.length + 15); // header, one block header, end mark
    expect(lz4FrameBounds(blob).stored).toEqual([[11, 11 + floats.length]]);
    expect((await decompressFrame(blob)).equals(floats)).toBe(true); // lz4_flex, as older workers read it
    const out = await decompressBlob(blob);
    expect(out.equals(floats)).toBe(true);
    expect(out.buffer).toBe(blob.buffer); // a view: nothing decoded or copied
    expect((await verifyBlob(sha(floats), blob)).equals(floats)).toBe(true);
    // More than one block, and a cap under the content.
    const big = randomBytes(9 * 1024 * 1024 + 3);
    const frame = storedLz4Frame(big);
    expect((await decompressFrame(frame)).equals(big)).toBe(true);
    expect((await decompressBlob(frame)).equals(big)).toBe(true);
    await expect(decompressBlob(frame, big.length - 1)).rejects.toThrow(/more than the/);
    // A chunk with text in it is still compressed, even if part of it is random.
    const mixed = checkpointLike(4 * 1024 * 1024);
    expect(lz4FrameBounds(await compressChunk(mixed, "lz4")).stored).toBeNull();
  });

  it("tries Brotli when a blob has the LZ4 magic but is no LZ4 frame, and reports the LZ4 error", async () => {
    const neither = Buffer.concat([MAGIC, randomBytes(64)]);
    expect(blobCodecOf(neither)).toBe("lz4");
    await expect(decompressBlob(neither)).rejects.toThrow(/corrupt LZ4 frame/);
    // Short or non-magic garbage is Brotli's to reject.
    await expect(decompressBlob(MAGIC.subarray(0, 3))).rejects.toThrow();
    expect(blobCodecOf(MAGIC.subarray(0, 3))).toBe("br");
  });

  it("travels the blob route both ways: the server verifies an LZ4 upload, the fetcher inflates it", async () => {
    const srv = await startTestBlobServer();
    const fetcher = new BlobFetcher({ baseUrl: srv.baseUrl, authorization: TEST_TOKEN, onFault: () => {} });
    try {
      const data = checkpointLike(3 * 1024 * 1024);
      await fetcher.putBlob(sha(data), await compressChunk(data, "lz4"));
      expect(blobCodecOf(await srv.store.get(sha(data)))).toBe("lz4");
      expect((await fetcher.fetchChunk(sha(data))).equals(data)).toBe(true);
      const other = Buffer.from("not what the name says");
      await expect(
        fetcher.putBlob(
          sha(data).replace(/^./, (c) => (c === "0" ? "1" : "0")),
          await compressChunk(other, "lz4"),
        ),
      ).rejects.toThrow(/HTTP 422/);
    } finally {
      fetcher.close();
      await srv.close();
    }
  });
});
