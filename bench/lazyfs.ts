// Issue 3's figures: attach → first output of `import numpy; print(1)` on lazily mounted images of
// about 1, 10 and 100 GB (cold worker cache, blobs over real HTTP), what each fetched, the full copy
// a pull would do instead, and sequential read throughput through the mount against local disk.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createCipheriv, createHash, randomUUID } from "node:crypto";
import { executeRequest, type JupyterMessage } from "@cellar/protocol";
import {
  BLOB_ROUTE_PREFIX, LocalDirStore, StoreChunkSource, bootProfileRef, fetchBootProfile, buildManifest, compressChunk, createBlobHandler, decompressBlob,
  encodeManifest, fetchManifest, manifestImageId, type BlobStore, type Manifest, type ManifestEntry,
} from "@cellar/fs-client";
import { ImageAttacher } from "../apps/worker/src/images/image-attacher";
import { startKernelSandbox, type KernelSandbox } from "../apps/worker/src/sandbox";
import { repoRoot } from "./stack";

const CACHE = process.env.CELLAR_CACHE ?? "/var/cache/cellar";
const CHUNK = 4 * 2 ** 20;
const GIB = 2 ** 30;
const SECRET = "bench-secret";
const CODE = "import numpy; print(1)";
/** First-boot profile window: long enough to cover boot and the cell, short enough for the bench. */
const PROFILE_WINDOW_MS = 12_000;

interface ImageSpec { label: string; target: number; distinctFiles: number; distinctFileBytes: number; repeatedFiles: number }

