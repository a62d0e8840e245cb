import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChunkCache } from "../cache/index";
import { BlobFetcher, fetchManifest } from "../fetch/index";
import { ingestDirectory } from "../ingest/index";
import type { Manifest } from "../manifest/manifest";
import { compressChunk } from "../store/codec";
import { startTestBlobServer, TEST_TOKEN, type TestBlobServer } from "../store/test-blob-server";
import { decodePack, encodePack } from "../cache/index";
import { AccessRecorder, bootProfileRef, fetchBootProfile, prefetchBootPacks, publishBootProfile } from "./index";

describe("boot profile: record, publish as packs, prefetch", () => {
  let srv: TestBlobServer;
  let work: string;
  let imageId: string;
  beforeEach(async () => {
    srv = await startTestBlobServer();
    work = await mkdtemp(join(tmpdir(), "cellar-profile-"));
    const root = join(work, "root");
    await mkdir(join(root, "usr/lib/python3"), { recursive: true });
    for (let i = 0; i < 10; i++) await writeFile(join(root, `usr/lib/python3/mod${i}.py`), `x = ${i}\n`.repeat(300));
    await writeFile(join(root, "usr/lib/weights.bin"), Buffer.alloc(50_000, 9));
    ({ imageId } = await ingestDirectory(root, srv.store, { chunkSize: 8192 }));
  });
  afterEach(async () => {
    await srv.close();
    await rm(work, { recursive: true, force: true });
  });

  const fetcher = () => new BlobFetcher({ baseUrl: srv.baseUrl, authorization: TEST_TOKEN, onFault: () => {} });
  const chunksOf = (m: Manifest, path: string) => m.entries.find((e) => e.path === path)!.chunks!;

  /** What booting does to the cache: read the chunks of the files the kernel opens. */
  async function boot(cache: ChunkCache, manifest: Manifest): Promise<void> {
    for (const i of [3, 1, 4]) for (const h of chunksOf(manifest, `/usr/lib/python3/mod${i}.py`)) await cache.ensure(h);
    for (const h of chunksOf(manifest, "/usr/lib/weights.bin").slice(0, 3)) await cache.ensure(h);
  }

  it("a worker's first boot is published, and another worker's cold attach gets it in a few requests", async () => {
    const f = fetcher();
    const manifest = await fetchManifest(f, imageId);
    const firstCache = new ChunkCache(join(work, "cache1"), { maxBytes: 1 << 30, source: f });
    const recorder = new AccessRecorder(imageId, { manifest });
    recorder.follow(firstCache);
    await boot(firstCache, manifest);
    await firstCache.ensure(imageId); // not a chunk of the image: left out of the profile
    const profile = recorder.finish();
    await firstCache.ensure(chunksOf(manifest, "/usr/lib/python3/mod9.py")[0]!); // after finish: ignored
    const bootSet = [
      ...[3, 1, 4].map((i) => chunksOf(manifest, `/usr/lib/python3/mod${i}.py`)[0]),
      ...new Set(chunksOf(manifest, "/usr/lib/weights.bin").slice(0, 3)),
    ];
    expect(profile.chunks).toEqual(bootSet);

    expect(await fetchBootProfile(f, imageId)).toBeNull();
    const published = await publishBootProfile(profile, (h) => readFile(firstCache.pathOf(h)), f, { packBytes: 4096 });
    expect(published.packs.length).toBeGreaterThan(1);
    expect(await fetchBootProfile(fetcher(), imageId)).toEqual(published);

    // Another worker, cold cache: the kernel boots while the packs arrive, and every chunk it
    // reads comes from a pack: no request per file.
    const cold = fetcher();
    const coldCache = new ChunkCache(join(work, "cache2"), { maxBytes: 1 << 30, source: cold });
    const coming = (await fetchBootProfile(cold, imageId))!;
    srv.requests.clear();
    srv.delayMs = 30;
    const prefetching = prefetchBootPacks(coming, cold, coldCache);
    await boot(coldCache, manifest);
    const result = await prefetching;
    expect(result).toMatchObject({ packs: published.packs.length, failedPacks: 0, inserted: bootSet.length, alreadyCached: 0 });
    expect(coldCache.stats.misses).toBe(0);
    expect(await readFile(coldCache.pathOf(bootSet[0]!), "utf8")).toBe("x = 3\n".repeat(300));
    expect([...srv.requests.keys()].sort()).toEqual(published.packs.map((p) => p.hash).sort());
    srv.delayMs = 0;

    const again = await prefetchBootPacks(published, cold, coldCache);
    expect(again).toMatchObject({ inserted: 0, alreadyCached: bootSet.length });
  });

  it("a pack whose member does not match its hash is refused whole, and the chunk is fetched on demand", async () => {
    const manifest = await fetchManifest(fetcher(), imageId);
    const good = chunksOf(manifest, "/usr/lib/python3/mod1.py")[0]!;
    const bad = chunksOf(manifest, "/usr/lib/python3/mod2.py")[0]!;
    const forged = encodePack([{ hash: bad, data: Buffer.from("import os; os.system('evil')\n") }]);
    await expect(decodePack(forged)).rejects.toThrow(/hashes to/);
    await expect(decodePack(forged.subarray(0, forged.length - 3))).rejects.toThrow(/runs past the end/);

    const forgedHash = await srv.add(forged);
    const f = fetcher();
    const cache = new ChunkCache(join(work, "cache"), { maxBytes: 1 << 30, source: f });
    const result = await prefetchBootPacks(
      { version: 3, imageId, chunks: [bad], packs: [{ hash: forgedHash, chunks: 1 }], recordedAt: "" },
      f,
      cache,
    );
    expect(result).toMatchObject({ failedPacks: 1, inserted: 0 });
    expect(result.errors[0]).toMatch(/hashes to/);
    expect(cache.has(bad)).toBe(false);
    expect(await readFile(await cache.ensure(bad), "utf8")).toBe("x = 2\n".repeat(300));
    expect(await readFile(await cache.ensure(good), "utf8")).toBe("x = 1\n".repeat(300));
  });

  it("the server refuses an upload that is not what its name says, and a ref to a missing blob", async () => {
    const f = fetcher();
    const data = Buffer.from("hello");
    const wrongName = "a".repeat(64);
    await expect(f.putBlob(wrongName, await compressChunk(data))).rejects.toThrow(/HTTP 422/);
    expect(await srv.store.has(wrongName)).toBe(false);
    await expect(f.putRef(bootProfileRef(imageId), "b".repeat(64))).rejects.toThrow(/HTTP 409/);
    const anonymous = new BlobFetcher({ baseUrl: srv.baseUrl, onFault: () => {} });
    const hash = await srv.add("x");
    await expect(anonymous.putRef(bootProfileRef(imageId), hash)).rejects.toThrow(/HTTP 401/);
    expect(await f.fetchRef(bootProfileRef(imageId))).toBeNull();
  });

  it("an unreadable profile document counts as no profile", async () => {
    const f = fetcher();
    const junk = await srv.add("{not json");
    await srv.store.putRef(bootProfileRef(imageId), junk);
    expect(await fetchBootProfile(f, imageId)).toBeNull();
  });
});
