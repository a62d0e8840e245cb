// Puts the images `npm start` already ingested into the local content store ($CELLAR_CACHE/cas)
// into the cluster's S3 bucket by copying their blobs as they are: no rebuild of layered images
// (which needs apt and a Debian mirror) and no second compression of the base image's 50k files.
// The manifest is copied last, so an image whose manifest is in the target has all its chunks
// there, and a copy cut short is finished by the next run.
import { type BlobStore, fetchManifest, StoreChunkSource } from "@cellar/fs-client";

export interface CopyImagesResult {
  images: number;
  /** Blobs copied (those the target already had are not counted). */
  blobs: number;
  bytes: number;
}

export async function copyImages(opts: {
  from: BlobStore;
  to: BlobStore;
  imageIds: string[];
  concurrency?: number;
  log?: (line: string) => void;
}): Promise<CopyImagesResult> {
  const result: CopyImagesResult = { images: 0, blobs: 0, bytes: 0 };
  // Layered images share most chunks with their parent: each is asked about once.
  const known = new Set<string>();
  for (const imageId of new Set(opts.imageIds)) {
    if (await opts.to.has(imageId)) continue;
    const started = Date.now();
    const manifest = await fetchManifest(new StoreChunkSource(opts.from), imageId);
    const chunks = [...new Set(manifest.entries.flatMap((e) => e.chunks ?? []))];
    opts.log?.(`copying image ${imageId.slice(0, 12)} into the cluster's store (${chunks.length} blobs, once)…`);
    let next = 0;
    let copied = 0;
    const copyOne = async (hash: string) => {
      if (known.has(hash)) return;
      if (!(await opts.to.has(hash))) {
        const blob = await opts.from.get(hash);
        await opts.to.put(hash, blob);
        result.blobs++;
        result.bytes += blob.length;
      }
      known.add(hash);
    };
    await Promise.all(
      Array.from({ length: opts.concurrency ?? 16 }, async () => {
        while (next < chunks.length) {
          await copyOne(chunks[next++]!);
          if (++copied % 5000 === 0) opts.log?.(`  ${copied} / ${chunks.length}`);
        }
      }),
    );
    await copyOne(imageId);
    result.images++;
    opts.log?.(`image ${imageId.slice(0, 12)} copied in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return result;
}
