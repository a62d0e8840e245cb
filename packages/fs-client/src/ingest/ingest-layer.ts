import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Manifest } from "../manifest/manifest";
import type { BlobStore } from "../store/blob-store";
import { fileTotals, storeManifest, type IngestOptions, type IngestResult } from "./image-result";
import { ingestDirectory } from "./ingest-directory";

/**
 * An image made of a parent image plus an overlayfs upper directory (what `apt-get install` in
 * an overlay mount over the parent's tree wrote): entries in the layer replace the parent's, and
 * whiteouts (character devices 0/0) delete a path with everything under it. Only the layer's
 * files are read and stored; the parent's chunks are shared as they are.
 *
 * Not handled: overlayfs "opaque" directories (a directory deleted and made again), which are
 * marked by an xattr; a package install does not produce them in practice.
 */
export async function ingestLayer(
  upperDir: string,
  parent: Manifest,
  store: BlobStore,
  options: IngestOptions = {},
): Promise<IngestResult & { whiteouts: string[] }> {
  const whiteouts = await findWhiteouts(upperDir);
  const isWhiteout = new Set(whiteouts.map((w) => `skipped special file ${w}`));
  const layer = await ingestDirectory(upperDir, store, {
    ...options,
    chunkSize: parent.chunkSize,
    onWarning: (m) => (isWhiteout.has(m) ? undefined : (options.onWarning ?? console.warn)(m)),
  });
  const replaced = new Set(layer.manifest.entries.map((e) => e.path));
  const deleted = (path: string) => whiteouts.some((w) => path === w || path.startsWith(w + "/"));
  const entries = [
    ...parent.entries.filter((e) => !replaced.has(e.path) && !deleted(e.path)),
    ...layer.manifest.entries.filter((e) => e.path !== "/"),
  ];
  const root = parent.entries.find((e) => e.path === "/");
  if (root) entries.push(root);
  const { manifest, imageId } = await storeManifest(entries, parent.chunkSize, store);
  return {
    manifest,
    imageId,
    whiteouts,
    stats: { ...layer.stats, ...fileTotals(manifest) },
    warnings: layer.warnings.filter((w) => !isWhiteout.has(w)),
  };
}

/** Image paths of the layer's whiteouts. */
async function findWhiteouts(root: string, path = "/"): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(root, path))).sort()) {
    const p = path === "/" ? `/${name}` : `${path}/${name}`;
    const st = await lstat(join(root, p));
    if (st.isCharacterDevice() && st.rdev === 0) out.push(p);
    else if (st.isDirectory()) out.push(...(await findWhiteouts(root, p)));
  }
  return out;
}
