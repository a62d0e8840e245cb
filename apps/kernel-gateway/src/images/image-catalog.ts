// Images the gateway offers to workers, built from the specs in images/ and ingested into the
// content-addressed store; workers attach them lazily by image id. Every build and ingest is
// cached by the hash of what went into it, so a restart does no work for unchanged specs.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { StoreChunkSource, fetchManifest, ingestDirectory, ingestLayer, type BlobStore } from "@cellar/fs-client";
import { BuildLogs, type BuildLog } from "./build-logs";
import { loadImageSpecs, loadUploadedSpecs, readImageSpec, type ImageSpec } from "./image-specs";
import { currentLock, installPipLock, resolvePipLock } from "./pip-layer";
import { lockFileOf, pipCacheKey, specRequirements } from "./pip-lock";

const run = promisify(execFile);

export interface CatalogImage {
  name: string;
  description: string;
  /** Hash of the manifest: what workers attach. */
  imageId: string;
  /** Hash of everything the image was built from. */
  specHash: string;
  warmup: string[];
  /** A layer's parent image's name. */
  parent?: string;
  /** What a layer adds: Debian package names, or pip's locked `name==version`s. */
  packages?: string[];
  /** A pip layer: it only adds files under /usr/local, so its parent's warm snapshot restores
   * onto it (a Debian layer may change the parent's own files). */
  pip?: boolean;
  /** Bytes the layer added to the content store when it was built (absent for root images). */
  layerBytes?: number;
}

export interface ImageCatalog {
  /** Image id (hash of its manifest) of a named image. */
  imageId(name: string): string | undefined;
  get(name: string): CatalogImage | undefined;
  list(): CatalogImage[];
  /** Builds (or finds cached) the image a spec file describes, and offers it from then on. A
   * failed build leaves the catalog as it was. */
  build(specFile: string, log?: (line: string) => void): Promise<CatalogImage>;
  /** What this process's last check or build of the image printed (the Images page). */
  buildLog(name: string): BuildLog | undefined;
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
  /** CELLAR_PIP_INDEX_URL: where pip layers resolve (default PyPI). */
  pipIndex?: string;
  /** CELLAR_IMAGE_LAYER_MAX_MB: a bigger pip layer is refused. */
  maxLayerMb?: number;
}

export async function loadImageCatalog(opts: CatalogOptions): Promise<ImageCatalog> {
  const log = opts.log ?? console.log;
  const images = new Map<string, CatalogImage>();
  const buildLogs = new BuildLogs();
  // Every line still goes to the gateway's log; the image's own copy is what the page shows.
  const logged = async <T>(name: string, to: (line: string) => void, work: (log: (line: string) => void) => Promise<T>) => {
    const entry = buildLogs.begin(name);
    try {
      const result = await work((line) => {
        entry.add(line);
        to(line);
      });
      entry.end(result ? "built" : "failed");
      return result;
    } catch (err) {
      entry.end("failed", (err as Error).message);
      throw err;
    }
  };
  for (const spec of loadImageSpecs(opts.specsDir)) {
    try {
      const image = await logged(spec.name, log, (specLog) =>
        spec.debian ? rootImage(spec, opts, specLog) : layeredImage(spec, images.get(spec.from!), opts, specLog),
      );
      if (image) images.set(spec.name, image);
    } catch (err) {
      if (spec.name === "base") throw err;
      log(`gateway: image ${spec.name} is unavailable: ${(err as Error).message}`);
    }
  }
  // Images built through the API come back after a restart: notebooks chose them by name. Their
  // builds are cached, so this finds them; the repository's specs win a name both have.
  const unreadable = (file: string, err: Error) => log(`gateway: the uploaded image spec ${file} is unavailable: ${err.message}`);
  for (const spec of loadUploadedSpecs(opts.cacheDir, unreadable)) {
    if (images.has(spec.name) || spec.debian) continue;
    try {
      const image = await logged(spec.name, log, (specLog) => layeredImage(spec, images.get(spec.from!), opts, specLog));
      if (image) images.set(spec.name, image);
    } catch (err) {
      log(`gateway: image ${spec.name} is unavailable: ${(err as Error).message}`);
    }
  }
  return {
    imageId: (name) => images.get(name)?.imageId,
    get: (name) => images.get(name),
    list: () => [...images.values()],
    build: async (specFile, buildLog = log) => {
      const spec = readImageSpec(specFile);
      if (spec.debian) throw new Error(`image spec ${spec.name}: root images are built by scripts/build-base-image.sh`);
      const image = await logged(spec.name, buildLog, (specLog) =>
        layeredImage(spec, images.get(spec.from!), { ...opts, build: true }, specLog),
      );
      if (!image) throw new Error(`image ${spec.name} was not built`);
      images.set(spec.name, image);
      return image;
    },
    buildLog: (name) => buildLogs.get(name),
  };
}

