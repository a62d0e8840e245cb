// What the lazyfs and fanout benches share: the bench's HTTP CAS (the product's blob handler over
// the base image's CAS, with a bench-only layer on top), the synthetic 1, 10 and 100 GB images
// built from the base image, and the first-output probe.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { createCipheriv, createHash, randomUUID } from "node:crypto";
import {
  BLOB_ROUTE_PREFIX,
  LocalDirStore,
  REF_ROUTE_PREFIX,
  StoreChunkSource,
  bootProfileRef,
  buildManifest,
  fetchBootProfile,
  compressChunk,
  createBlobHandler,
  encodeManifest,
  fetchManifest,
  manifestImageId,
  type BlobStore,
  type BootProfile,
  type Manifest,
  type ManifestEntry,
} from "@cellar/fs-client";
import { ImageAttacher } from "../apps/worker/src/images/image-attacher";
import { startKernelSandbox, type KernelSandbox } from "../apps/worker/src/sandbox";
import { awaitFirstOutput } from "./first-output";

export const CACHE = process.env.CELLAR_CACHE ?? "/var/cache/cellar";
export const CHUNK = 4 * 2 ** 20;
export const GIB = 2 ** 30;
export const SECRET = "bench-secret";
/** The bench's cell: what a first boot records and every attach → first output measures. */
export const CODE = "import numpy; print(1)";
/** First-boot profile window: long enough to cover boot and the cell, short enough for the bench. */
export const PROFILE_WINDOW_MS = 12_000;

export interface ImageSpec {
  label: string;
  target: number;
  distinctFiles: number;
  distinctFileBytes: number;
  repeatedFiles: number;
}
export interface BuiltImage {
  spec: ImageSpec;
  imageId: string;
  manifest: Manifest;
  bigFiles: string[];
}

// ---- images ----

export function logicalBytes(m: Manifest): number {
  return m.entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0);
}

export async function baseImage(store: BlobStore): Promise<{ imageId: string; manifest: Manifest }> {
  const imageId = JSON.parse(fs.readFileSync(path.join(CACHE, "images/base/ingested.json"), "utf8")).imageId as string;
  return { imageId, manifest: await fetchManifest(new StoreChunkSource(store), imageId) };
}

/** The 1, 10 and 100 GB images as specs over a base image of `baseBytes`. */
export function imageSpecs(baseBytes: number): ImageSpec[] {
  // The base alone is ~1.3 GB, so the "1 GB" image is the base plus one small distinct file.
  const specs: ImageSpec[] = [
    { label: "1 GB", target: 1e9, distinctFiles: 1, distinctFileBytes: 128 * 2 ** 20, repeatedFiles: 0 },
    {
      label: "10 GB",
      target: 10e9,
      distinctFiles: Math.max(1, Math.round((10e9 - baseBytes) / GIB)),
      distinctFileBytes: GIB,
      repeatedFiles: 0,
    },
  ];
  specs.push({
    ...specs[1],
    label: "100 GB",
    target: 100e9,
    repeatedFiles: Math.round((100e9 - baseBytes - specs[1].distinctFiles * GIB) / GIB),
  });
  return specs;
}

/**
 * Ingests the images' added files into `store` and stores their manifests; returns those named
 * in `only` (all by default). The 100 GB image reuses the 10 GB image's distinct files, so
 * asking for it ingests them too.
 */
