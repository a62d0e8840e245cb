import { createHash } from "node:crypto";
import type { ChunkCache } from "../cache/chunk-cache";
import { decodePack, encodePack } from "../cache/pack-file";
import type { ChunkSource } from "../fetch/chunk-source";
import { Limiter } from "../fetch/limiter";
import { isHash } from "../manifest/manifest";
import { compressChunk } from "../store/codec";
import type { AccessProfile } from "./access-profile";

/*
 * An image's boot profile, published to the CAS so that every worker's first attach can use it.
 *
 * Measured before packs (bench lazyfs): a cold attach spent most of its 6-8 s fetching ~860 small
 * files one by one, each on the import path of the booting kernel, so each round trip was paid in
 * series. Prefetching them file by file in parallel still took 3-4 s. Packing the boot set into a
 * few multi-MiB blobs turns that into a handful of parallel requests, the way eStargz puts a
 * layer's prioritized files first so one range request brings them all.
 */

/**
 * What the CAS holds under `boot-profile/<imageId>`: the boot set in first-read order, cut into
 * packs of consecutive chunks (`chunks` of them each), so a reader knows what each pack brings
 * before it arrives.
 */
export interface BootProfile {
  version: 3;
  imageId: string;
  chunks: string[];
  packs: { hash: string; chunks: number }[];
  recordedAt: string;
}

/** Reads the CAS: verified blobs and refs. */
export interface CasReader extends ChunkSource {
  fetchRef(name: string): Promise<string | null>;
}

/** Writes the CAS: blobs checked against their hash by the receiver, and refs. */
export interface CasWriter {
  putBlob(hash: string, compressed: Buffer): Promise<void>;
  putRef(name: string, hash: string): Promise<void>;
}

export const bootProfileRef = (imageId: string) => `boot-profile/${imageId}`;

export interface PublishOptions {
  /** Uncompressed bytes per pack: several packs so a worker fetches and inflates them in parallel. Default 4 MiB. */
  packBytes?: number;
}

/**
 * Packs a recorded first boot and publishes it: pack blobs, then the profile blob, then the ref,
 * so a reader that sees the ref finds everything it names.
 */
export async function publishBootProfile(
  profile: AccessProfile,
  readChunk: (hash: string) => Promise<Buffer>,
  cas: CasWriter,
  options: PublishOptions = {},
): Promise<BootProfile> {
  const target = options.packBytes ?? 4 * 2 ** 20;
  const packs: BootProfile["packs"] = [];
  let members: { hash: string; data: Buffer }[] = [];
  let size = 0;
  const flush = async () => {
    if (members.length === 0) return;
    const pack = encodePack(members);
    const hash = createHash("sha256").update(pack).digest("hex");
    await cas.putBlob(hash, await compressChunk(pack));
    packs.push({ hash, chunks: members.length });
    members = [];
    size = 0;
  };
  for (const hash of profile.chunks) {
    const data = await readChunk(hash);
    if (size > 0 && size + data.length > target) await flush();
    members.push({ hash, data });
    size += data.length;
  }
  await flush();
  const boot: BootProfile = { version: 3, imageId: profile.imageId, chunks: profile.chunks, packs, recordedAt: profile.recordedAt };
  const doc = Buffer.from(JSON.stringify(boot));
  const docHash = createHash("sha256").update(doc).digest("hex");
  await cas.putBlob(docHash, await compressChunk(doc));
  await cas.putRef(bootProfileRef(profile.imageId), docHash);
  return boot;
}

/** The image's published boot profile, or null when none was published or it is unreadable. */
export async function fetchBootProfile(cas: CasReader, imageId: string): Promise<BootProfile | null> {
  const docHash = await cas.fetchRef(bootProfileRef(imageId));
  if (!docHash) return null;
  try {
    const p = JSON.parse((await cas.fetchChunk(docHash)).toString("utf8")) as BootProfile;
    const ok =
      p.version === 3 &&
      p.imageId === imageId &&
      Array.isArray(p.chunks) &&
      p.chunks.every(isHash) &&
      Array.isArray(p.packs) &&
      p.packs.every((k) => isHash(k?.hash) && Number.isSafeInteger(k.chunks) && k.chunks > 0) &&
      p.packs.reduce((n, k) => n + k.chunks, 0) === p.chunks.length;
    return ok ? p : null;
  } catch {
    return null;
  }
}

export interface PackPrefetchResult {
  packs: number;
  failedPacks: number;
  inserted: number;
  alreadyCached: number;
  errors: string[];
}

/**
 * Fetches every pack in parallel and puts its chunks in the cache. The cache is told up front
 * which chunks are coming, so a kernel booting meanwhile waits for the pack that brings a chunk
 * instead of fetching it a second time: boot and prefetch overlap. Best effort: a pack that fails
 * is reported, not thrown, and its chunks are then fetched on demand.
 */
export async function prefetchBootPacks(
  profile: BootProfile,
  cas: ChunkSource,
  cache: ChunkCache,
  options: { parallelism?: number } = {},
): Promise<PackPrefetchResult> {
  const result: PackPrefetchResult = { packs: profile.packs.length, failedPacks: 0, inserted: 0, alreadyCached: 0, errors: [] };
  const limiter = new Limiter(options.parallelism ?? 4);
  await cache.open();
  let offset = 0;
  const jobs = profile.packs.map((pack) => {
    const members = profile.chunks.slice(offset, (offset += pack.chunks));
    const job = limiter.run(async () => {
      try {
        const bytes = await cas.fetchChunk(pack.hash);
        const packed = await decodePack(bytes);
        const added = await cache.insertPack(pack.hash, bytes, packed);
        result.inserted += added;
        result.alreadyCached += packed.length - added;
      } catch (err) {
        result.failedPacks++;
        result.errors.push(`${pack.hash}: ${(err as Error).message}`);
      }
    });
    cache.expect(members, job);
    return job;
  });
  await Promise.all(jobs);
  return result;
}