export async function run(): Promise<void> {
  const work = fs.mkdtempSync(path.join("/var/tmp", "cellar-bench-lazyfs-"));
  const server = await startServer(work);
  const attachers: ImageAttacher[] = [];
  try {
    const baseImageId = JSON.parse(fs.readFileSync(path.join(CACHE, "images/base/ingested.json"), "utf8")).imageId as string;
    const base = await fetchManifest(new StoreChunkSource(server.store), baseImageId);
    const baseBytes = logicalBytes(base);
    // The base alone is ~1.3 GB, so the "1 GB" image is the base plus one small distinct file.
    const specs: ImageSpec[] = [
      { label: "1 GB", target: 1e9, distinctFiles: 1, distinctFileBytes: 128 * 2 ** 20, repeatedFiles: 0 },
      { label: "10 GB", target: 10e9, distinctFiles: Math.max(1, Math.round((10e9 - baseBytes) / GIB)), distinctFileBytes: GIB, repeatedFiles: 0 },
    ];
    specs.push({ ...specs[1], label: "100 GB", target: 100e9, repeatedFiles: Math.round((100e9 - baseBytes - specs[1].distinctFiles * GIB) / GIB) });

    console.log(`base image ${baseImageId.slice(0, 12)}: ${fmtBytes(baseBytes)}, ${base.entries.length} entries`);
    const built: Array<{ spec: ImageSpec; imageId: string; manifest: Manifest; bigFiles: string[] }> = [];
    const distinct10: ManifestEntry[] = [];
    for (const [i, spec] of specs.entries()) {
      const t0 = performance.now();
      let big: ManifestEntry[];
      if (i === 2) {
        // Same distinct files as the 10 GB image, plus files that reuse their chunks: the CAS holds them once.
        big = [...distinct10, ...repeatEntries(distinct10, spec.repeatedFiles)];
      } else {
        big = [];
        for (let f = 0; f < spec.distinctFiles; f++) big.push(await ingestGenerated(server.store, `/opt/bench-data/img${i}-${f}.bin`, spec.distinctFileBytes, `img${i}-${f}`));
        if (i === 1) distinct10.push(...big);
      }
      const manifest = buildManifest([...base.entries.filter((e) => e.path !== "/"), ...big], base.chunkSize);
      const encoded = encodeManifest(manifest);
      const imageId = manifestImageId(manifest);
      await server.store.put(imageId, await compressChunk(encoded));
      built.push({ spec, imageId, manifest, bigFiles: big.map((e) => e.path) });
      console.log(`built ${spec.label} image ${imageId.slice(0, 12)}: ${fmtBytes(logicalBytes(manifest))} logical in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }

    const images = [];
    for (const b of built) {
      const r = await measureAttach(work, server, b.imageId, b.manifest, attachers);
      images.push({ label: b.spec.label, logical_bytes: logicalBytes(b.manifest), ...r });
      console.log(`${b.spec.label}: first output ${r.first_output_s.toFixed(2)} s (mounted after ${r.attach_s.toFixed(2)} s; first boot ever ${r.first_boot_ever_s.toFixed(2)} s), fetched ${fmtBytes(r.bytes_fetched)} in ${r.blobs_requested} blobs (${r.packs_fetched} packs; ${r.chunks_fetched} chunks, ${r.files_fetched} files)`);
    }

    // Baseline: the same cell on the base image's local, fully extracted rootfs (no lazy mount).
    const localFirst = await measureLocalBoot(work);
    console.log(`baseline: local extracted rootfs, first output ${localFirst.toFixed(2)} s`);

    const full_copy = [];
    for (const b of built.slice(0, 2)) {
      const seconds = await measureFullCopy(work, server.store, b.manifest);
      full_copy.push({ label: b.spec.label, logical_bytes: logicalBytes(b.manifest), seconds });
      console.log(`${b.spec.label}: full copy ${seconds.toFixed(1)} s`);
    }

    const throughput = await measureThroughput(work, server, built[1].imageId, built[1].bigFiles[0], attachers);

    const result = {
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 2 ** 30) },
      images: images.map(({ label, ...r }) => r),
      full_copy: full_copy.map(({ label, ...r }) => r),
      throughput,
      local_rootfs_first_output_s: localFirst,
      notes: {
        labels: images.map((r) => r.label),
        base_image_bytes: baseBytes,
        one_gb_image: "the base image alone is about 1.3 GB, so the smallest image is the base plus one 128 MiB file",
        hundred_gb_image: `the 100 GB image holds the 10 GB image's ${specs[1].distinctFiles} distinct 1 GiB files plus ${specs[2].repeatedFiles} files of 1 GiB made of the same chunks: the disk cannot hold 100 GB of distinct bytes, so the CAS stores that content once`,
        content: "added files are AES-256-CTR keystreams (incompressible, distinct per file), ingested as 4 MiB Brotli blobs into a bench-only CAS layered over the base image's CAS",
        bytes_fetched: "compressed bytes the HTTP blob server sent, manifest included; files_fetched counts image files with at least one fetched chunk",
        full_copy: "reads every chunk from the local CAS, decompresses and writes the tree (no network): a lower bound for a pull",
        first_output_s: "attach on a cold worker cache of an image whose boot profile is published (every attach after the image's first boot on any worker): the worker pulls the boot packs while it mounts",
        first_boot_ever_s: "not an issue figure: the image's very first boot, nothing cached or published, every file fetched on demand; it records and publishes the boot packs",
        throughput: "1 GiB file, 1 MiB reads; page cache dropped before each run; warm = chunks already in the worker's chunk cache",
      },
    };
    const outDir = path.join(repoRoot, "bench/results");
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "lazyfs.json"), JSON.stringify(result, null, 2));

    const lines = ["| image | logical | attach → first output | first boot ever | fetched | % of image | requests | chunks | files | full copy | full copy / lazy |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"];
    for (const [i, r] of images.entries()) {
      const fc = full_copy[i];
      lines.push(`| ${r.label} | ${fmtBytes(r.logical_bytes)} | ${r.first_output_s.toFixed(2)} s | ${r.first_boot_ever_s.toFixed(2)} s | ${fmtBytes(r.bytes_fetched)} | ${(100 * r.bytes_fetched / r.logical_bytes).toFixed(2)}% | ${r.blobs_requested} | ${r.chunks_fetched} | ${r.files_fetched} | ${fc ? fc.seconds.toFixed(1) + " s" : "—"} | ${fc ? (fc.seconds / r.first_output_s).toFixed(1) + "×" : "—"} |`);
    }
    console.log(lines.join("\n"));
    console.log(`\nbaseline: \`${CODE}\` on the local extracted rootfs: ${localFirst.toFixed(2)} s to first output (gVisor boot + import, no lazy fetch)`);
    console.log(`throughput (1 GiB sequential): mount cold ${throughput.mount_cold_MBps} MB/s, mount warm ${throughput.mount_warm_MBps} MB/s, local disk ${throughput.local_disk_MBps} MB/s`);
    const ok = (b: boolean) => (b ? "ok" : "MISSED");
    const maxFirst = Math.max(...images.map((r) => r.first_output_s));
    const scale = images[2].first_output_s / images[0].first_output_s;
    const maxPct = Math.max(...images.map((r) => (100 * r.bytes_fetched) / r.logical_bytes));
    const speedup = full_copy[1].seconds / images[1].first_output_s;
    console.log(`first output ≤ 3 s for every size: worst ${maxFirst.toFixed(2)} s — ${ok(maxFirst <= 3)}`);
    console.log(`time(100 GB) / time(1 GB) ≤ 1.5: ${scale.toFixed(2)} — ${ok(scale <= 1.5)}`);
    console.log(`bytes fetched ≤ 2% of the image: worst ${maxPct.toFixed(2)}% — ${ok(maxPct <= 2)}`);
    console.log(`lazy attach vs full copy at 10 GB ≥ 20×: ${speedup.toFixed(1)}× — ${ok(speedup >= 20)}`);
    console.log(`wrote bench/results/lazyfs.json`);
  } finally {
    for (const a of attachers) await a.detachAll().catch(() => {});
    await new Promise<void>((r) => server.http.close(() => r()));
    server.http.closeAllConnections();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---- images ----

function logicalBytes(m: Manifest): number {
  return m.entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0);
}

