import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobFetcher, fetchManifest } from "../fetch/index";
import { ingestDirectory } from "../ingest/index";
import {
  BlobNotFoundError,
  compressChunk,
  createBlobHandler,
  decompressBlob,
  LocalDirStore,
  openBlobStore,
  S3BlobStore,
  storeSettingsFromEnv,
} from "./index";

/** Runs against s3rver, a real S3-compatible HTTP server, through the AWS SDK. */
describe("S3BlobStore", () => {
  let work: string;
  let s3rver: S3rver;
  let store: S3BlobStore;
  let s3Port: number;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "cellar-s3-"));
    s3rver = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: join(work, "s3") });
    const { port } = await s3rver.run();
    s3Port = port;
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

  it("is what the product opens when CELLAR_S3_BUCKET is set, refs included", async () => {
    const env = {
      CELLAR_S3_BUCKET: "cellar",
      CELLAR_S3_PREFIX: "env/",
      CELLAR_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      CELLAR_S3_REGION: "us-east-1",
    };
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = "S3RVER";
    process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
    try {
      expect(openBlobStore(storeSettingsFromEnv({}, "/x"))).toBeInstanceOf(LocalDirStore);
      const opened = openBlobStore(storeSettingsFromEnv(env, "/x"));
      expect(opened).toBeInstanceOf(S3BlobStore);
      const data = Buffer.from("via env");
      const hash = createHash("sha256").update(data).digest("hex");
      await opened.put(hash, await compressChunk(data));
      const ref = `boot-profile/${"c".repeat(64)}`;
      expect(await opened.getRef(ref)).toBeNull();
      await opened.putRef(ref, hash);
      expect(await opened.getRef(ref)).toBe(hash);
      expect(await decompressBlob(await opened.get(hash))).toEqual(data);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
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

  it("has() and a skipped put refresh a blob's age for the collector (a copy onto itself); reads leave it", async () => {
    const blobs: string[] = [];
    for (const text of ["reused by has", "reused by put"]) {
      const data = Buffer.from(text);
      const hash = createHash("sha256").update(data).digest("hex");
      await store.put(hash, await compressChunk(data));
      // Two hours old: s3rver's LastModified is its file's time.
      const twoHoursAgo = new Date(Date.now() - 7_200_000);
      await utimes(join(work, "s3", "cellar", "cas", hash.slice(0, 2), `${hash}._S3rver_object`), twoHoursAgo, twoHoursAgo);
      blobs.push(hash);
    }
    const [byHas, byPut] = blobs as [string, string];
    await store.get(byHas);
    await store.size(byHas);
    const old = (await store.statBlob(byHas))!.writtenAt.getTime();
    expect(Date.now() - old).toBeGreaterThan(7_000_000);

    const before = Date.now();
    expect(await store.has(byHas)).toBe(true);
    const refreshed = (await store.statBlob(byHas))!;
    expect(refreshed.writtenAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(refreshed.size).toBe(await store.size(byHas));
    expect(await decompressBlob(await store.get(byHas))).toEqual(Buffer.from("reused by has"));
    // Reused a moment ago: a second has() is a HEAD, not another copy.
    expect(await store.has(byHas)).toBe(true);
    expect((await store.statBlob(byHas))!.writtenAt.getTime()).toBe(refreshed.writtenAt.getTime());

    await store.put(byPut, await compressChunk(Buffer.from("reused by put")));
    expect((await store.statBlob(byPut))!.writtenAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(await store.statBlob("0".repeat(64))).toBeNull();
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
