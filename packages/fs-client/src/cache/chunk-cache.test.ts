import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobFetcher, BlobIntegrityError } from "../fetch/index";
import { compressChunk } from "../store/codec";
import { startTestBlobServer, TEST_TOKEN, type TestBlobServer } from "../store/test-blob-server";
import { createHash } from "node:crypto";
import { ChunkCache, decodePack, encodePack } from "./index";

describe("ChunkCache", () => {
  let srv: TestBlobServer;
  let dir: string;
  let fetcher: BlobFetcher;
  beforeEach(async () => {
    srv = await startTestBlobServer();
    dir = await mkdtemp(join(tmpdir(), "cellar-cache-"));
    fetcher = new BlobFetcher({ baseUrl: srv.baseUrl, authorization: TEST_TOKEN, onFault: () => {} });
  });
  afterEach(async () => {
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  });

  const chunk = (c: string) => c.repeat(100); // 100 bytes each

  it("fetches a missing chunk once into <dir>/<hash[0:2]>/<hash>, uncompressed", async () => {
    const cache = new ChunkCache(dir, { maxBytes: 1 << 20, source: fetcher });
    const hash = await srv.add(chunk("a"));
    const [p1, p2] = await Promise.all([cache.ensure(hash), cache.ensure(hash)]);
    expect(p1).toBe(join(dir, hash.slice(0, 2), hash));
    expect(p2).toBe(p1);
    expect(await readFile(p1, "utf8")).toBe(chunk("a"));
    expect(await cache.ensure(hash)).toBe(p1);
    expect(srv.requests.get(hash)).toBe(1);
    expect(cache.stats).toMatchObject({ misses: 1, hits: 1, fetchedBytes: 100 });
    expect(await readdir(join(dir, hash.slice(0, 2)))).toEqual([hash]);
  });

  it("evicts the least recently used chunks once over maxBytes", async () => {
    const cache = new ChunkCache(dir, { maxBytes: 300, source: fetcher });
    const [a, b, c, d] = await Promise.all(["a", "b", "c", "d"].map((x) => srv.add(chunk(x))));
    await cache.ensure(a!);
    await cache.ensure(b!);
    await cache.ensure(c!);
    await cache.ensure(a!); // a is now the most recent
    await cache.ensure(d!); // over budget: b goes first
    expect(cache.lruOrder()).toEqual([c, a, d]);
    expect(cache.usedBytes).toBe(300);
    await expect(readFile(cache.pathOf(b!))).rejects.toMatchObject({ code: "ENOENT" });
    await cache.ensure(b!); // then c
    expect(cache.lruOrder()).toEqual([a, d, b]);
    expect(cache.stats.evictions).toBe(2);
    expect(srv.requests.get(b!)).toBe(2);
  });

  it("keeps a pack as one file, evicts its members one by one, and deletes it with the last", async () => {
    const cache = new ChunkCache(dir, { maxBytes: 300, source: fetcher });
    const members = ["p", "q"].map((c) => ({ hash: createHash("sha256").update(chunk(c)).digest("hex"), data: Buffer.from(chunk(c)) }));
    const pack = encodePack(members);
    const packHash = "9".repeat(64);
    expect(await cache.insertPack(packHash, pack, await decodePack(pack))).toBe(2);
    expect(await cache.insertPack(packHash, pack, await decodePack(pack))).toBe(0);
    expect((await cache.read(members[1]!.hash)).toString()).toBe(chunk("q"));
    const [a, b] = await Promise.all(["a", "b"].map((x) => srv.add(chunk(x))));
    await cache.ensure(a!);
    await cache.ensure(b!); // over budget: p goes, its pack stays for q
    expect(cache.has(members[0]!.hash)).toBe(false);
    expect(await readdir(join(dir, "packs"))).toEqual([packHash]);
    await cache.ensure(await srv.add(chunk("c"))); // then q, and the pack file with it
    expect(cache.has(members[1]!.hash)).toBe(false);
    expect(await readdir(join(dir, "packs"))).toEqual([]);
    expect(cache.usedBytes).toBe(300);
  });

  it("ensure copies a packed chunk out to a file of its own", async () => {
    const cache = new ChunkCache(dir, { maxBytes: 1 << 20, source: fetcher });
    const data = Buffer.from(chunk("z"));
    const hash = createHash("sha256").update(data).digest("hex");
    const pack = encodePack([{ hash, data }]);
    await cache.insertPack("8".repeat(64), pack, await decodePack(pack));
    expect((await cache.locate(hash)).pack).toBe("8".repeat(64));
    expect(await readFile(await cache.ensure(hash), "utf8")).toBe(chunk("z"));
    expect(await cache.locate(hash)).toEqual({ path: cache.pathOf(hash), offset: 0, size: 100 });
    expect(await readdir(join(dir, "packs"))).toEqual([]);
    expect(srv.requests.size).toBe(0);
  });

  it("keeps a chunk larger than the whole budget until the next insertion", async () => {
    const cache = new ChunkCache(dir, { maxBytes: 50, source: fetcher });
    const big = await srv.add(chunk("x"));
    expect(await readFile(await cache.ensure(big), "utf8")).toBe(chunk("x"));
    const other = await srv.add(chunk("y"));
    await cache.ensure(other);
    expect(cache.lruOrder()).toEqual([other]);
  });

  it("does not evict a chunk it handed out moments ago, so the daemon can still open it", async () => {
    const cache = new ChunkCache(dir, { maxBytes: 200, source: fetcher, minResidencyMs: 300 });
    const [a, b, c, d] = await Promise.all(["a", "b", "c", "d"].map((x) => srv.add(chunk(x))));
    await cache.ensure(a!);
    await cache.ensure(b!);
    await cache.ensure(c!); // over budget, but a and b were handed out just now
    expect(cache.lruOrder()).toEqual([a, b, c]);
    expect(cache.usedBytes).toBe(300);
    await new Promise((r) => setTimeout(r, 350));
    await cache.ensure(d!); // a, b and c are past their grace: back under budget, oldest first
    expect(cache.lruOrder()).toEqual([c, d]);
    await expect(readFile(cache.pathOf(a!))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("picks up chunks left by an earlier run, oldest mtime first, and drops temp files", async () => {
    const first = new ChunkCache(dir, { maxBytes: 1 << 20, source: fetcher });
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((x) => srv.add(chunk(x))));
    for (const h of [a!, b!, c!]) await first.ensure(h);
    await utimes(first.pathOf(a!), new Date(3000_000), new Date(3000_000));
    await utimes(first.pathOf(b!), new Date(1000_000), new Date(1000_000));
    await utimes(first.pathOf(c!), new Date(2000_000), new Date(2000_000));
    const stray = join(dir, a!.slice(0, 2), `.${a}.deadbeef.tmp`);
    await writeFile(stray, "half");
    const second = new ChunkCache(dir, { maxBytes: 250, source: fetcher });
    await second.open();
    expect(second.lruOrder()).toEqual([c, a]); // b was oldest and the budget fits two
    await expect(readFile(stray)).rejects.toMatchObject({ code: "ENOENT" });
    await second.ensure(a!);
    expect(srv.requests.get(a!)).toBe(1); // served from disk, no refetch
  });

  it("clear() drops everything and the next ensure fetches again", async () => {
    const cache = new ChunkCache(dir, { maxBytes: 1 << 20, source: fetcher });
    const a = await srv.add(chunk("a"));
    const path = await cache.ensure(a);
    await cache.clear();
    expect(cache.usedBytes).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    await expect(readFile(path)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readFile(await cache.ensure(a), "utf8")).toBe(chunk("a"));
    expect(srv.requests.get(a)).toBe(2);
  });

  it("never caches a corrupt chunk", async () => {
    const cache = new ChunkCache(dir, { maxBytes: 1 << 20, source: fetcher });
    const a = await srv.add(chunk("a"));
    await writeFile(srv.store.pathOf(a), await compressChunk(Buffer.from(chunk("z"))));
    await expect(cache.ensure(a)).rejects.toBeInstanceOf(BlobIntegrityError);
    expect(cache.has(a)).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });
});