/** A file of `size` distinct, incompressible bytes (an AES-CTR keystream seeded by `seed`), ingested chunk by chunk. */
async function ingestGenerated(store: BlobStore, filePath: string, size: number, seed: string): Promise<ManifestEntry> {
  const cipher = createCipheriv("aes-256-ctr", createHash("sha256").update(seed).digest(), Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  const chunks: string[] = [];
  const pending = new Set<Promise<void>>();
  for (let off = 0; off < size; off += CHUNK) {
    const data = cipher.update(zeros.subarray(0, Math.min(CHUNK, size - off)));
    const hash = createHash("sha256").update(data).digest("hex");
    chunks.push(hash);
    const p = compressChunk(data).then((c) => store.put(hash, c)).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= 4) await Promise.race(pending);
  }
  await Promise.all(pending);
  return { path: filePath, type: "file", mode: 0o644, uid: 0, gid: 0, size, mtime: 0, chunks };
}

function repeatEntries(sources: ManifestEntry[], count: number): ManifestEntry[] {
  return Array.from({ length: count }, (_, i) => ({ ...sources[i % sources.length], path: `/opt/bench-data/repeat-${i}.bin` }));
}

// ---- the blob server ----

interface Server { http: http.Server; url: string; store: BlobStore; served: { bytes: number; hashes: string[] }; }