interface Record {
  specHash: string;
  imageId: string;
  parent?: string;
  packages?: string[];
  layerBytes?: number;
}

function recordPath(cacheDir: string, specHash: string): string {
  return path.join(cacheDir, "images", "specs", `${specHash}.json`);
}

async function cachedRecord(opts: CatalogOptions, specHash: string): Promise<Record | null> {
  const rec = JSON.parse(readOrNull(recordPath(opts.cacheDir, specHash)) ?? "null") as Record | null;
  return rec && (await opts.store.has(rec.imageId)) ? rec : null;
}

async function cached(opts: CatalogOptions, specHash: string): Promise<string | null> {
  return (await cachedRecord(opts, specHash))?.imageId ?? null;
}

function remember(opts: CatalogOptions, specHash: string, imageId: string, more: Omit<Record, "specHash" | "imageId"> = {}): void {
  const file = recordPath(opts.cacheDir, specHash);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Written whole, then renamed: a reader never sees half a record.
  fs.writeFileSync(`${file}.tmp${process.pid}`, JSON.stringify({ specHash, imageId, ...more } satisfies Record));
  fs.renameSync(`${file}.tmp${process.pid}`, file);
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
  const pipPackages = spec.pip?.length ? (currentLock(spec, specRequirements(spec))?.packages ?? []) : [];
  const packages = [...spec.debian!.packages, ...pipPackages.map((p) => `${p.name}==${p.version}`)];
  return { name: spec.name, description: spec.description, imageId, specHash, warmup: spec.warmup, packages };
}

