import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeManifest } from "../manifest/manifest";
import { decompressBlob, LocalDirStore } from "../store/index";
import { dedupRatio, ingestDirectory, ingestTar } from "./index";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const quiet = { onWarning: () => {} };

/** Deterministic, incompressible-ish bytes so chunks differ from each other. */
function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash("sha256").update(seed).digest();
  for (let off = 0; off < n; off += 32) {
    block.copy(out, off);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

describe("ingest", () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), "cellar-ingest-"));
  });
  afterEach(async () => rm(work, { recursive: true, force: true }));

  async function makeTree(root: string, extra: Record<string, Buffer> = {}) {
    await mkdir(join(root, "usr/lib"), { recursive: true });
    await mkdir(join(root, "empty-dir"));
    await writeFile(join(root, "usr/lib/big.bin"), bytes("big", 10_000)); // 3 chunks of 4096
    await writeFile(join(root, "usr/lib/small.txt"), "hello\n");
    await writeFile(join(root, "empty"), "");
    await symlink("usr/lib/small.txt", join(root, "link"));
    await symlink("/nowhere", join(root, "dangling"));
    await link(join(root, "usr/lib/small.txt"), join(root, "hard"));
    execFileSync("mkfifo", [join(root, "fifo")]);
    for (const [name, data] of Object.entries(extra)) await writeFile(join(root, name), data);
  }

  it("turns a directory tree into a manifest plus chunk blobs", async () => {
    const root = join(work, "root");
    await makeTree(root);
    const store = new LocalDirStore(join(work, "cas"));
    const warnings: string[] = [];
    const { manifest, imageId, stats } = await ingestDirectory(root, store, {
      chunkSize: 4096,
      onWarning: (m) => warnings.push(m),
    });
    const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
    expect([...byPath.keys()]).toEqual([
      "/",
      "/dangling",
      "/empty",
      "/empty-dir",
      "/hard",
      "/link",
      "/usr",
      "/usr/lib",
      "/usr/lib/big.bin",
      "/usr/lib/small.txt",
    ]);
    const big = byPath.get("/usr/lib/big.bin")!;
    expect(big.size).toBe(10_000);
    expect(big.chunks).toHaveLength(3);
    const content = bytes("big", 10_000);
    expect(big.chunks).toEqual([sha(content.subarray(0, 4096)), sha(content.subarray(4096, 8192)), sha(content.subarray(8192))]);
    expect(await decompressBlob(await store.get(big.chunks![2]!))).toEqual(content.subarray(8192));
    expect(byPath.get("/empty")).toMatchObject({ type: "file", size: 0, chunks: [] });
    expect(byPath.get("/link")).toMatchObject({ type: "symlink", target: "usr/lib/small.txt", size: 17 });
    expect(byPath.get("/dangling")).toMatchObject({ type: "symlink", target: "/nowhere" });
    expect(byPath.get("/hard")!.chunks).toEqual(byPath.get("/usr/lib/small.txt")!.chunks);
    expect(byPath.get("/empty-dir")!.type).toBe("dir");
    expect(warnings).toEqual(["skipped special file /fifo"]);
    expect(stats).toMatchObject({ files: 4, logicalBytes: 10_012, newBlobs: 4, dedupedBlobs: 1, skipped: 1 });
    // The manifest is itself a blob under the image id.
    expect(decodeManifest(await decompressBlob(await store.get(imageId)))).toEqual(manifest);
  });

  it("gives the same image id for a tar of the same tree", async () => {
    const root = join(work, "root");
    await makeTree(root);
    const store = new LocalDirStore(join(work, "cas"));
    const fromDir = await ingestDirectory(root, store, { chunkSize: 4096, ...quiet });
    const tar = spawn("tar", ["-C", root, "--numeric-owner", "-cf", "-", "."]);
    const fromTar = await ingestTar(tar.stdout, store, { chunkSize: 4096, ...quiet });
    expect(fromTar.manifest).toEqual(fromDir.manifest);
    expect(fromTar.imageId).toBe(fromDir.imageId);
    expect(fromTar.stats.newBlobs).toBe(0);
    expect(fromTar.warnings).toEqual(["skipped fifo entry /fifo"]);
  });

  it("stores content shared by two images once and reports the dedup ratio", async () => {
    const store = new LocalDirStore(join(work, "cas"));
    const base = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`lib${i}.so`, bytes(`lib${i}`, 20_000)]));
    await makeTree(join(work, "a"), { ...base, "model-a.bin": bytes("a", 8192) });
    await makeTree(join(work, "b"), { ...base, "model-b.bin": bytes("b", 8192) });
    const a = await ingestDirectory(join(work, "a"), store, { chunkSize: 4096, ...quiet });
    const b = await ingestDirectory(join(work, "b"), store, { chunkSize: 4096, ...quiet });
    expect(a.imageId).not.toBe(b.imageId);
    expect(b.stats.logicalBytes).toBe(a.stats.logicalBytes);
    // Image b adds only its own model file: two chunks.
    expect(b.stats.newBlobs).toBe(2);
    expect(b.stats.newBytes).toBe(8192);
    expect(b.stats.dedupedBlobs).toBeGreaterThan(40);
    const ratio = dedupRatio([a.stats, b.stats]);
    expect(ratio).toBeCloseTo((a.stats.logicalBytes * 2) / (a.stats.newBytes + 8192), 5);
    expect(ratio).toBeGreaterThan(1.9);
  });

  it("reads tar entries of every kind it keeps and skips devices", async () => {
    const p = pack();
    p.entry({ name: "./etc/", type: "directory", mode: 0o755, mtime: new Date(5000) });
    p.entry({ name: "etc/hosts", mode: 0o644, uid: 7, gid: 8, mtime: new Date(1_700_000_000_123) }, "127.0.0.1 localhost\n");
    p.entry({ name: "etc/hosts.lnk", type: "link", linkname: "etc/hosts" });
    p.entry({ name: "dev/null", type: "character-device", devmajor: 1, devminor: 3 });
    p.entry({ name: "bin/sh", type: "symlink", linkname: "dash" });
    p.entry({ name: "etc/hosts", mode: 0o600 }, "replaced\n");
    p.finalize();
    const store = new LocalDirStore(join(work, "cas"));
    const { manifest, warnings } = await ingestTar(p as unknown as Readable, store, quiet);
    const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
    expect(byPath.get("/etc")).toMatchObject({ type: "dir", mode: 0o755, mtime: 5 });
    expect(byPath.get("/etc/hosts")).toMatchObject({ type: "file", mode: 0o600, size: 9, chunks: [sha(Buffer.from("replaced\n"))] });
    expect(byPath.get("/etc/hosts.lnk")).toMatchObject({ type: "file", uid: 7, gid: 8, mtime: 1_700_000_000, size: 20 });
    expect(byPath.get("/bin")).toMatchObject({ type: "dir" }); // implied by bin/sh
    expect(byPath.get("/bin/sh")).toMatchObject({ type: "symlink", target: "dash" });
    expect(byPath.has("/dev/null")).toBe(false);
    expect(warnings).toEqual(["skipped character-device entry /dev/null"]);
  });

  it("keeps memory bounded while ingesting a large file", async () => {
    const chunkSize = 1024 * 1024;
    const total = 512 * chunkSize;
    const piece = bytes("piece", 64 * 1024);
    async function* content() {
      for (let sent = 0; sent < total; sent += piece.length) yield Buffer.from(piece);
    }
    const p = pack();
    const entry = p.entry({ name: "huge.bin", size: total }, () => p.finalize());
    Readable.from(content()).pipe(entry);
    const store = new LocalDirStore(join(work, "cas"));
    const before = process.memoryUsage();
    let peak = 0;
    const timer = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.arrayBuffers - before.arrayBuffers);
    }, 5);
    const { manifest, stats } = await ingestTar(p as unknown as Readable, store, { chunkSize, ...quiet });
    clearInterval(timer);
    expect(manifest.entries.find((e) => e.path === "/huge.bin")!.chunks).toHaveLength(512);
    expect(stats.logicalBytes).toBe(total);
    expect(stats.newBlobs).toBe(1); // every chunk holds the same bytes
    expect(peak).toBeLessThan(64 * 1024 * 1024); // a 512 MiB file, far less held at once
  });
});
