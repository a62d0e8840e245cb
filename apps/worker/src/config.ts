// Worker settings from the environment, with the embedded single-machine defaults.
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface WorkerConfig {
  gatewayUrl: string;
  secret: string;
  workerId: string;
  home: string;
  cacheDir: string;
  stateRoot: string;
  platform: string;
  /** Bound on the shared chunk cache under cacheDir/chunks. */
  chunkCacheBytes: number;
  /** Start kernels from warm snapshots (kept under cacheDir/snapshots and in the CAS). */
  warmSnapshots: boolean;
  /** Kernels kept restored ahead of time per recently started image (CELLAR_KERNEL_POOL_SIZE); 0 none. */
  kernelPoolSize: number;
  /** Suspend a kernel after this long without activity (CELLAR_SUSPEND_AFTER_S); 0 never. */
  suspendAfterMs: number;
  /** On SIGTERM, how long busy kernels may finish before they are stopped (CELLAR_SHUTDOWN_GRACE_S). */
  shutdownGraceMs: number;
  /** How long kernels keep running while no gateway can be reached (CELLAR_GATEWAY_GRACE_S): a
   * gateway that restarts, or another replica, adopts them when this worker reconnects. */
  gatewayGraceMs: number;
  /** Port of the liveness/readiness server (CELLAR_WORKER_HEALTH_PORT); unset, there is none. */
  healthPort?: number;
  /** Local checkpoint copies of kernels this worker no longer holds go after this long, if the
   * CAS has them (CELLAR_LOCAL_CHECKPOINT_TTL_S, default 7 days). */
  localCheckpointTtlMs: number;
  /** CELLAR_WORKER_LABELS ("gpu=H100,gpus=2,zone=eu-1"): shown with the worker, and `gpu`/`gpus`
   * (`gpu-memory-bytes`) declare GPUs where the machine has none of its own (a CPU machine standing
   * in for a GPU class). */
  labels: Record<string, string>;
  /** Where other workers fetch the files of a kernel state move from this one: the port the move
   * server listens on (CELLAR_WORKER_MOVE_PORT; unset, any free one) and the host they reach it
   * at (CELLAR_WORKER_ADVERTISE_HOST; unset, this machine's first non-loopback IPv4 address, else
   * 127.0.0.1). */
  movePort: number;
  advertiseHost: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const secret = env.CELLAR_WORKER_SECRET;
  if (!secret) throw new Error("CELLAR_WORKER_SECRET is not set: the worker cannot authenticate to the gateway");
  const home = path.resolve(env.CELLAR_HOME ?? path.join(repoRoot, ".cellar"));
  return {
    gatewayUrl: env.CELLAR_GATEWAY_URL ?? "http://127.0.0.1:8800",
    secret,
    workerId: env.CELLAR_WORKER_ID ?? os.hostname(),
    home,
    cacheDir: path.resolve(env.CELLAR_CACHE ?? "/var/cache/cellar"),
    // runsc keeps container state here. Container ids must still be unique host-wide (runsc
    // clashes across roots), which the gateway's UUID session ids are.
    stateRoot: path.resolve(env.CELLAR_RUNSC_ROOT ?? path.join(home, "runsc")),
    platform: env.CELLAR_RUNSC_PLATFORM ?? "ptrace",
    chunkCacheBytes: Number(env.CELLAR_CHUNK_CACHE_GB ?? 20) * 2 ** 30,
    warmSnapshots: env.CELLAR_WARM_SNAPSHOTS !== "0",
    // One waiting kernel (about 180 MB while idle) per image covers a user opening notebooks one
    // after another on the embedded single machine; the pool refills in the background.
    kernelPoolSize: count(env, "CELLAR_KERNEL_POOL_SIZE", 1),
    suspendAfterMs: seconds(env, "CELLAR_SUSPEND_AFTER_S", 15 * 60) * 1000,
    shutdownGraceMs: seconds(env, "CELLAR_SHUTDOWN_GRACE_S", 5) * 1000,
    gatewayGraceMs: seconds(env, "CELLAR_GATEWAY_GRACE_S", 10 * 60) * 1000,
    healthPort: port(env, "CELLAR_WORKER_HEALTH_PORT"),
    localCheckpointTtlMs: seconds(env, "CELLAR_LOCAL_CHECKPOINT_TTL_S", 7 * 24 * 3600) * 1000,
    movePort: port(env, "CELLAR_WORKER_MOVE_PORT") ?? 0,
    advertiseHost: env.CELLAR_WORKER_ADVERTISE_HOST || firstExternalIPv4() || "127.0.0.1",
    labels: parseWorkerLabels(env.CELLAR_WORKER_LABELS ?? ""),
  };
}

function firstExternalIPv4(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces()))
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return undefined;
}

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

/** "gpu=H100,gpus=2,zone=eu-1" → {gpu: "H100", gpus: "2", zone: "eu-1"}; a malformed entry, a key
 * given twice or a GPU count or memory that is not a number throws, naming it. */
export function parseWorkerLabels(raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const bad = (why: string) =>
    new Error(`CELLAR_WORKER_LABELS: ${why} (expected key=value pairs separated by commas, e.g. "gpu=H100,gpus=2,zone=eu-1")`);
  for (const entry of raw.split(",")) {
    if (!entry.trim()) continue;
    const eq = entry.indexOf("=");
    const key = eq < 0 ? entry.trim() : entry.slice(0, eq).trim();
    const value = eq < 0 ? "" : entry.slice(eq + 1).trim();
    if (eq < 0 || !value) throw bad(`"${entry.trim()}" has no value`);
    if (!LABEL_KEY.test(key)) throw bad(`"${key}" is not a label name (letters, digits, . _ / -)`);
    if (key in labels) throw bad(`"${key}" is given twice`);
    labels[key] = value;
  }
  if (labels.gpus !== undefined && !/^(?:[1-9]|1[0-6])$/.test(labels.gpus))
    throw bad(`gpus must be a whole number from 1 to 16, not "${labels.gpus}"`);
  if (labels.gpus !== undefined && labels.gpu === undefined) throw bad("gpus is given without gpu (the model, e.g. gpu=H100)");
  if (labels["gpu-memory-bytes"] !== undefined && !/^\d+$/.test(labels["gpu-memory-bytes"]))
    throw bad(`gpu-memory-bytes must be a number of bytes, not "${labels["gpu-memory-bytes"]}"`);
  if (labels.gpu !== undefined && !/^[\w.\- ]{1,64}$/.test(labels.gpu))
    throw bad(`gpu must be a GPU model such as H100, not "${labels.gpu}"`);
  return labels;
}

function port(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number (1-65535), not "${raw}"`);
  return n;
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of seconds (0 or more), not "${raw}"`);
  return n;
}

function count(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number (0 or more), not "${raw}"`);
  return n;
}
