// Boot packs through the real daemon: chunks that arrived in a pack are read in place, at their
// offsets inside the pack file, and never fetched again.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChunkCache,
  LocalDirStore,
  StoreChunkSource,
  decodePack,
  encodePack,
  ingestDirectory,
  writeDaemonIndex,
  type ChunkSource,
} from "../index";
import { buildDaemon, mountImage, type MountedImage } from "./index";

describe("a mount whose chunks came in a pack", () => {
  let work: string;
  let mounted: MountedImage | undefined;
  let cache: ChunkCache;
  let fetched: string[];
  const big = Buffer.alloc(5 * 65536 + 1234);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 0xff;

  beforeAll(async () => {
    await buildDaemon();
    work = await mkdtemp(join(tmpdir(), "lazyfs-packed-"));
    const src = join(work, "src");
    await mkdir(join(src, "lib"), { recursive: true });
    await writeFile(join(src, "lib/big.bin"), big);
    for (let i = 0; i < 20; i++) await writeFile(join(src, `lib/m${i}.py`), `value = ${i}\n`);
    const store = new LocalDirStore(join(work, "cas"));
    const { manifest } = await ingestDirectory(src, store, { chunkSize: 65536 });
    await writeDaemonIndex(manifest, join(work, "index"));

    const direct = new StoreChunkSource(store);
    fetched = [];
    const counting: ChunkSource = { fetchChunk: (h) => (fetched.push(h), direct.fetchChunk(h)) };
    cache = new ChunkCache(join(work, "cache"), { maxBytes: 64 << 20, source: counting });
    const hashes = [...new Set(manifest.entries.flatMap((e) => e.chunks ?? []))];
    const pack = encodePack(await Promise.all(hashes.map(async (hash) => ({ hash, data: await direct.fetchChunk(hash) }))));
    expect(await cache.insertPack("e".repeat(64), pack, await decodePack(pack))).toBe(hashes.length);

    await mkdir(join(work, "mnt"));
    mounted = await mountImage({
      indexFile: join(work, "index"),
      cacheDir: cache.dir,
      mountpoint: join(work, "mnt"),
      fetchChunk: (h) => cache.locate(h),
    });
  }, 60_000);

  afterAll(async () => {
    await mounted?.unmount();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("reads every file from the one pack file, with no fetch and no chunk files written", async () => {
    const mnt = join(work, "mnt");
    expect((await readFile(join(mnt, "lib/big.bin"))).equals(big)).toBe(true);
    for (let i = 0; i < 20; i++) expect(await readFile(join(mnt, `lib/m${i}.py`), "utf8")).toBe(`value = ${i}\n`);
    expect(fetched).toEqual([]);
    expect((await readdir(cache.dir)).filter((d) => d !== "packs")).toEqual([]);
    expect(await readdir(join(cache.dir, "packs"))).toEqual(["e".repeat(64)]);
  });

  it("a restarted worker finds the packed chunks again from the pack file's header", async () => {
    const again = new ChunkCache(cache.dir, {
      maxBytes: 64 << 20,
      source: {
        fetchChunk: async (h) => {
          throw new Error(`unexpected fetch ${h}`);
        },
      },
    });
    await again.open();
    expect(again.chunkCount).toBe(cache.chunkCount);
    const loc = await again.locate(cache.lruOrder()[0]!);
    expect(loc.pack).toBe("e".repeat(64));
  });
});
