// Attaches images lazily: the worker fetches only an image's manifest, mounts it read-only through
// the native FUSE daemon, and fetches each chunk from the gateway's content store the first time
// a sandbox reads it, into a cache every sandbox on this worker shares. One mount per image.
// While it mounts, it pulls the image's published boot packs (what a kernel reads while it boots)
// into that cache; the first worker ever to boot an image records and publishes them.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import {
  AccessRecorder,
  BlobFetcher,
  ChunkCache,
  Readahead,
  fetchBootProfile,
  fetchManifest,
  mountImage,
  prefetchBootPacks,
  publishBootProfile,
  writeDaemonIndex,
  type MountedImage,
} from "@cellar/fs-client";

const run = promisify(execFile);

export interface ImageAttacherOptions {
  gatewayUrl: string;
  secret: string;
  /** Per-worker state: mountpoints and daemon indexes. */
  home: string;
  /** Chunk cache and prefetch profiles, shared by every sandbox on this machine. */
  cacheDir: string;
  cacheMaxBytes: number;
  /** How long after the first attach fetched chunks count as the image's first boot. */
  profileWindowMs?: number;
}

export interface AttachStats {
  /** Boot packs this attach fetches; 0 when the image has no published boot profile yet. */
  packs: number;
  /** Chunks the packs brought, once they are all in. */
  chunksPrefetched: number;
  /** True when this attach is recording the image's boot profile for publishing. */
  recording: boolean;
}

export class ImageAttacher {
  private readonly fetcher: BlobFetcher;
  private readonly cache: ChunkCache;
  private readonly mounts = new Map<string, Promise<MountedImage>>();
  readonly lastAttach = new Map<string, AttachStats>();

  constructor(private readonly opts: ImageAttacherOptions) {
    this.fetcher = new BlobFetcher({
      baseUrl: opts.gatewayUrl,
      authorization: `Bearer ${opts.secret}`,
      onFault: (f) => console.error(`worker: content store fault: ${JSON.stringify(f)}`),
    });
    this.cache = new ChunkCache(path.join(opts.cacheDir, "chunks"), { maxBytes: opts.cacheMaxBytes, source: this.fetcher });
  }

  /**
   * The read-only root filesystem of `imageId`, mounted on first use. `forRestore`: the first
   * session on it will restore a warm snapshot rather than boot, so the image's boot packs (tens
   * of MB a boot reads) are not pulled and nothing is recorded as its boot profile; a restore
   * reads a few dozen chunks, fetched as it asks. Decided by the attach that mounts the image.
   */
  attach(imageId: string, { forRestore = false } = {}): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(imageId)) return Promise.reject(new Error(`invalid image id ${JSON.stringify(imageId)}`));
    let mounted = this.mounts.get(imageId);
    if (!mounted) {
      mounted = this.mount(imageId, forRestore);
      mounted.catch(() => this.mounts.delete(imageId));
      this.mounts.set(imageId, mounted);
    }
    return mounted.then((m) => m.mountpoint);
  }

  async detachAll(): Promise<void> {
    const all = [...this.mounts.values()];
    this.mounts.clear();
    await Promise.all(all.map(async (m) => (await m.catch(() => null))?.unmount()));
  }

  /**
   * Drops every cached chunk. Mounted images keep working: the daemon asks again for what it no
   * longer finds, and later attaches fetch as a fresh worker would.
   */
  async dropCache(): Promise<void> {
    await this.cache.clear();
  }

  get cachedBytes(): number {
    return this.cache.usedBytes;
  }

  get cacheDir(): string {
    return this.cache.dir;
  }

  private async mount(imageId: string, forRestore: boolean): Promise<MountedImage> {
    const dir = path.join(this.opts.home, "images", imageId.slice(0, 16));
    const mountpoint = path.join(dir, "root");
    const stats: AttachStats = { packs: 0, chunksPrefetched: 0, recording: false };
    this.lastAttach.set(imageId, stats);
    // The packs start as soon as the profile is known, while the manifest is read and mounted;
    // not awaited: the kernel boots while they arrive, and waits only for chunks still on their way.
    const bootProfile = forRestore
      ? Promise.resolve(null)
      : fetchBootProfile(this.fetcher, imageId).then(
          (profile) => {
            if (profile) {
              stats.packs = profile.packs.length;
              void prefetchBootPacks(profile, this.fetcher, this.cache).then((r) => {
                stats.chunksPrefetched = r.inserted;
                if (r.failedPacks)
                  console.warn(`worker: ${r.failedPacks} boot pack(s) of ${imageId.slice(0, 12)} failed: ${r.errors.join("; ")}`);
              });
            }
            return profile;
          },
          (e) => {
            console.warn(`worker: cannot read the boot profile of ${imageId.slice(0, 12)}: ${e}`);
            return null;
          },
        );
    await detachStale(mountpoint);
    fs.mkdirSync(mountpoint, { recursive: true });
    const manifest = await fetchManifest(this.fetcher, imageId);
    const indexFile = path.join(dir, "index.tsv");
    await writeDaemonIndex(manifest, indexFile);

    let recorder: AccessRecorder | null = null;
    const readahead = new Readahead(manifest, this.cache);
    const mounted = await mountImage({
      indexFile,
      cacheDir: this.cache.dir,
      mountpoint,
      fetchChunk: (hash) => readahead.locate(hash),
      onFetch: (hash) => recorder?.record(hash),
    });
    if (!forRestore && !(await bootProfile)) {
      // Nobody has booted this image yet: what the daemon asks for now is its boot set.
      // The kernel has not started, so the recording covers its whole boot.
      stats.recording = true;
      recorder = new AccessRecorder(imageId, { manifest });
      const r = recorder;
      setTimeout(() => {
        recorder = null;
        void this.publish(r).catch((e) => console.warn(`worker: publishing the boot profile of ${imageId.slice(0, 12)} failed: ${e}`));
      }, this.opts.profileWindowMs ?? 30_000).unref();
    }
    return mounted;
  }

  private async publish(recorder: AccessRecorder): Promise<void> {
    const profile = recorder.finish();
    if (profile.chunks.length === 0) return;
    const readChunk = (hash: string) => this.cache.read(hash);
    const published = await publishBootProfile(profile, readChunk, this.fetcher);
    console.log(
      `worker: published the boot profile of ${profile.imageId.slice(0, 12)}: ${profile.chunks.length} chunks in ${published.packs.length} packs`,
    );
  }
}

/** A worker that crashed may have left a dead FUSE mount ("transport endpoint is not connected"). */
async function detachStale(mountpoint: string): Promise<void> {
  const mounts = await fs.promises.readFile("/proc/mounts", "utf8").catch(() => "");
  if (!mounts.split("\n").some((l) => l.split(" ")[1] === mountpoint)) return;
  await run("umount", ["-l", mountpoint]).catch(() => {});
}
