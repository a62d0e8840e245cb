// A worker's image and kernel machinery as apps/worker/src/gateway/gateway-connection.ts builds
// it, against the bench's HTTP CAS, in directories of its own: a fresh one has an empty chunk
// cache, no local snapshots, and no runsc state. Each sandbox it starts is tracked so that
// close() leaves nothing running, whatever happened before.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BlobFetcher, StoreChunkSource, fetchManifest } from "@cellar/fs-client";
import { ImageAttacher } from "../apps/worker/src/images/image-attacher";
import { reapOrphanSandboxes, type KernelSandbox } from "../apps/worker/src/sandbox";
import { DEFAULT_WARMUP, KernelPool, WarmSnapshots, type WarmSnapshotSpec } from "../apps/worker/src/snapshots";
import { GIB, SECRET, type BenchServer } from "./lazy-images";

export const LIMITS = { memoryBytes: 4 * GIB, pids: 512 };

/** What a session of the image asks for; the same spec on every worker names the same snapshot. */
export function specFor(imageId: string): WarmSnapshotSpec {
  return { imageId, limits: LIMITS, warmup: DEFAULT_WARMUP };
}

export interface BenchWorkerOptions {
  /** The attacher's first-boot profile window (ImageAttacherOptions.profileWindowMs). */
  profileWindowMs?: number;
  log?: (line: string) => void;
}

export class BenchWorker {
  readonly dir: string;
  readonly home: string;
  readonly cacheDir: string;
  readonly stateRoot: string;
  readonly attacher: ImageAttacher;
  /** gateway-connection.ts's `snapshotCas`: the CAS the warm snapshots are stored in and fetched from. */
  readonly snapshotCas: BlobFetcher;
  readonly snapshots: WarmSnapshots;
  /** The worker's pool with no kernels kept ready (size 0): a start restores or boots. */
  readonly pool: KernelPool;
  private readonly sandboxes = new Set<KernelSandbox>();
  private closed = false;

  constructor(work: string, server: BenchServer, opts: BenchWorkerOptions = {}) {
    this.dir = fs.mkdtempSync(path.join(work, "worker-"));
    this.home = path.join(this.dir, "home");
    this.cacheDir = path.join(this.dir, "cache");
    this.stateRoot = path.join(this.dir, "runsc");
    this.attacher = new ImageAttacher({
      gatewayUrl: server.url,
      secret: SECRET,
      home: this.home,
      cacheDir: this.cacheDir,
      cacheMaxBytes: 20 * GIB,
      profileWindowMs: opts.profileWindowMs,
    });
    this.snapshotCas = new BlobFetcher({ baseUrl: server.url, authorization: `Bearer ${SECRET}` });
    this.snapshots = new WarmSnapshots({
      dir: path.join(this.cacheDir, "snapshots"),
      remote: this.snapshotCas,
      stateRoot: this.stateRoot,
      log: opts.log ?? (() => {}),
    });
    this.pool = new KernelPool({
      snapshots: this.snapshots,
      size: 0,
      workspacesDir: path.join(this.home, "workspaces"),
      memoryBytes: os.totalmem(),
      liveSessionsMemory: () => 0,
      log: opts.log ?? (() => {}),
    });
  }

  /** A new session's sandbox options, as the worker makes them for a notebook. */
  session(): { sessionId: string; workspaceDir: string } {
    const sessionId = randomUUID();
    const workspaceDir = path.join(this.home, "workspaces", `nb-${sessionId.slice(0, 8)}`);
    fs.mkdirSync(workspaceDir, { recursive: true });
    return { sessionId, workspaceDir };
  }

  /** Stops `sb` when the worker closes (unless it was stopped before). */
  track(sb: KernelSandbox): KernelSandbox {
    this.sandboxes.add(sb);
    return sb;
  }

  async stopSandboxes(): Promise<void> {
    const all = [...this.sandboxes];
    this.sandboxes.clear();
    await Promise.all(all.map((s) => s.stop().catch(() => {})));
  }

  /**
   * Stops every tracked sandbox, waits for any snapshot being made in the background (a cold
   * boot starts one), unmounts the images, reaps containers nobody tracked (a start that threw
   * midway), and removes the worker's directories.
   */
  async close(specs: WarmSnapshotSpec[] = []): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopSandboxes();
    for (const spec of specs) await this.snapshots.creation(await this.snapshots.key(spec))?.catch(() => {});
    await this.pool.stop().catch(() => {});
    await this.attacher.detachAll().catch(() => {});
    await reapOrphanSandboxes(this.stateRoot).catch(() => {});
    this.snapshotCas.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface PublishedSnapshot {
  key: string;
  /** The snapshot's manifest hash in the CAS. */
  id: string;
  /** Its manifest and chunk blobs: what a worker that restores it fetches. */
  blobs: Set<string>;
  /** Compressed bytes of those blobs in the CAS. */
  compressedBytes: number;
  /** Bytes of the checkpoint directory once materialised. */
  bytes: number;
  /** Boot + warm-up + checkpoint + upload. */
  create_s: number;
}

/**
 * A first worker boots the image once and stores its warm snapshot in the CAS, through the
 * product's path: WarmSnapshots.create with the CAS as remote (a BlobFetcher, as the worker's
 * snapshotCas is), on the image as the worker mounts it.
 */
export async function publishWarmSnapshot(work: string, server: BenchServer, imageId: string): Promise<PublishedSnapshot> {
  const worker = new BenchWorker(work, server, { log: (l) => console.log(`  ${l}`) });
  const spec = specFor(imageId);
  try {
    const t0 = performance.now();
    const rootfs = await worker.attacher.attach(imageId);
    const snap = await worker.snapshots.create(spec, rootfs);
    const create_s = (performance.now() - t0) / 1000;
    const ref = await worker.snapshotCas.fetchRef(`warm-snapshot/${snap.key}`);
    if (ref !== snap.id)
      throw new Error(`the CAS's warm-snapshot ref of ${imageId.slice(0, 12)} is ${ref}, not the snapshot just made (${snap.id})`);
    return { ...(await describeSnapshot(server, snap.key, snap.id)), create_s: Math.round(create_s * 1000) / 1000 };
  } finally {
    await worker.close([spec]);
  }
}

/** Snapshot `id` of `key` as the CAS holds it. */
export async function describeSnapshot(server: BenchServer, key: string, id: string): Promise<Omit<PublishedSnapshot, "create_s">> {
  const manifest = await fetchManifest(new StoreChunkSource(server.store), id);
  const blobs = new Set([id, ...manifest.entries.flatMap((e) => e.chunks ?? [])]);
  let compressedBytes = 0;
  for (const h of blobs) compressedBytes += (await server.store.size(h)) ?? 0;
  const bytes = manifest.entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0);
  return { key, id, blobs, compressedBytes, bytes };
}