/** Parent's tree + the spec's packages, installed in an overlay; only the overlay's upper dir is ingested. */
async function layeredImage(
  spec: ImageSpec,
  parent: CatalogImage | undefined,
  opts: CatalogOptions,
  log: (l: string) => void,
): Promise<CatalogImage | null> {
  if (!parent) throw new Error(`its parent ${spec.from} is unavailable`);
  if (spec.pip?.length || spec.requirements) return pipImage(spec, parent, opts, log);
  const specHash = hashOf({ builder: LAYER_BUILDER_VERSION, parent: parent.imageId, packages: spec.packages });
  const image = {
    name: spec.name,
    description: spec.description,
    specHash,
    warmup: spec.warmup,
    parent: parent.name,
    packages: spec.packages,
  };
  const hit = await cachedRecord(opts, specHash);
  if (hit) return { ...image, imageId: hit.imageId, layerBytes: hit.layerBytes };
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
  remember(opts, specHash, result.imageId, { parent: parent.name, packages: spec.packages, layerBytes: result.stats.newBytes });
  log(
    `gateway: image ${spec.name} = ${result.imageId.slice(0, 12)} (${(result.stats.newBytes / 2 ** 20).toFixed(1)} MiB new, ` +
      `${result.whiteouts.length} deletions, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  return { ...image, imageId: result.imageId, layerBytes: result.stats.newBytes };
}

/** Builds in progress in this process, by cache key: a second caller waits for the first's. The
 * gateway is the one process that builds while it runs (ingest-images runs before it starts). */
const building = new Map<string, Promise<CatalogImage>>();

/** Parent's tree + the spec's pip packages, from its lock (resolved first when it has none that
 * applies); cached by requirements + lock + parent image id. */
async function pipImage(
  spec: ImageSpec,
  parent: CatalogImage,
  opts: CatalogOptions,
  log: (l: string) => void,
): Promise<CatalogImage | null> {
  const requirements = specRequirements(spec);
  const lock = currentLock(spec, requirements);
  const base = { name: spec.name, description: spec.description, warmup: spec.warmup, parent: parent.name, pip: true };
  if (lock) {
    const specHash = pipCacheKey(parent.imageId, requirements, lock);
    const hit = await cachedRecord(opts, specHash);
    if (hit) return { ...base, specHash, imageId: hit.imageId, packages: hit.packages, layerBytes: hit.layerBytes };
  }
  if (!opts.build) {
    log(`gateway: image ${spec.name} is not built yet; \`npm start\` builds it`);
    return null;
  }
  const key = pipCacheKey(parent.imageId, requirements, lock);
  const inflight = building.get(key);
  if (inflight) {
    log(`gateway: image ${spec.name} is being built already; waiting for that build`);
    return inflight;
  }
  const promise = buildPip(spec, parent, requirements, lock, opts, log).finally(() => building.delete(key));
  building.set(key, promise);
  return promise;
}

async function buildPip(
  spec: ImageSpec,
  parent: CatalogImage,
  requirements: string[],
  earlier: ReturnType<typeof currentLock>,
  opts: CatalogOptions,
  log: (l: string) => void,
): Promise<CatalogImage> {
  const started = Date.now();
  const build = {
    parentRoot: rootOf(opts.cacheDir, parent.name),
    parentName: parent.name,
    requirements,
    out: path.join(opts.cacheDir, "images", spec.name, `pip-${process.pid}-${started}`),
    index: opts.pipIndex,
    maxLayerMb: opts.maxLayerMb,
    log: (line: string) => log(`gateway: image ${spec.name}: ${line}`),
  };
  const lock = earlier ?? (await resolvePipLock(spec.name, build));
  if (!earlier && spec.file) fs.writeFileSync(lockFileOf(spec.file, spec.name), `${JSON.stringify(lock, null, 2)}\n`);
  const specHash = pipCacheKey(parent.imageId, requirements, lock);
  const packages = lock.packages.map((p) => `${p.name}==${p.version}`);
  const image = { name: spec.name, description: spec.description, warmup: spec.warmup, parent: parent.name, pip: true, specHash, packages };
  // A new lock can still name an image built before (another notebook, another machine's lock).
  const hit = await cachedRecord(opts, specHash);
  if (hit) {
    build.log(`those wheels are built into a layer already (${((hit.layerBytes ?? 0) / 2 ** 20).toFixed(1)} MB): nothing to install`);
    return { ...image, imageId: hit.imageId, layerBytes: hit.layerBytes };
  }
  try {
    await installPipLock(lock, build);
    const parentManifest = await fetchManifest(new StoreChunkSource(opts.store), parent.imageId);
    const result = await ingestLayer(path.join(build.out, "upper"), parentManifest, opts.store);
    remember(opts, specHash, result.imageId, { parent: parent.name, packages, layerBytes: result.stats.newBytes });
    log(
      `gateway: image ${spec.name} = ${result.imageId.slice(0, 12)} (${(result.stats.newBytes / 2 ** 20).toFixed(1)} MiB new, ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    return { ...image, imageId: result.imageId, layerBytes: result.stats.newBytes };
  } finally {
    fs.rmSync(build.out, { recursive: true, force: true });
  }
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
