// Images the gateway offers to workers, built from the specs in images/ and ingested into the
// content-addressed store; workers attach them lazily by image id. Every build and ingest is
// cached by the hash of what went into it, so a restart does no work for unchanged specs.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { StoreChunkSource, fetchManifest, ingestDirectory, ingestLayer, type BlobStore } from "@cellar/fs-client";
import { loadImageSpecs, type ImageSpec } from "./image-specs";

const run = promisify(execFile);

export interface CatalogImage {
  name: string;
  description: string;
  /** Hash of the manifest: what workers attach. */
  imageId: string;
  /** Hash of everything the image was built from. */
  specHash: string;
  warmup: string[];
}

export interface ImageCatalog {
  /** Image id (hash of its manifest) of a named image. */
  imageId(name: string): string | undefined;
  get(name: string): CatalogImage | undefined;
  list(): CatalogImage[];
}

const STAMP_FILE = "etc/cellar/image-stamp";
/** Bump when building a layer changes in a way that should rebuild existing layered images. */
const LAYER_BUILDER_VERSION = 1;
const SCRIPTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../../scripts");

export interface CatalogOptions {
  cacheDir: string;
  store: BlobStore;
  specsDir: string;
  /** Build layered images that are missing (root, Debian mirror). Off: such images are left out with a warning. */
  build?: boolean;
  log?: (line: string) => void;
}

export async function loadImageCatalog(opts: CatalogOptions): Promise<ImageCatalog> {
  const log = opts.log ?? console.log;
  const images = new Map<string, CatalogImage>();
  for (const spec of loadImageSpecs(opts.specsDir)) {
    try {
      const image = spec.debian ? await rootImage(spec, opts, log) : await layeredImage(spec, images.get(spec.from!), opts, log);
      if (image) images.set(spec.name, image);
    } catch (err) {
      if (spec.name === "base") throw err;
      log(`gateway: image ${spec.name} is unavailable: ${(err as Error).message}`);
    }
  }
  return {
    imageId: (name) => images.get(name)?.imageId,
    get: (name) => images.get(name),
    list: () => [...images.values()],
  };
}

interface Record {
  specHash: string;
  imageId: string;
}

function recordPath(cacheDir: string, specHash: string): string {
  return path.join(cacheDir, "images", "specs", `${specHash}.json`);
}

async function cached(opts: CatalogOptions, specHash: string): Promise<string | null> {
  const rec = JSON.parse(readOrNull(recordPath(opts.cacheDir, specHash)) ?? "null") as Record | null;
  return rec && (await opts.store.has(rec.imageId)) ? rec.imageId : null;
}

function remember(opts: CatalogOptions, specHash: string, imageId: string): void {
  const file = recordPath(opts.cacheDir, specHash);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ specHash, imageId } satisfies Record));
}

const hashOf = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

/** The debootstrapped tree scripts/build-base-image.sh made; its stamp says what it was built from. */
async function rootImage(spec: ImageSpec, opts: CatalogOptions, log: (l: string) => void): Promise<CatalogImage> {
  const rootfs = path.join(opts.cacheDir, "images", spec.name, "rootfs");
  const stamp = readOrNull(path.join(rootfs, STAMP_FILE))?.trim();
  if (!stamp) throw new Error(`image ${spec.name} is not built (no ${STAMP_FILE} under ${rootfs}); run scripts/build-base-image.sh`);
  const specHash = hashOf({ stamp, spec });
  const ingestedFile = path.join(opts.cacheDir, "images", spec.name, "ingested.json");
  const earlier = JSON.parse(readOrNull(ingestedFile) ?? "null") as { stamp: string; imageId: string } | null;
  let imageId =
    (await cached(opts, specHash)) ?? (earlier?.stamp === stamp && (await opts.store.has(earlier.imageId)) ? earlier.imageId : null);
  if (imageId) remember(opts, specHash, imageId);
  else {
    const started = Date.now();
    log(`gateway: ingesting image ${spec.name} into the content store (once per image build)…`);
    const result = await ingestDirectory(rootfs, opts.store);
    imageId = result.imageId;
    log(
      `gateway: image ${spec.name} = ${imageId.slice(0, 12)} (${result.stats.files} files, ` +
        `${(result.stats.logicalBytes / 2 ** 30).toFixed(2)} GiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    remember(opts, specHash, imageId);
    // Kept for the benchmarks, which attach the base image directly.
    fs.writeFileSync(ingestedFile, JSON.stringify({ stamp, imageId }));
  }
  return { name: spec.name, description: spec.description, imageId, specHash, warmup: spec.warmup };
}

/** Parent's tree + the spec's packages, installed in an overlay; only the overlay's upper dir is ingested. */
async function layeredImage(
  spec: ImageSpec,
  parent: CatalogImage | undefined,
  opts: CatalogOptions,
  log: (l: string) => void,
): Promise<CatalogImage | null> {
  if (!parent) throw new Error(`its parent ${spec.from} is unavailable`);
  const specHash = hashOf({ builder: LAYER_BUILDER_VERSION, parent: parent.imageId, packages: spec.packages });
  const image = { name: spec.name, description: spec.description, specHash, warmup: spec.warmup };
  const hit = await cached(opts, specHash);
  if (hit) return { ...image, imageId: hit };
  if (!opts.build) {
    log(`gateway: image ${spec.name} is not built yet; \`npm start\` builds it`);
    return null;
  }
  // The layer is built over the parent's tree on disk, which only root images keep.
  const parentRoot = rootOf(opts.cacheDir, parent.name);
  const out = path.join(opts.cacheDir, "images", spec.name, "layer");
  const started = Date.now();
  log(`gateway: building image ${spec.name} (${parent.name} + ${spec.packages!.join(" ")})…`);
  await run("bash", [path.join(SCRIPTS, "build-image-layer.sh"), parentRoot, out, ...spec.packages!], { maxBuffer: 64 * 2 ** 20 });
  const parentManifest = await fetchManifest(new StoreChunkSource(opts.store), parent.imageId);
  const result = await ingestLayer(path.join(out, "upper"), parentManifest, opts.store);
  fs.rmSync(out, { recursive: true, force: true });
  remember(opts, specHash, result.imageId);
  log(
    `gateway: image ${spec.name} = ${result.imageId.slice(0, 12)} (${(result.stats.newBytes / 2 ** 20).toFixed(1)} MiB new, ` +
      `${result.whiteouts.length} deletions, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  return { ...image, imageId: result.imageId };
}

function rootOf(cacheDir: string, name: string): string {
  const root = path.join(cacheDir, "images", name, "rootfs");
  if (!fs.existsSync(path.join(root, STAMP_FILE))) throw new Error(`layers build on a root image's tree; ${root} is missing`);
  return root;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}
