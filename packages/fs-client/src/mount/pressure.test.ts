// Many readers at random offsets while the worker's cache is far smaller than the file: chunks are
// evicted under the daemon's feet and fetched again, and every byte must still be right.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkCache, type ChunkSource } from "../index";
import { buildDaemon, mountImage, type MountedImage } from "./index";

const CHUNK = 64 * 1024;
const SIZE = 8 * 1024 * 1024 + 12345;

// Readers run in their own processes, as sandboxes do: a read blocked on a fetch in this process
// would hold a libuv pool thread that the fetch itself needs to write the chunk.
const READER = `
const fs = require("fs");
const [file, expectedFile, seed] = process.argv.slice(1);
const want = fs.readFileSync(expectedFile);
const fd = fs.openSync(file, "r");
let x = Number(seed) * 7919 + 1, n = 0;
for (let i = 0; i < 60; i++) {
  x = (x * 1103515245 + 12345) & 0x7fffffff;
  const off = x % want.length, len = Math.min(1 + (x % (3 * ${CHUNK})), want.length - off);
  const buf = Buffer.alloc(len);
  const got = fs.readSync(fd, buf, 0, len, off);
  if (got !== len || !buf.equals(want.subarray(off, off + len))) { console.log("wrong bytes at " + off + "+" + len); process.exit(1); }
  n++;
}
console.log("ok " + n);
`;

function readInChild(file: string, expected: string, seed: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["-e", READER, file, expected, String(seed)], (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(stderr || err.message));
      else resolve(stdout.trim());
    });
  });
}

describe("reads under cache pressure", () => {
  let work: string;
  let mounted: MountedImage | undefined;
  let cache: ChunkCache;
  const data = Buffer.alloc(SIZE);
  let fetches = 0;

  beforeAll(async () => {
    await buildDaemon();
    for (let i = 0; i + 4 <= SIZE; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    const remote = new Map<string, Buffer>();
    const hashes: string[] = [];
    for (let off = 0; off < SIZE; off += CHUNK) {
      const c = data.subarray(off, off + CHUNK);
      const h = createHash("sha256").update(c).digest("hex");
      remote.set(h, c);
      hashes.push(h);
    }
    work = await mkdtemp(join(tmpdir(), "lazyfs-pressure-"));
    await mkdir(join(work, "mnt"));
    await writeFile(join(work, "index"), `cellar-index 1 ${CHUNK}\n/f\t100644\t0\t0\t${SIZE}\t0\t-\t${hashes.join(",")}\n`);
    const source: ChunkSource = {
      async fetchChunk(hash) {
        fetches++;
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        return remote.get(hash)!;
      },
    };
    // a tenth of the file: most chunks are evicted again before long
    cache = new ChunkCache(join(work, "cache"), { maxBytes: SIZE / 10, source });
    mounted = await mountImage({
      indexFile: join(work, "index"),
      cacheDir: cache.dir,
      mountpoint: join(work, "mnt"),
      fetchChunk: async (hash) => {
        await cache.ensure(hash);
      },
    });
  }, 60_000);

  afterAll(async () => {
    await mounted?.unmount();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("returns the right bytes to eight concurrent reader processes", async () => {
    await writeFile(join(work, "expected"), data);
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => readInChild(join(work, "mnt/f"), join(work, "expected"), seed)),
    );
    expect(results).toEqual(Array(8).fill("ok 60"));
    expect(cache.stats.evictions).toBeGreaterThan(0);
    expect(fetches).toBeGreaterThan(cache.chunkCount);
  }, 60_000);
});
