import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobFetcher } from "../fetch/index";
import { buildManifest } from "../manifest/manifest";
import { startTestBlobServer, TEST_TOKEN, type TestBlobServer } from "../store/test-blob-server";
import { ChunkCache, Readahead } from "./index";

describe("Readahead", () => {
  let srv: TestBlobServer;
  let dir: string;
  let chunks: string[];
  let readahead: Readahead;
  let cache: ChunkCache;
  beforeEach(async () => {
    srv = await startTestBlobServer();
    dir = await mkdtemp(join(tmpdir(), "cellar-readahead-"));
    chunks = await Promise.all(Array.from({ length: 12 }, (_, i) => srv.add(`chunk ${i}`.padEnd(16, "."))));
    const manifest = buildManifest(
      [{ path: "/weights.bin", type: "file", mode: 0o644, uid: 0, gid: 0, size: 12 * 16, mtime: 0, chunks }],
      16,
    );
    const fetcher = new BlobFetcher({ baseUrl: srv.baseUrl, authorization: TEST_TOKEN });
    cache = new ChunkCache(dir, { maxBytes: 1 << 20, source: fetcher });
    readahead = new Readahead(manifest, cache, { window: 3 });
  });
  afterEach(async () => {
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  });

  const settle = () => new Promise((r) => setTimeout(r, 100));
  const cached = () => chunks.map((h, i) => (cache.has(h) ? i : -1)).filter((i) => i >= 0);

  it("fetches ahead of a sequential reader, from its second chunk on", async () => {
    await readahead.ensure(chunks[0]!); // a header read: no guess yet
    await settle();
    expect(cached()).toEqual([0]);
    await readahead.locate(chunks[1]!); // 0 is cached: sequential
    await settle();
    expect(cached()).toEqual([0, 1, 2, 3, 4]);
    await readahead.ensure(chunks[5]!); // 4 is cached: keeps going
    await settle();
    expect(cached()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("fetches only the touched chunk on a random read", async () => {
    await readahead.ensure(chunks[7]!); // 6 not cached: not sequential
    await settle();
    expect(cached()).toEqual([7]);
    expect(srv.requests.size).toBe(1);
  });
});
