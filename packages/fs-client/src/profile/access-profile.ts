import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ChunkCache } from "../cache/chunk-cache";
import { isHash, type Manifest } from "../manifest/manifest";

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
    this.allowed = options.manifest
      ? new Set(options.manifest.entries.flatMap((e) => e.chunks ?? []))
      : null;
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

/** Profiles as `<dir>/<imageId>.json`; an image id names immutable content, so one per id. */
export class ProfileStore {
  constructor(readonly dir: string) {}

  async save(profile: AccessProfile): Promise<void> {
    if (!isHash(profile.imageId)) throw new Error(`not an image id: ${profile.imageId}`);
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${profile.imageId}.json`);
    const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(profile));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Null when the image has no profile yet (its first boot) or the file is unreadable. */
  async load(imageId: string): Promise<AccessProfile | null> {
    if (!isHash(imageId)) throw new Error(`not an image id: ${imageId}`);
    let text: string;
    try {
      text = await readFile(join(this.dir, `${imageId}.json`), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    try {
      const p = JSON.parse(text) as AccessProfile;
      if (p.version !== 1 || p.imageId !== imageId || !Array.isArray(p.chunks) || !p.chunks.every(isHash)) return null;
      return p;
    } catch {
      return null;
    }
  }
}