/** The bench's blobs over the base image's CAS, served by the product's handler on 127.0.0.1. */
async function startServer(work: string): Promise<Server> {
  const store = new LayeredStore(new LocalDirStore(path.join(work, "cas")), new LocalDirStore(path.join(CACHE, "cas")));
  const authorize = (req: http.IncomingMessage) => req.headers.authorization === `Bearer ${SECRET}`;
  const handler = createBlobHandler(store, { authorize, authorizeWrite: authorize });
  const served = { bytes: 0, hashes: [] as string[] };
  const server = http.createServer((req, res) => {
    res.on("finish", () => {
      if (req.method !== "GET" || (res.statusCode !== 200 && res.statusCode !== 206) || !req.url?.startsWith(BLOB_ROUTE_PREFIX)) return;
      served.bytes += Number(res.getHeader("content-length") ?? 0);
      served.hashes.push((req.url ?? "").slice(BLOB_ROUTE_PREFIX.length).split("?")[0]);
    });
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { http: server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, store, served };
}

/** Writes go to `top`; reads fall through to `bottom`, which the bench never changes. */
class LayeredStore implements BlobStore {
  constructor(private readonly top: LocalDirStore, private readonly bottom: LocalDirStore) {}
  private async pick(hash: string): Promise<LocalDirStore> {
    return (await this.top.size(hash)) !== null ? this.top : this.bottom;
  }
  async has(hash: string) { return (await this.top.has(hash)) || this.bottom.has(hash); }
  put(hash: string, compressed: Buffer | Readable) { return this.top.put(hash, compressed); }
  async get(hash: string) { return (await this.pick(hash)).get(hash); }
  async size(hash: string) { return (await this.top.size(hash)) ?? this.bottom.size(hash); }
  async createReadStream(hash: string, range?: { start: number; end: number }) { return (await this.pick(hash)).createReadStream(hash, range); }
  async getRef(name: string) { return (await this.top.getRef(name)) ?? this.bottom.getRef(name); }
  putRef(name: string, hash: string) { return this.top.putRef(name, hash); }
}

// ---- measurements ----

function newAttacher(work: string, server: Server, attachers: ImageAttacher[], profileWindowMs?: number): { attacher: ImageAttacher; cacheDir: string } {
  const dir = fs.mkdtempSync(path.join(work, "worker-"));
  const cacheDir = path.join(dir, "cache");
  const attacher = new ImageAttacher({ gatewayUrl: server.url, secret: SECRET, home: path.join(dir, "home"), cacheDir, cacheMaxBytes: 20 * GIB, profileWindowMs });
  attachers.push(attacher);
  return { attacher, cacheDir };
}

/**
 * The image's first boot ever (cold cache, nothing published) records what the kernel reads and
 * publishes it as boot packs, as the product's worker does. The measured attach is the next one,
 * on another cold worker cache: what every later worker sees.
 */
async function measureAttach(work: string, server: Server, imageId: string, manifest: Manifest, attachers: ImageAttacher[]) {
  const first = newAttacher(work, server, attachers, PROFILE_WINDOW_MS);
  const firstEver = await bootOnce(work, first.attacher, imageId);
  const deadline = performance.now() + PROFILE_WINDOW_MS + 30_000;
  while (!(await server.store.getRef(bootProfileRef(imageId))) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const profile = await fetchBootProfile(new StoreChunkSource(server.store), imageId);
  if (!profile) throw new Error(`no boot profile was published for ${imageId.slice(0, 12)}`);

  const second = newAttacher(work, server, attachers);
  const before = { bytes: server.served.bytes, n: server.served.hashes.length };
  const cold = await bootOnce(work, second.attacher, imageId);
  const requested = new Set(server.served.hashes.slice(before.n));
  const packs = profile.packs.filter((p) => requested.has(p.hash));
  const docHash = await server.store.getRef(bootProfileRef(imageId));
  const onDemand = [...requested].filter((h) => h !== imageId && h !== docHash && !profile.packs.some((p) => p.hash === h));
  const chunks = new Set([...(packs.length ? profile.chunks : []), ...onDemand]);
  const files = manifest.entries.filter((e) => e.chunks?.some((h) => chunks.has(h))).length;
  return {
    first_output_s: cold.first_output_s, attach_s: cold.attach_s, bytes_fetched: server.served.bytes - before.bytes, files_fetched: files,
    chunks_fetched: chunks.size, packs_fetched: packs.length, blobs_requested: requested.size,
    first_boot_ever_s: firstEver.first_output_s,
  };
}

async function bootOnce(work: string, attacher: ImageAttacher, imageId: string): Promise<{ first_output_s: number; attach_s: number }> {
  const stateRoot = fs.mkdtempSync(path.join(work, "sbx-"));
  const workspaceDir = path.join(stateRoot, "workspace");
  fs.mkdirSync(workspaceDir);
  const t0 = performance.now();
  const imageRootfs = await attacher.attach(imageId);
  const attach_s = round((performance.now() - t0) / 1000);
  const sb = await startKernelSandbox({ sessionId: randomUUID(), imageRootfs, workspaceDir, stateRoot, limits: { memoryBytes: 4 * GIB, pids: 512 } });
  try {
    await firstOutput(sb, CODE);
    return { first_output_s: round((performance.now() - t0) / 1000), attach_s };
  } finally {
    await sb.stop();
    await attacher.detachAll();
  }
}

async function measureLocalBoot(work: string): Promise<number> {
  const stateRoot = fs.mkdtempSync(path.join(work, "sbx-"));
  const workspaceDir = path.join(stateRoot, "workspace");
  fs.mkdirSync(workspaceDir);
  const imageRootfs = path.join(CACHE, "images/base/rootfs");
  const t0 = performance.now();
  const sb = await startKernelSandbox({ sessionId: randomUUID(), imageRootfs, workspaceDir, stateRoot, limits: { memoryBytes: 4 * GIB, pids: 512 } });
  try {
    await firstOutput(sb, CODE);
    return round((performance.now() - t0) / 1000);
  } finally {
    await sb.stop();
  }
}

/** Resolves with the first stream or execute_result of `code`; rejects if the cell errors. */
function firstOutput(sb: KernelSandbox, code: string): Promise<void> {
  const req = executeRequest(code);
  return new Promise((resolve, reject) => {
    const onMessage = (m: JupyterMessage) => {
      if (m.parent_header.msg_id !== req.header.msg_id) return;
      const t = m.header.msg_type;
      if (t === "stream" || t === "execute_result" || t === "error") {
        sb.off("message", onMessage);
        if (t === "error") reject(new Error(`cell failed: ${JSON.stringify(m.content)}`));
        else resolve();
      }
    };
    sb.on("message", onMessage);
    sb.send(req);
  });
}

/** What a pull does before boot: every chunk read, decompressed and written out as the tree. */
async function measureFullCopy(work: string, store: BlobStore, manifest: Manifest): Promise<number> {
  const root = path.join(work, "full-copy");
  dropCaches();
  const t0 = performance.now();
  for (const e of manifest.entries) if (e.type === "dir") fs.mkdirSync(path.join(root, e.path), { recursive: true });
  const files = manifest.entries.filter((e) => e.type !== "dir");
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const e = files[next++];
      const dest = path.join(root, e.path);
      if (e.type === "symlink") { fs.symlinkSync(e.target!, dest); continue; }
      const fh = await fs.promises.open(dest, "w", e.mode);
      try {
        for (const h of e.chunks ?? []) await fh.write(await decompressBlob(await store.get(h)));
      } finally {
        await fh.close();
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  execSyncQuiet("sync");
  const seconds = (performance.now() - t0) / 1000;
  fs.rmSync(root, { recursive: true, force: true });
  return round(seconds);
}

async function measureThroughput(work: string, server: Server, imageId: string, file: string, attachers: ImageAttacher[]) {
  const { attacher } = newAttacher(work, server, attachers);
  const root = await attacher.attach(imageId);
  const inMount = path.join(root, file);
  dropCaches();
  const cold = await readAll(inMount);
  dropCaches();
  const warm = await readAll(inMount);
  // The same bytes as a plain local file, copied out while the mount is up.
  const local = path.join(work, "local.bin");
  await pipeline(fs.createReadStream(inMount, { highWaterMark: 2 ** 20 }), fs.createWriteStream(local));
  await attacher.detachAll();
  dropCaches();
  const disk = await readAll(local);
  return { mount_cold_MBps: cold.mbps, mount_warm_MBps: warm.mbps, local_disk_MBps: disk.mbps };
}

async function readAll(file: string): Promise<{ mbps: number; bytes: number }> {
  const fd = await fs.promises.open(file, "r");
  const buf = Buffer.allocUnsafe(2 ** 20);
  let bytes = 0;
  const t0 = performance.now();
  for (;;) {
    const { bytesRead } = await fd.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    bytes += bytesRead;
  }
  const s = (performance.now() - t0) / 1000;
  await fd.close();
  return { mbps: Math.round(bytes / 1e6 / s), bytes };
}

function dropCaches(): void {
  execSyncQuiet("sync");
  try { fs.writeFileSync("/proc/sys/vm/drop_caches", "3"); } catch { /* not root: figures include the page cache */ }
}

function execSyncQuiet(cmd: string): void {
  try { execFileSync(cmd, { stdio: "ignore" }); } catch { /* best effort */ }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const fmtBytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);
