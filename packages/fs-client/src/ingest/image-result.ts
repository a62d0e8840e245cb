import { buildManifest, encodeManifest, imageIdOf, type Manifest, type ManifestEntry } from "../manifest/manifest";
import type { BlobStore } from "../store/blob-store";
import { compressChunk, type BlobCodec } from "../store/codec";
import type { ChunkWriter, IngestStats } from "./chunk-writer";

export interface IngestOptions {
  /** Bytes per chunk; files up to this size are one chunk. Default 4 MiB. */
  chunkSize?: number;
  /** Chunks compressed and written at once. Default 2. */
  parallelism?: number;
  /** How chunk blobs are compressed: "br" (default; images) or "lz4" (checkpoints, which must
   * inflate faster than a disk reads). The manifest blob is Brotli either way, and neither the
   * chunk hashes nor the image id depend on it. */
  codec?: BlobCodec;
  /** Told about each entry left out of the image. Default: console.warn. */
  onWarning?: (message: string) => void;
}

export interface IngestResult {
  manifest: Manifest;
  imageId: string;
  stats: IngestStats;
  warnings: string[];
}

/**
 * Builds the manifest and stores it as a blob keyed by the image id. The id is the sha256 of
 * the encoded manifest, so a worker fetches it like any chunk and the same check verifies it.
 */
export async function finishImage(
  entries: ManifestEntry[],
  writer: ChunkWriter,
  store: BlobStore,
  warnings: string[],
): Promise<IngestResult> {
  await writer.flush();
  const { manifest, imageId } = await storeManifest(entries, writer.chunkSize, store);
  return { manifest, imageId, stats: { ...writer.stats, ...fileTotals(manifest), skipped: warnings.length }, warnings };
}

/** Builds the manifest from `entries` and stores it under its image id (once). */
export async function storeManifest(
  entries: ManifestEntry[],
  chunkSize: number,
  store: BlobStore,
): Promise<{ manifest: Manifest; imageId: string }> {
  const manifest = buildManifest(entries, chunkSize);
  const encoded = encodeManifest(manifest);
  const imageId = imageIdOf(encoded);
  if (!(await store.has(imageId))) await store.put(imageId, await compressChunk(encoded));
  return { manifest, imageId };
}

/** Regular files in the manifest and the sum of their sizes. */
export function fileTotals(manifest: Manifest): { files: number; logicalBytes: number } {
  let files = 0;
  let logicalBytes = 0;
  for (const e of manifest.entries) {
    if (e.type !== "file") continue;
    files++;
    logicalBytes += e.size;
  }
  return { files, logicalBytes };
}

export function warner(options: IngestOptions): { warnings: string[]; warn: (message: string) => void } {
  const warnings: string[] = [];
  const sink = options.onWarning ?? ((m: string) => console.warn(`[fs-client ingest] ${m}`));
  return {
    warnings,
    warn(message) {
      warnings.push(message);
      sink(message);
    },
  };
}
