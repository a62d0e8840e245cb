// Attaches images lazily: the worker fetches only an image's manifest, mounts it read-only through
// the native FUSE daemon, and fetches each chunk from the gateway's content store the first time
// a sandbox reads it, into a cache every sandbox on this worker shares. One mount per image.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import {
  AccessRecorder, BlobFetcher, ChunkCache, ProfileStore, fetchManifest, mountImage, prefetch, writeDaemonIndex,
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

export class ImageAttacher {
  private readonly fetcher: BlobFetcher;
  private readonly cache: ChunkCache;
  private readonly profiles: ProfileStore;
  private readonly mounts = new Map<string, Promise<MountedImage>>();

  constructor(private readonly opts: ImageAttacherOptions) {
    this.fetcher = new BlobFetcher({
      baseUrl: opts.gatewayUrl,
      authorization: `Bearer ${opts.secret}`,
      onFault: (f) => console.error(`worker: content store fault: ${JSON.stringify(f)}`),
    });
    this.cache = new ChunkCache(path.join(opts.cacheDir, "chunks"), { maxBytes: opts.cacheMaxBytes, source: this.fetcher });
    this.profiles = new ProfileStore(path.join(opts.cacheDir, "profiles"));
  }

  /** The read-only root filesystem of `imageId`, mounted on first use. */
  attach(imageId: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(imageId)) return Promise.reject(new Error(`invalid image id ${JSON.stringify(imageId)}`));
    let mounted = this.mounts.get(imageId);
    if (!mounted) {
      mounted = this.mount(imageId);
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

  private async mount(imageId: string): Promise<MountedImage> {
    const dir = path.join(this.opts.home, "images", imageId.slice(0, 16));
    const mountpoint = path.join(dir, "root");
    await detachStale(mountpoint);
    fs.mkdirSync(mountpoint, { recursive: true });
    const manifest = await fetchManifest(this.fetcher, imageId);
    const indexFile = path.join(dir, "index.tsv");
    await writeDaemonIndex(manifest, indexFile);

    // A known first-boot set is fetched in parallel while the kernel boots; otherwise record one.
    const profile = await this.profiles.load(imageId);
    let recorder: AccessRecorder | null = null;
    if (profile) {
      void prefetch(profile, this.cache).catch((e) => console.warn(`worker: prefetch of ${imageId.slice(0, 12)} failed: ${e}`));
    } else {
      recorder = new AccessRecorder(imageId, { manifest });
      const r = recorder;
      setTimeout(() => void this.profiles.save(r.finish()).catch(() => {}), this.opts.profileWindowMs ?? 30_000).unref();
    }
    return mountImage({
      indexFile, cacheDir: this.cache.dir, mountpoint,
      fetchChunk: async (hash) => { await this.cache.ensure(hash); },
      onFetch: (hash) => recorder?.record(hash),
    });
  }
}

/** A worker that crashed may have left a dead FUSE mount ("transport endpoint is not connected"). */
async function detachStale(mountpoint: string): Promise<void> {
  const mounts = await fs.promises.readFile("/proc/mounts", "utf8").catch(() => "");
  if (!mounts.split("\n").some((l) => l.split(" ")[1] === mountpoint)) return;
  await run("umount", ["-l", mountpoint]).catch(() => {});
}
