import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobFetcher, fetchManifest } from "../fetch/index";
import { ingestDirectory } from "../ingest/index";
import { BlobNotFoundError, compressChunk, createBlobHandler, decompressBlob, S3BlobStore } from "./index";

/** Runs against s3rver, a real S3-compatible HTTP server, through the AWS SDK. */
describe("S3BlobStore", () => {
  let work: string;
  let s3rver: S3rver;
  let store: S3BlobStore;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "cellar-s3-"));
    s3rver = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: join(work, "s3") });
    const { port } = await s3rver.run();
    const client = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    await client.send(new CreateBucketCommand({ Bucket: "cellar" }));
    store = new S3BlobStore({ client, bucket: "cellar", prefix: "cas/" });
  });
  afterAll(async () => {
    await s3rver.close();
    await rm(work, { recursive: true, force: true });
  });

  it("puts, reads and ranges blobs, and reports missing ones", async () => {
    const data = Buffer.from("s3 content ".repeat(50));
    const hash = createHash("sha256").update(data).digest("hex");
    const blob = await compressChunk(data);
    expect(store.keyOf(hash)).toBe(`cas/${hash.slice(0, 2)}/${hash}`);
    expect(await store.has(hash)).toBe(false);
    await store.put(hash, Readable.from([blob]));
    await store.put(hash, blob);
    expect(await store.size(hash)).toBe(blob.length);
    expect(await decompressBlob(await store.get(hash))).toEqual(data);
    const parts: Buffer[] = [];
    for await (const p of await store.createReadStream(hash, { start: 1, end: 3 })) parts.push(p as Buffer);
    expect(Buffer.concat(parts)).toEqual(blob.subarray(1, 4));
    await expect(store.get("0".repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.size("0".repeat(64))).toBeNull();
  });

  it("holds an ingested image that a worker fetches over the blob route", async () => {
    const root = join(work, "root");
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(root, "etc/os-release"), "ID=debian\n");
    await writeFile(join(root, "big"), Buffer.alloc(20_000, 1));
    const first = await ingestDirectory(root, store, { chunkSize: 8192 });
    const second = await ingestDirectory(root, store, { chunkSize: 8192 });
    expect(second.imageId).toBe(first.imageId);
    expect(second.stats.newBlobs).toBe(0);

    const handle = createBlobHandler(store);
    const server: Server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const fetcher = new BlobFetcher({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const manifest = await fetchManifest(fetcher, first.imageId);
      const osRelease = manifest.entries.find((e) => e.path === "/etc/os-release")!;
      expect((await fetcher.fetchChunk(osRelease.chunks![0]!)).toString()).toBe("ID=debian\n");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
