import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChunkCache } from "../cache/index";
import { BlobFetcher, fetchManifest } from "../fetch/index";
import { ingestDirectory } from "../ingest/index";
import type { Manifest } from "../manifest/manifest";
import { startTestBlobServer, TEST_TOKEN, type TestBlobServer } from "../store/test-blob-server";
import { AccessRecorder, prefetch, ProfileStore } from "./index";

describe("first-boot profile and prefetch", () => {
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
  }

  it("records the first boot and prefetches it before the next one", async () => {
    const f = fetcher();
    const manifest = await fetchManifest(f, imageId);
    const firstCache = new ChunkCache(join(work, "cache1"), { maxBytes: 1 << 30, source: f });
    const recorder = new AccessRecorder(imageId, { manifest });
    recorder.follow(firstCache);
    await boot(firstCache, manifest);
    await firstCache.ensure(imageId); // not a chunk of the image: left out of the profile
    const profile = recorder.finish();
    await firstCache.ensure(chunksOf(manifest, "/usr/lib/python3/mod9.py")[0]!); // after finish: ignored
    expect(profile.chunks).toEqual([3, 1, 4].map((i) => chunksOf(manifest, `/usr/lib/python3/mod${i}.py`)[0]));

    const profiles = new ProfileStore(join(work, "profiles"));
    expect(await profiles.load(imageId)).toBeNull();
    await profiles.save(profile);
    const loaded = (await profiles.load(imageId))!;
    expect(loaded).toEqual(profile);

    // A later attach on another worker: cold cache, prefetch, then boot without a miss.
    srv.delayMs = 20;
    const coldCache = new ChunkCache(join(work, "cache2"), { maxBytes: 1 << 30, source: fetcher() });
    const before = srv.maxConcurrent;
    srv.maxConcurrent = 0;
    const result = await prefetch(loaded, coldCache, { parallelism: 2 });
    expect(result).toEqual({ requested: 3, fetched: 3, alreadyCached: 0, failed: 0, errors: [] });
    expect(srv.maxConcurrent).toBe(2);
    srv.maxConcurrent = before;
    const missesAfterPrefetch = coldCache.stats.misses;
    await boot(coldCache, manifest);
    expect(coldCache.stats.misses).toBe(missesAfterPrefetch);
    expect(await readFile(coldCache.pathOf(profile.chunks[0]!), "utf8")).toBe("x = 3\n".repeat(300));

    const again = await prefetch(loaded, coldCache);
    expect(again).toMatchObject({ fetched: 0, alreadyCached: 3 });
  });

  it("counts a chunk it cannot fetch instead of failing the attach", async () => {
    const cache = new ChunkCache(join(work, "cache"), { maxBytes: 1 << 30, source: fetcher() });
    const manifest = await fetchManifest(fetcher(), imageId);
    const good = [...new Set(chunksOf(manifest, "/usr/lib/weights.bin"))];
    const profile = { version: 1 as const, imageId, chunks: [...good, "f".repeat(64)], recordedAt: "" };
    const result = await prefetch(profile, cache);
    expect(result).toMatchObject({ requested: good.length + 1, fetched: good.length, failed: 1 });
    expect(result.errors[0]!.hash).toBe("f".repeat(64));
  });

  it("treats a damaged profile file as no profile", async () => {
    const profiles = new ProfileStore(join(work, "profiles"));
    await mkdir(profiles.dir, { recursive: true });
    await writeFile(join(profiles.dir, `${imageId}.json`), "{not json");
    expect(await profiles.load(imageId)).toBeNull();
  });
});