export async function buildImages(
  store: BlobStore,
  base: Manifest,
  specs: ImageSpec[],
  only: string[] = specs.map((s) => s.label),
  log: (line: string) => void = console.log,
): Promise<BuiltImage[]> {
  const built: BuiltImage[] = [];
  const distinct10: ManifestEntry[] = [];
  for (const [i, spec] of specs.entries()) {
    const needed = only.includes(spec.label) || (i === 1 && only.includes(specs[2].label));
    if (!needed) continue;
    const t0 = performance.now();
    let big: ManifestEntry[];
    if (i === 2) {
      // Same distinct files as the 10 GB image, plus files that reuse their chunks: the CAS holds them once.
      big = [...distinct10, ...repeatEntries(distinct10, spec.repeatedFiles)];
    } else {
      big = [];
      for (let f = 0; f < spec.distinctFiles; f++)
        big.push(await ingestGenerated(store, `/opt/bench-data/img${i}-${f}.bin`, spec.distinctFileBytes, `img${i}-${f}`));
      if (i === 1) distinct10.push(...big);
    }
    if (!only.includes(spec.label)) {
      log(
        `ingested the ${spec.label} image's ${big.length} distinct files (for the images built on them) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      continue;
    }
    const manifest = buildManifest([...base.entries.filter((e) => e.path !== "/"), ...big], base.chunkSize);
    const encoded = encodeManifest(manifest);
    const imageId = manifestImageId(manifest);
    await store.put(imageId, await compressChunk(encoded));
    built.push({ spec, imageId, manifest, bigFiles: big.map((e) => e.path) });
    log(
      `built ${spec.label} image ${imageId.slice(0, 12)}: ${fmtBytes(logicalBytes(manifest))} logical in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  return built;
}

/** A file of `size` distinct, incompressible bytes (an AES-CTR keystream seeded by `seed`), ingested chunk by chunk. */
export async function ingestGenerated(store: BlobStore, filePath: string, size: number, seed: string): Promise<ManifestEntry> {
  const cipher = createCipheriv("aes-256-ctr", createHash("sha256").update(seed).digest(), Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  const chunks: string[] = [];
  const pending = new Set<Promise<void>>();
  for (let off = 0; off < size; off += CHUNK) {
    const data = cipher.update(zeros.subarray(0, Math.min(CHUNK, size - off)));
    const hash = createHash("sha256").update(data).digest("hex");
    chunks.push(hash);
    const p = compressChunk(data)
      .then((c) => store.put(hash, c))
      .finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= 4) await Promise.race(pending);
  }
  await Promise.all(pending);
  return { path: filePath, type: "file", mode: 0o644, uid: 0, gid: 0, size, mtime: 0, chunks };
}

export function repeatEntries(sources: ManifestEntry[], count: number): ManifestEntry[] {
  return Array.from({ length: count }, (_, i) => ({ ...sources[i % sources.length], path: `/opt/bench-data/repeat-${i}.bin` }));
}

// ---- the blob server ----

export interface Served {
  /** Compressed bytes of every blob GET answered 200/206, the manifest included. */
  bytes: number;
  /** One entry per such GET, in order. */
  log: Array<{ hash: string; bytes: number }>;
}

export interface BenchServer {
  http: http.Server;
  url: string;
  store: BlobStore;
  served: Served;
  close(): Promise<void>;
}

/** Where the served log stands now; `servedSince(server, mark)` is what was sent after it. */
export function servedMark(server: BenchServer): number {
  return server.served.log.length;
}

export function servedSince(
  server: BenchServer,
  mark: number,
): { bytes: number; requests: number; hashes: Set<string>; bytesByHash: Map<string, number> } {
  const entries = server.served.log.slice(mark);
  const bytesByHash = new Map<string, number>();
  for (const e of entries) bytesByHash.set(e.hash, (bytesByHash.get(e.hash) ?? 0) + e.bytes);
  return { bytes: entries.reduce((n, e) => n + e.bytes, 0), requests: entries.length, hashes: new Set(bytesByHash.keys()), bytesByHash };
}

/**
 * The bench's blobs over the base image's CAS, served by the product's handler on 127.0.0.1.
 * `store` serves another server's store (with counters of its own); `hideRef` answers 404 for
 * the refs it names, as if nobody had published them.
 */
export async function startServer(
  work: string,
  opts: { store?: BlobStore; hideRef?: (name: string) => boolean } = {},
): Promise<BenchServer> {
  const store = opts.store ?? new LayeredStore(new LocalDirStore(path.join(work, "cas")), new LocalDirStore(path.join(CACHE, "cas")));
  const authorize = (req: http.IncomingMessage) => req.headers.authorization === `Bearer ${SECRET}`;
  const handler = createBlobHandler(store, { authorize, authorizeWrite: authorize });
  const served: Served = { bytes: 0, log: [] };
  const server = http.createServer((req, res) => {
    res.on("finish", () => {
      if (req.method !== "GET" || (res.statusCode !== 200 && res.statusCode !== 206) || !req.url?.startsWith(BLOB_ROUTE_PREFIX)) return;
      const bytes = Number(res.getHeader("content-length") ?? 0);
      served.bytes += bytes;
      served.log.push({ hash: (req.url ?? "").slice(BLOB_ROUTE_PREFIX.length).split("?")[0], bytes });
    });
    const ref =
      req.method === "GET" && req.url?.startsWith(REF_ROUTE_PREFIX)
        ? decodeURIComponent(req.url.slice(REF_ROUTE_PREFIX.length).split("?")[0])
        : null;
    if (ref !== null && opts.hideRef?.(ref)) {
      res.writeHead(404).end();
      return;
    }
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    http: server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    store,
    served,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Writes go to `top`; reads fall through to `bottom`, which the bench never changes. */
export class LayeredStore implements BlobStore {
  constructor(
    private readonly top: LocalDirStore,
    private readonly bottom: LocalDirStore,
  ) {}
  private async pick(hash: string): Promise<LocalDirStore> {
    return (await this.top.size(hash)) !== null ? this.top : this.bottom;
  }
  async has(hash: string) {
    return (await this.top.has(hash)) || this.bottom.has(hash);
  }
  put(hash: string, compressed: Buffer | Readable) {
    return this.top.put(hash, compressed);
  }
  async get(hash: string) {
    return (await this.pick(hash)).get(hash);
  }
  async size(hash: string) {
    return (await this.top.size(hash)) ?? this.bottom.size(hash);
  }
  async createReadStream(hash: string, range?: { start: number; end: number }) {
    return (await this.pick(hash)).createReadStream(hash, range);
  }
  async getRef(name: string) {
    return (await this.top.getRef(name)) ?? this.bottom.getRef(name);
  }
  putRef(name: string, hash: string) {
    return this.top.putRef(name, hash);
  }
}

// ---- boots ----

export function newAttacher(
  work: string,
  server: BenchServer,
  attachers: ImageAttacher[],
  profileWindowMs?: number,
): { attacher: ImageAttacher; cacheDir: string } {
  const dir = fs.mkdtempSync(path.join(work, "worker-"));
  const cacheDir = path.join(dir, "cache");
  const attacher = new ImageAttacher({
    gatewayUrl: server.url,
    secret: SECRET,
    home: path.join(dir, "home"),
    cacheDir,
    cacheMaxBytes: 20 * GIB,
    profileWindowMs,
  });
  attachers.push(attacher);
  return { attacher, cacheDir };
}

/** Attach → cold boot → first output of CODE, then stop and detach. */
export async function bootOnce(
  work: string,
  attacher: ImageAttacher,
  imageId: string,
): Promise<{ first_output_s: number; attach_s: number }> {
  const stateRoot = fs.mkdtempSync(path.join(work, "sbx-"));
  const workspaceDir = path.join(stateRoot, "workspace");
  fs.mkdirSync(workspaceDir);
  const t0 = performance.now();
  const imageRootfs = await attacher.attach(imageId);
  const attach_s = round((performance.now() - t0) / 1000);
  const sb = await startKernelSandbox({
    sessionId: randomUUID(),
    imageRootfs,
    workspaceDir,
    stateRoot,
    limits: { memoryBytes: 4 * GIB, pids: 512 },
  });
  try {
    await firstOutput(sb, CODE);
    return { first_output_s: round((performance.now() - t0) / 1000), attach_s };
  } finally {
    await sb.stop();
    await attacher.detachAll();
  }
}

/**
 * The image's first boot ever (cold cache, nothing published) records what the kernel reads and
 * publishes it as boot packs, as the product's worker does; resolves once the profile is in the CAS.
 */
export async function firstBootEver(
  work: string,
  server: BenchServer,
  imageId: string,
  attachers: ImageAttacher[],
): Promise<{ first_output_s: number; profile: BootProfile }> {
  const first = newAttacher(work, server, attachers, PROFILE_WINDOW_MS);
  const firstEver = await bootOnce(work, first.attacher, imageId);
  const deadline = performance.now() + PROFILE_WINDOW_MS + 30_000;
  while (!(await server.store.getRef(bootProfileRef(imageId))) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  const profile = await fetchBootProfile(new StoreChunkSource(server.store), imageId);
  if (!profile) throw new Error(`no boot profile was published for ${imageId.slice(0, 12)}`);
  return { first_output_s: firstEver.first_output_s, profile };
}

// ---- probes ----

/** Resolves with the first stream or execute_result of `code`; rejects if the cell errors, the
 * sandbox exits, or nothing comes within `timeoutMs`. */
export async function firstOutput(sb: KernelSandbox, code: string, timeoutMs = 120_000): Promise<void> {
  const { output } = await awaitFirstOutput(sb, code, { timeoutMs });
  if (output.header.msg_type === "error") throw new Error(`cell failed: ${JSON.stringify(output.content)}`);
}

export const round = (x: number) => Math.round(x * 1000) / 1000;
export const fmtBytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);
