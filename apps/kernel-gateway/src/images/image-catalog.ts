// Images the gateway offers to workers: each built root filesystem is ingested once into the
// content-addressed store, and workers attach it lazily by image id. The ingest is cached by the
// image's build stamp, so restarts do not walk the tree again.
import fs from "node:fs";
import path from "node:path";
import { ingestDirectory, type BlobStore } from "@cellar/fs-client";

export interface ImageCatalog {
  /** Image id (hash of its manifest) of a named image. */
  imageId(name: string): string | undefined;
}

const STAMP_FILE = "etc/cellar/image-stamp";

/** Ingests `<cacheDir>/images/<name>/rootfs` for each name unless its stamp was ingested before. */
export async function loadImageCatalog(cacheDir: string, store: BlobStore, names: string[], log = console.log): Promise<ImageCatalog> {
  const ids = new Map<string, string>();
  for (const name of names) {
    const rootfs = path.join(cacheDir, "images", name, "rootfs");
    const stamp = readOrNull(path.join(rootfs, STAMP_FILE));
    if (!stamp) throw new Error(`image ${name} is not built (no ${STAMP_FILE} under ${rootfs}); run scripts/build-base-image.sh`);
    const record = path.join(cacheDir, "images", name, "ingested.json");
    const previous = JSON.parse(readOrNull(record) ?? "null") as { stamp: string; imageId: string } | null;
    if (previous?.stamp === stamp.trim() && (await store.has(previous.imageId))) {
      ids.set(name, previous.imageId);
      continue;
    }
    const started = Date.now();
    log(`gateway: ingesting image ${name} into the content store (once per image build)…`);
    const result = await ingestDirectory(rootfs, store);
    log(`gateway: image ${name} = ${result.imageId.slice(0, 12)} (${result.stats.files} files, ` +
      `${(result.stats.logicalBytes / 2 ** 30).toFixed(2)} GiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    fs.writeFileSync(record, JSON.stringify({ stamp: stamp.trim(), imageId: result.imageId }));
    ids.set(name, result.imageId);
  }
  return { imageId: (name) => ids.get(name) };
}

function readOrNull(file: string): string | null {
  try { return fs.readFileSync(file, "utf8"); } catch { return null; }
}
