import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ingestDirectory } from "../ingest/index";
import { compressChunk } from "../store/codec";
import { BlobNotFoundError } from "../store/blob-store";
import { startTestBlobServer, TEST_TOKEN, type TestBlobServer } from "../store/test-blob-server";
import { BlobFetcher, BlobHttpError, BlobIntegrityError, fetchManifest, StoreChunkSource, type FetchFault } from "./index";

describe("BlobFetcher against a real blob server", () => {
  let srv: TestBlobServer;
  let faults: FetchFault[];
  let fetcher: BlobFetcher;
  beforeEach(async () => {
    srv = await startTestBlobServer();
    faults = [];
    fetcher = new BlobFetcher({ baseUrl: srv.baseUrl, authorization: TEST_TOKEN, onFault: (f) => faults.push(f) });
  });
  afterEach(async () => srv.close());

  it("returns the verified, uncompressed bytes", async () => {
    const hash = await srv.add("print(1)\n".repeat(100));
    expect((await fetcher.fetchChunk(hash)).toString()).toBe("print(1)\n".repeat(100));
    expect(fetcher.stats).toMatchObject({ blobs: 1, bytes: 900, faults: 0 });
    expect(fetcher.stats.compressedBytes).toBeLessThan(900);
  });

  it("rejects a corrupt blob instead of returning wrong bytes, and logs the fault", async () => {
    const hash = await srv.add("the real content");
    // Valid compressed data, wrong content: only the hash check can catch this.
    await writeFile(srv.store.pathOf(hash), await compressChunk(Buffer.from("the fake content")));
    await expect(fetcher.fetchChunk(hash)).rejects.toBeInstanceOf(BlobIntegrityError);
    expect(faults.map((f) => [f.kind, f.attempt])).toEqual([
      ["integrity", 1],
      ["integrity", 2],
    ]);
    expect(fetcher.stats.blobs).toBe(0);
  });

  it("rejects a truncated blob", async () => {
    const hash = await srv.add(Buffer.alloc(100_000, 7).toString("hex") + "tail");
    const blob = await compressChunk(Buffer.from(Buffer.alloc(100_000, 7).toString("hex") + "tail"));
    await writeFile(srv.store.pathOf(hash), blob.subarray(0, blob.length - 5));
    await expect(fetcher.fetchChunk(hash)).rejects.toThrow(/failed verification/);
  });

  it("refuses a blob that inflates past maxBlobBytes", async () => {
    const hash = await srv.add(Buffer.alloc(1 << 20)); // a megabyte of zeros compresses to a few bytes
    const strict = new BlobFetcher({ baseUrl: srv.baseUrl, authorization: TEST_TOKEN, maxBlobBytes: 64 * 1024, onFault: () => {} });
    await expect(strict.fetchChunk(hash)).rejects.toBeInstanceOf(BlobIntegrityError);
    expect((await fetcher.fetchChunk(hash)).length).toBe(1 << 20);
  });

  it("does not retry a missing blob or a refused token", async () => {
    await expect(fetcher.fetchChunk("0".repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(srv.requests.get("0".repeat(64))).toBe(1);
    const hash = await srv.add("secret");
    const anonymous = new BlobFetcher({ baseUrl: srv.baseUrl + "/", onFault: () => {} });
    await expect(anonymous.fetchChunk(hash)).rejects.toMatchObject({ status: 401 });
    await expect(anonymous.fetchChunk(hash)).rejects.toBeInstanceOf(BlobHttpError);
  });

  it("shares one download among concurrent requests for a hash", async () => {
    srv.delayMs = 50;
    const hash = await srv.add("shared");
    const results = await Promise.all(Array.from({ length: 10 }, () => fetcher.fetchChunk(hash)));
    expect(results.every((r) => r.toString() === "shared")).toBe(true);
    expect(srv.requests.get(hash)).toBe(1);
  });

  it("keeps at most `parallelism` requests in flight", async () => {
    srv.delayMs = 30;
    const hashes = await Promise.all(Array.from({ length: 12 }, (_, i) => srv.add(`blob ${i}`)));
    const limited = new BlobFetcher({ baseUrl: srv.baseUrl, authorization: TEST_TOKEN, parallelism: 3 });
    await Promise.all(hashes.map((h) => limited.fetchChunk(h)));
    expect(srv.maxConcurrent).toBe(3);
    expect(limited.stats.blobs).toBe(12);
  });

  it("says whether the server holds a blob, without downloading it", async () => {
    const hash = await srv.add("held");
    expect(await fetcher.hasBlob(hash)).toBe(true);
    expect(await fetcher.hasBlob("0".repeat(64))).toBe(false);
    expect(fetcher.stats.blobs).toBe(0);
    const refused = new BlobFetcher({ baseUrl: srv.baseUrl, authorization: "Bearer wrong", retries: 0 });
    await expect(refused.hasBlob(hash)).rejects.toThrow(/HTTP 401/);
    refused.close();
  });

  it("fetches and verifies a manifest by image id, over HTTP or from the store", async () => {
    const root = await mkdtemp(join(tmpdir(), "cellar-fetch-root-"));
    await writeFile(join(root, "a.txt"), "a");
    const { manifest, imageId } = await ingestDirectory(root, srv.store);
    await rm(root, { recursive: true });
    expect(await fetchManifest(fetcher, imageId)).toEqual(manifest);
    expect(await fetchManifest(new StoreChunkSource(srv.store), imageId)).toEqual(manifest);
  });
});
