import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, stat, statfs, open, writeFile, lstat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildDaemon, isMounted, mountImage, type MountedImage } from "./index";

const CHUNK = 4096;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const enc = (p: string) => p.replace(/[%\t\n\r\x00-\x1f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`);

/** A tiny image: its index, the chunk bytes a "remote" store holds, and what is pre-cached. */
class TestImage {
  lines: string[] = [];
  remote = new Map<string, Buffer>();

  dir(path: string, mode = 0o755) {
    this.lines.push([enc(path), (0o40000 | mode).toString(8), 0, 0, 0, 1600000000, "-", "-"].join("\t"));
  }
  link(path: string, target: string) {
    this.lines.push([enc(path), "120777", 0, 0, target.length, 1600000000, enc(target), "-"].join("\t"));
  }
  file(path: string, data: Buffer, attrs: { mode?: number; uid?: number; gid?: number; mtime?: number } = {}) {
    const hashes: string[] = [];
    for (let off = 0; off < data.length; off += CHUNK) {
      const chunk = data.subarray(off, off + CHUNK);
      hashes.push(sha256(chunk));
      this.remote.set(sha256(chunk), chunk);
    }
    this.lines.push(
      [
        enc(path),
        (0o100000 | (attrs.mode ?? 0o644)).toString(8),
        attrs.uid ?? 0,
        attrs.gid ?? 0,
        data.length,
        attrs.mtime ?? 1600000000,
        "-",
        hashes.length ? hashes.join(",") : "-",
      ].join("\t"),
    );
    return hashes;
  }
  text() {
    return `cellar-index 1 ${CHUNK}\n${this.lines.join("\n")}\n`;
  }
}

async function putChunk(cacheDir: string, hash: string, data: Buffer) {
  await mkdir(join(cacheDir, hash.slice(0, 2)), { recursive: true });
  const tmp = join(cacheDir, hash.slice(0, 2), `.${hash}.tmp`);
  await writeFile(tmp, data);
  await rename(tmp, join(cacheDir, hash.slice(0, 2), hash));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bytes = (n: number, seed: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
};

describe("mountImage (real FUSE)", () => {
  let work: string;
  let cacheDir: string;
  let mnt: string;
  let mounted: MountedImage;
  const img = new TestImage();
  const big = bytes(CHUNK * 3 + 100, 1);
  const lazy = bytes(CHUNK * 2 + 5, 2);
  const fetched: string[] = [];
  const failing = new Set<string>();
  const slow = new Set<string>();

  beforeAll(async () => {
    await buildDaemon();
    work = await mkdtemp(join(tmpdir(), "lazyfs-test-"));
    cacheDir = join(work, "cache");
    mnt = join(work, "mnt");
    await mkdir(cacheDir);
    await mkdir(mnt);

    // children before their parent, and /deep/a/b with no entries of its own
    img.file("/data/big", big, { mode: 0o640, uid: 1000, gid: 1001, mtime: 1700000123 });
    img.dir("/");
    img.dir("/data", 0o750);
    img.file("/data/tab\tname", Buffer.from("tab\n"));
    img.dir("/etc");
    img.file("/etc/hostname", Buffer.from("cellar\n"));
    img.dir("/bin");
    img.link("/bin/sh", "busybox");
    img.file("/empty", Buffer.alloc(0));
    img.file("/deep/a/b/leaf", Buffer.from("leaf"));
    const lazyHashes = img.file("/lazy.bin", lazy);
    const [brokenHash] = img.file("/broken.bin", bytes(100, 3));
    const [slow1] = img.file("/slow1", bytes(1000, 4));
    const [slow2] = img.file("/slow2", bytes(1000, 5));
    const [shortHash] = img.file("/short.bin", bytes(100, 6));
    failing.add(brokenHash);
    slow.add(slow1).add(slow2);

    const notCached = new Set([...lazyHashes, brokenHash, slow1, slow2]);
    for (const [hash, data] of img.remote) if (!notCached.has(hash)) await putChunk(cacheDir, hash, data);
    // a cached chunk cut short (a bug elsewhere, a full disk): it must not read as zeros
    await putChunk(cacheDir, shortHash, bytes(100, 6).subarray(0, 50));
    await writeFile(join(work, "index"), img.text());

    mounted = await mountImage({
      indexFile: join(work, "index"),
      cacheDir,
      mountpoint: mnt,
      onFetch: (hash) => fetched.push(hash),
      fetchChunk: async (hash) => {
        if (slow.has(hash)) await sleep(600);
        if (failing.has(hash)) throw new Error("blob is corrupt");
        await putChunk(cacheDir, hash, img.remote.get(hash)!);
      },
    });
  }, 60_000);

  afterAll(async () => {
    await mounted?.unmount();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("lists directories from the index, names with tabs included", async () => {
    expect((await readdir(mnt)).sort()).toEqual([
      "bin",
      "broken.bin",
      "data",
      "deep",
      "empty",
      "etc",
      "lazy.bin",
      "short.bin",
      "slow1",
      "slow2",
    ]);
    expect((await readdir(join(mnt, "data"))).sort()).toEqual(["big", "tab\tname"]);
    expect(await readdir(join(mnt, "deep/a/b"))).toEqual(["leaf"]);
    await expect(stat(join(mnt, "nope"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("reports mode, size, owner and mtime from the index", async () => {
    const st = await stat(join(mnt, "data/big"));
    expect(st.mode).toBe(0o100640);
    expect(st.size).toBe(big.length);
    expect(st.uid).toBe(1000);
    expect(st.gid).toBe(1001);
    expect(st.mtimeMs).toBe(1700000123 * 1000);
    expect((await stat(join(mnt, "data"))).mode).toBe(0o40750);
    expect((await stat(join(mnt, "deep/a"))).isDirectory()).toBe(true);
    expect((await lstat(join(mnt, "bin/sh"))).isSymbolicLink()).toBe(true);
    expect((await stat(join(mnt, "empty"))).size).toBe(0);
    const fsStats = await statfs(mnt);
    expect(fsStats.bsize).toBe(4096);
    expect(fsStats.files).toBeGreaterThanOrEqual(img.lines.length);
  });

  it("reads symlinks, small files, empty files and names with tabs", async () => {
    expect(await readlink(join(mnt, "bin/sh"))).toBe("busybox");
    expect(await readFile(join(mnt, "etc/hostname"), "utf8")).toBe("cellar\n");
    expect(await readFile(join(mnt, "data/tab\tname"), "utf8")).toBe("tab\n");
    expect((await readFile(join(mnt, "empty"))).length).toBe(0);
  });

  it("reads whole multi-chunk files and ranges across chunk boundaries", async () => {
    expect((await readFile(join(mnt, "data/big"))).equals(big)).toBe(true);
    const fh = await open(join(mnt, "data/big"));
    try {
      for (const [off, len] of [
        [4000, 200],
        [CHUNK - 1, CHUNK + 2],
        [CHUNK * 3 - 10, 500],
        [5, 1],
      ]) {
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, off);
        const want = big.subarray(off, off + len);
        expect(bytesRead).toBe(want.length);
        expect(buf.subarray(0, bytesRead).equals(want)).toBe(true);
      }
      const { bytesRead } = await fh.read(Buffer.alloc(10), 0, 10, big.length + 5);
      expect(bytesRead).toBe(0);
    } finally {
      await fh.close();
    }
  });

  it("fetches missing chunks through TypeScript and then serves them", async () => {
    const data = await readFile(join(mnt, "lazy.bin"));
    expect(data.equals(lazy)).toBe(true);
    const lazyHashes = [0, 1, 2].map((i) => sha256(lazy.subarray(i * CHUNK, (i + 1) * CHUNK)));
    for (const h of lazyHashes) {
      expect(fetched).toContain(h);
      await expect(stat(join(cacheDir, h.slice(0, 2), h))).resolves.toBeTruthy();
    }
  });

  it("fails the read with EIO when a fetch fails, never with wrong bytes", async () => {
    await expect(readFile(join(mnt, "broken.bin"))).rejects.toMatchObject({ code: "EIO" });
    await expect(readFile(join(mnt, "short.bin"))).rejects.toMatchObject({ code: "EIO" });
  });

  it("serves two slow fetches in parallel", async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([readFile(join(mnt, "slow1")), readFile(join(mnt, "slow2"))]);
    const elapsed = Date.now() - started;
    expect(a.equals(bytes(1000, 4))).toBe(true);
    expect(b.equals(bytes(1000, 5))).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(550);
    // one after the other would take at least 1200 ms
    expect(elapsed).toBeLessThan(1150);
  });

  it("unmounts completely", async () => {
    expect(await isMounted(mnt)).toBe(true);
    await mounted.unmount();
    expect(await isMounted(mnt)).toBe(false);
    expect(await mounted.exited).toBe(0);
    expect(await readdir(mnt)).toEqual([]);
  });
});

describe("mountImage lifecycle", () => {
  let work: string;
  beforeAll(async () => {
    await buildDaemon();
  }, 60_000);
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), "lazyfs-life-"));
    await mkdir(join(work, "mnt"));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("rejects with the daemon's complaint when the index is bad", async () => {
    await writeFile(join(work, "index"), "cellar-index 1 4096\n/x\t100644\t0\t0\t5\t0\t-\n");
    await expect(
      mountImage({ indexFile: join(work, "index"), cacheDir: work, mountpoint: join(work, "mnt"), fetchChunk: async () => {} }),
    ).rejects.toThrow(/expected 8 fields/);
    expect(await isMounted(join(work, "mnt"))).toBe(false);
  });

  it("unmounts even while a file on the mount is open", async () => {
    const data = Buffer.from("busy\n");
    const hash = sha256(data);
    await putChunk(join(work, "cache"), hash, data);
    await writeFile(join(work, "index"), `cellar-index 1 4096\n/busy\t100644\t0\t0\t5\t0\t-\t${hash}\n`);
    const m = await mountImage({
      indexFile: join(work, "index"),
      cacheDir: join(work, "cache"),
      mountpoint: join(work, "mnt"),
      fetchChunk: async () => {},
    });
    const fh = await open(join(work, "mnt/busy"));
    try {
      expect((await fh.readFile()).equals(data)).toBe(true);
      await m.unmount();
      expect(await isMounted(join(work, "mnt"))).toBe(false);
      expect(await m.exited).not.toBeUndefined();
    } finally {
      await fh.close().catch(() => {});
    }
  });
});
