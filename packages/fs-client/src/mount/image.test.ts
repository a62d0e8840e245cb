// The whole read path with real parts: a directory is ingested into a local CAS, its index written
// by writeDaemonIndex, mounted, and every byte and attribute read back through FUSE, fetched by
// the worker's chunk cache on first read.
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkCache, LocalDirStore, StoreChunkSource, ingestDirectory, writeDaemonIndex } from "../index";
import { buildDaemon, mountImage, type MountedImage } from "./index";

async function walk(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(join(root, rel))) {
    const p = `${rel}/${name}`;
    out.push(p);
    if ((await lstat(join(root, p))).isDirectory()) out.push(...(await walk(root, p)));
  }
  return out;
}

describe("an ingested image read through the mount", () => {
  let work: string;
  let src: string;
  let mnt: string;
  let mounted: MountedImage | undefined;
  let cache: ChunkCache;
  let chunkCount = 0;

  beforeAll(async () => {
    await buildDaemon();
    work = await mkdtemp(join(tmpdir(), "lazyfs-image-"));
    src = join(work, "src");
    mnt = join(work, "mnt");
    await mkdir(mnt);
    await mkdir(join(src, "usr/lib/deep"), { recursive: true });
    const big = Buffer.alloc(3 * 65536 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 131 + (i >> 9)) & 0xff;
    await writeFile(join(src, "usr/lib/big.bin"), big);
    await writeFile(join(src, "usr/lib/deep/small.py"), "print(1)\n");
    await writeFile(join(src, "empty"), "");
    await writeFile(join(src, "tab\there"), "tab\n");
    await writeFile(join(src, "secret"), "x");
    await chmod(join(src, "secret"), 0o600);
    await symlink("usr/lib/deep/small.py", join(src, "link"));
    await utimes(join(src, "usr/lib/big.bin"), 1650000000, 1650000000);

    const store = new LocalDirStore(join(work, "cas"));
    const { manifest } = await ingestDirectory(src, store, { chunkSize: 65536 });
    await writeDaemonIndex(manifest, join(work, "index"));
    chunkCount = new Set(manifest.entries.flatMap((e) => e.chunks ?? [])).size;
    cache = new ChunkCache(join(work, "cache"), { maxBytes: 64 << 20, source: new StoreChunkSource(store) });
    await cache.open();
    mounted = await mountImage({
      indexFile: join(work, "index"),
      cacheDir: cache.dir,
      mountpoint: mnt,
      fetchChunk: async (hash) => {
        await cache.ensure(hash);
      },
    });
  }, 60_000);

  afterAll(async () => {
    await mounted?.unmount();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("has the same paths, attributes, link targets and bytes as the source directory", async () => {
    const paths = await walk(src);
    expect((await walk(mnt)).sort()).toEqual([...paths].sort());
    for (const p of paths) {
      const [a, b] = [await lstat(join(src, p)), await lstat(join(mnt, p))];
      expect({ p, mode: b.mode, uid: b.uid, gid: b.gid, mtime: Math.floor(b.mtimeMs / 1000) }).toEqual({
        p,
        mode: a.mode,
        uid: a.uid,
        gid: a.gid,
        mtime: Math.floor(a.mtimeMs / 1000),
      });
      if (a.isSymbolicLink()) expect(await readlink(join(mnt, p))).toBe(await readlink(join(src, p)));
      if (a.isFile()) {
        expect(b.size).toBe(a.size);
        expect((await readFile(join(mnt, p))).equals(await readFile(join(src, p)))).toBe(true);
      }
    }
    // every chunk arrived through the cache exactly once
    expect(chunkCount).toBeGreaterThanOrEqual(4);
    expect(cache.stats.misses).toBe(chunkCount);
  });
});
