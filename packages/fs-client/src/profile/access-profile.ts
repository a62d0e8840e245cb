import type { ChunkCache } from "../cache/chunk-cache";
import type { Manifest } from "../manifest/manifest";

/** The chunks an image read during its first boot, in first-access order. */
export interface AccessProfile {
  version: 1;
  imageId: string;
  chunks: string[];
  recordedAt: string;
}

export interface AccessRecorderOptions {
  /**
   * Record only chunks of this manifest. The cache is shared by every sandbox on a worker, so
   * without it a recorder following the cache also hears other images booting at the same time.
   */
  manifest?: Manifest;
}

export class AccessRecorder {
  private readonly seen = new Set<string>();
  private readonly allowed: Set<string> | null;
  private readonly detachers: (() => void)[] = [];

  constructor(
    readonly imageId: string,
    options: AccessRecorderOptions = {},
  ) {
    this.allowed = options.manifest ? new Set(options.manifest.entries.flatMap((e) => e.chunks ?? [])) : null;
  }

  record(hash: string): void {
    if (this.allowed && !this.allowed.has(hash)) return;
    this.seen.add(hash); // a Set keeps first-insertion order
  }

  /** Records every chunk the cache is asked for until `finish()`. */
  follow(cache: ChunkCache): void {
    this.detachers.push(cache.onAccess((hash) => this.record(hash)));
  }

  finish(): AccessProfile {
    for (const detach of this.detachers.splice(0)) detach();
    return { version: 1, imageId: this.imageId, chunks: [...this.seen], recordedAt: new Date().toISOString() };
  }
}
