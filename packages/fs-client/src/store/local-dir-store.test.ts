import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobNotFoundError, compressChunk, decompressBlob, LocalDirStore } from "./index";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("LocalDirStore", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cellar-store-"));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("stores compressed blobs sharded by hash and reads them back", async () => {
    const store = new LocalDirStore(dir);
    const data = Buffer.from("hello ".repeat(1000));
    const hash = sha(data);
    const blob = await compressChunk(data);
    expect(blob.length).toBeLessThan(data.length);
    expect(await store.has(hash)).toBe(false);
    await store.put(hash, blob);
    await store.put(hash, Readable.from([blob])); // idempotent, also from a stream
    expect(await store.has(hash)).toBe(true);
    expect(await store.size(hash)).toBe(blob.length);
    expect(await decompressBlob(await store.get(hash))).toEqual(data);
    expect(await readdir(join(dir, hash.slice(0, 2)))).toEqual([hash]); // no temp files left
  });

  it("streamed puts and ranged reads", async () => {
    const store = new LocalDirStore(dir);
    const blob = Buffer.from("0123456789");
    const hash = sha(Buffer.from("x"));
    await store.put(hash, Readable.from([blob.subarray(0, 4), blob.subarray(4)]));
    const chunks: Buffer[] = [];
    for await (const c of await store.createReadStream(hash, { start: 2, end: 5 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("2345");
  });

  it("has() refreshes a blob's age (its file time) for the collector; reads leave it", async () => {
    const store = new LocalDirStore(dir);
    const data = Buffer.from("reused");
    const hash = sha(data);
    await store.put(hash, await compressChunk(data));
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    await utimes(store.pathOf(hash), twoHoursAgo, twoHoursAgo);
    await store.get(hash);
    await store.size(hash);
    for await (const _ of await store.createReadStream(hash)) {
    }
    expect((await store.statBlob(hash))?.writtenAt.getTime()).toBe(twoHoursAgo.getTime());
    const before = Date.now();
    expect(await store.has(hash)).toBe(true);
    expect((await store.statBlob(hash))!.writtenAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(await store.statBlob("0".repeat(64))).toBeNull();
  });

  it("reports missing blobs and refuses non-hash keys", async () => {
    const store = new LocalDirStore(dir);
    await expect(store.get("0".repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.size("0".repeat(64))).toBeNull();
    await expect(store.get("../../etc/passwd")).rejects.toThrow(/not a sha256/);
  });
});
