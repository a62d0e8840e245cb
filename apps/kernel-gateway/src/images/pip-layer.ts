// Builds a pip layer over a root image's tree, on the host (scripts/build-pip-layer.sh): resolve
// with the parent's own Python and its Debian packages visible (unless the spec's lock still
// applies), write the lock beside the spec, install exactly the locked wheels, refuse a layer over
// the size limit. Ingesting and caching are the catalog's (image-catalog.ts).
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { ImageSpec } from "./image-specs";
import {
  DEFAULT_PIP_INDEX,
  hashedRequirements,
  lockApplies,
  lockFileOf,
  lockFromReport,
  parseLock,
  pipFailure,
  simpleIndexFiles,
  type PipLock,
} from "./pip-lock";

const run = promisify(execFile);
const SCRIPT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../../scripts/build-pip-layer.sh");

export interface PipBuildOptions {
  /** The parent's root filesystem on disk. */
  parentRoot: string;
  parentName: string;
  requirements: string[];
  /** Scratch directory; its `upper` is the layer when this returns. */
  out: string;
  /** CELLAR_PIP_INDEX_URL. */
  index?: string;
  /** CELLAR_IMAGE_LAYER_MAX_MB. */
  maxLayerMb?: number;
  log: (line: string) => void;
}

/** The spec's lock if it has one that still applies to its requirements. */
export function currentLock(spec: ImageSpec, requirements: string[]): PipLock | null {
  if (!spec.file) return null;
  const file = lockFileOf(spec.file, spec.name);
  if (!fs.existsSync(file)) return null;
  const lock = parseLock(fs.readFileSync(file, "utf8"), file);
  return lockApplies(lock, requirements) ? lock : null;
}

/** Resolves pip's plan over the parent into a lock (the spec's file is not written here). */
export async function resolvePipLock(name: string, opts: PipBuildOptions): Promise<PipLock> {
  const index = opts.index ?? DEFAULT_PIP_INDEX;
  fs.mkdirSync(opts.out, { recursive: true });
  const reqFile = `${opts.out}.requirements.txt`;
  fs.writeFileSync(reqFile, `${opts.requirements.join("\n")}\n`);
  const started = Date.now();
  opts.log(`resolving ${opts.requirements.join(" ")} against ${index} over ${opts.parentName}…`);
  await script("resolve", opts, reqFile, index);
  const report = JSON.parse(fs.readFileSync(path.join(opts.out, "report.json"), "utf8"));
  const installed = JSON.parse(fs.readFileSync(path.join(opts.out, "installed.json"), "utf8"));
  fs.rmSync(opts.out, { recursive: true, force: true });
  fs.rmSync(reqFile, { force: true });
  const lock = lockFromReport(report, installed, { name, parent: opts.parentName, index, requirements: opts.requirements });
  opts.log(
    `resolved in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lock.packages.map((p) => `${p.name} ${p.version}`).join(", ") || "nothing new (the parent has it all)"}`,
  );
  return lock;
}

/** Installs the lock's wheels over the parent; returns the layer's size in bytes (opts.out/upper). */
export async function installPipLock(lock: PipLock, opts: PipBuildOptions): Promise<number> {
  const index = opts.index ?? DEFAULT_PIP_INDEX;
  const reqFile = `${opts.out}.hashed.txt`;
  fs.mkdirSync(path.dirname(reqFile), { recursive: true });
  fs.writeFileSync(reqFile, hashedRequirements(lock));
  const started = Date.now();
  opts.log(`installing ${lock.packages.length} wheels (--require-hashes --no-deps)…`);
  try {
    await script("install", opts, reqFile, index);
  } finally {
    fs.rmSync(reqFile, { force: true });
  }
  const bytes = treeBytes(path.join(opts.out, "upper"));
  const max = (opts.maxLayerMb ?? 2048) * 2 ** 20;
  opts.log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s: layer of ${mb(bytes)}`);
  if (bytes > max) {
    fs.rmSync(opts.out, { recursive: true, force: true });
    throw new Error(`the layer is ${mb(bytes)}, over the limit of ${mb(max)} (CELLAR_IMAGE_LAYER_MAX_MB)`);
  }
  return bytes;
}

async function script(mode: "resolve" | "install", opts: PipBuildOptions, reqFile: string, index: string): Promise<void> {
  try {
    await run("bash", [SCRIPT, mode, opts.parentRoot, opts.out, reqFile], {
      env: { ...process.env, CELLAR_PIP_INDEX_URL: index },
      maxBuffer: 64 * 2 ** 20,
    });
  } catch (err) {
    fs.rmSync(opts.out, { recursive: true, force: true });
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(await pipFailure(`${e.stdout ?? ""}\n${e.stderr ?? e.message}`, index, simpleIndexFiles(index)));
  }
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}
