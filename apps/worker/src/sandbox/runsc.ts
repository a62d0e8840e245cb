// Thin wrappers over the runsc CLI. Every call shares one --root state directory so that `list`
// sees every sandbox this worker started (and can reap them after a crash).
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import type { SandboxCgroup } from "./sandbox-cgroup";
import { launchCommand } from "./sandbox-launcher";

export interface RunscConfig {
  /** Directory holding Cellar's sandbox state; runsc's own state goes in `<stateRoot>/runsc`. */
  stateRoot: string;
  /** gVisor platform. ptrace works everywhere; kvm hangs on the development machines. */
  platform?: string;
  runscPath?: string;
  /** Flags for this sandbox only (a GPU kernel's `--nvproxy`). */
  extraFlags?: string[];
}

export interface RunscContainer {
  id: string;
  pid: number;
  status: string;
  bundle: string;
}

export function runscRoot(stateRoot: string): string {
  return path.join(stateRoot, "runsc");
}

function globalFlags(cfg: RunscConfig): string[] {
  return [
    `--root=${runscRoot(cfg.stateRoot)}`,
    `--platform=${cfg.platform ?? "ptrace"}`,
    "--network=none",
    // runsc's cgroup handling needs a layout these hosts lack; the worker caps each sandbox's
    // memory with a cgroup of its own (sandbox-cgroup.ts) and each process with rlimits.
    "--ignore-cgroups",
    ...(cfg.extraFlags ?? []),
  ];
}

function runscCommand(cfg: RunscConfig, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cfg.runscPath ?? "runsc",
      [...globalFlags(cfg), ...args],
      { timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`runsc ${args[0]} failed: ${(stderr || err.message).trim()}`));
        else resolve(stdout);
      },
    );
  });
}

/** Starts `runsc run`; the container's stdin/stdout/stderr are the child's pipes. */
export async function runscRun(
  cfg: RunscConfig,
  containerId: string,
  bundleDir: string,
  cgroup: SandboxCgroup | null = null,
): Promise<ChildProcessWithoutNullStreams> {
  await mkdir(runscRoot(cfg.stateRoot), { recursive: true, mode: 0o700 });
  const [command, args] = launchCommand(cgroup, cfg.runscPath ?? "runsc", [
    ...globalFlags(cfg),
    "run",
    `--bundle=${bundleDir}`,
    containerId,
  ]);
  return spawn(command, args, {
    cwd: bundleDir,
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Starts `runsc restore` of a checkpoint into a new container; like `runscRun`, the restored
 * process gets this child's pipes as its stdin/stdout/stderr. */
export async function runscRestore(
  cfg: RunscConfig,
  containerId: string,
  bundleDir: string,
  imagePath: string,
  cgroup: SandboxCgroup | null = null,
): Promise<ChildProcessWithoutNullStreams> {
  await mkdir(runscRoot(cfg.stateRoot), { recursive: true, mode: 0o700 });
  const [command, args] = launchCommand(cgroup, cfg.runscPath ?? "runsc", [
    ...globalFlags(cfg),
    "restore",
    `--image-path=${imagePath}`,
    `--bundle=${bundleDir}`,
    containerId,
  ]);
  return spawn(command, args, {
    cwd: bundleDir,
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/**
 * Saves the whole sandbox into `imagePath` (created if missing). The container keeps running
 * (`--leave-running`, where the runsc supports it): without it a checkpoint that fails part-way,
 * e.g. on a full disk, leaves the container neither saved nor running, and the kernel is lost.
 * The caller stops it after a checkpoint that succeeded (and it may have ended by itself).
 */
export async function runscCheckpoint(cfg: RunscConfig, containerId: string, imagePath: string): Promise<void> {
  await mkdir(imagePath, { recursive: true, mode: 0o700 });
  const flags = checkpointFlags(await runscFeatures(cfg.runscPath));
  await runscCommand(cfg, ["checkpoint", ...flags, `--image-path=${imagePath}`, containerId], 120_000);
}

/** What a runsc binary can do that Cellar uses, read from its version string. */
export interface RunscFeatures {
  version: string;
  /** `checkpoint --compression=none` (20240729 and later). Without it a checkpoint is deflated,
   * and a restore spends most of its time inflating it again. */
  uncompressedCheckpoints: boolean;
  /** `checkpoint --leave-running` that works: 20221219 has the flag, but its checkpoint then
   * fails with "destroying container: stopping container: context deadline exceeded". */
  leaveRunning: boolean;
}

/** The release date in a runsc version string, e.g. 20240729 from "runsc version 0.0~20240729.0 …". */
export function runscReleaseDate(version: string): number | null {
  const m = /(?:^|[~\s-])(20\d{6})(?=[.\s]|$)/.exec(version);
  return m ? Number(m[1]) : null;
}

export function featuresOf(version: string): RunscFeatures {
  const current = (runscReleaseDate(version) ?? 0) >= 20240729;
  return { version, uncompressedCheckpoints: current, leaveRunning: current };
}

export function checkpointFlags(features: RunscFeatures): string[] {
  // Kept uncompressed on the worker's disk; the CAS stores it LZ4-compressed (snapshot-store.ts).
  // `--exclude-committed-zero-pages` was measured and left out: an idle kernel's checkpoint
  // shrank by nothing (83.47 MB either way) and its restores were no faster.
  return [...(features.leaveRunning ? ["--leave-running"] : []), ...(features.uncompressedCheckpoints ? ["--compression=none"] : [])];
}

const versions = new Map<string, Promise<string>>();
/** `runsc --version`, e.g. "runsc version 0.0~20240729.0 spec: 1.0.2-dev"; a checkpoint only
 * restores under the runsc that wrote it. Asked once per binary. */
export function runscVersion(runscPath = "runsc"): Promise<string> {
  let version = versions.get(runscPath);
  if (!version) {
    version = new Promise((resolve, reject) => {
      execFile(runscPath, ["--version"], { timeout: 10_000 }, (err, stdout) =>
        err ? reject(new Error(`runsc --version (${runscPath}) failed: ${err.message}`)) : resolve(stdout.trim().replace(/\s+/g, " ")),
      );
    });
    version.catch(() => versions.delete(runscPath));
    versions.set(runscPath, version);
  }
  return version;
}

export async function runscFeatures(runscPath = "runsc"): Promise<RunscFeatures> {
  return featuresOf(await runscVersion(runscPath));
}

/** Signals the container's init, the kernel bridge: when it dies the whole sandbox ends. Not
 * `--all`: on a restored container (runsc 20221219) that reports success and signals nothing,
 * so a stop waited out its 5 s grace and then SIGKILLed `runsc restore`. */
export async function runscKill(cfg: RunscConfig, containerId: string, signal = "KILL"): Promise<void> {
  await runscCommand(cfg, ["kill", containerId, signal]);
}

/** `runsc delete --force`; a container that is already gone is not an error. */
export async function runscDelete(cfg: RunscConfig, containerId: string): Promise<void> {
  try {
    await runscCommand(cfg, ["delete", "--force", containerId]);
  } catch (err) {
    // delete --force of a running container often reports "context deadline exceeded" after
    // 5 s although it did remove it: what counts is whether the container is still listed.
    if (!(await runscList(cfg)).some((c) => c.id === containerId)) return;
    throw err;
  }
}

/** Kills a container and removes it, for containers whose `runsc run` may or may not still be
 * around. Killing first lets a live `runsc run` clean up in milliseconds, which is far faster
 * than delete --force on a running container. */
export async function runscRemove(cfg: RunscConfig, containerId: string): Promise<void> {
  await runscKill(cfg, containerId).catch(() => {});
  const status = async () => (await runscList(cfg)).find((c) => c.id === containerId)?.status ?? null;
  // Only a running container's `runsc run` may still remove it by itself; a stopped one (its
  // runsc gone, e.g. a killed worker's) waits for delete, so waiting on it only wasted 2 s each.
  for (let i = 0; i < 20 && (await status()) === "running"; i++) await new Promise((r) => setTimeout(r, 100));
  if ((await status()) !== null) await runscDelete(cfg, containerId);
}

/** Whether runsc keeps any state for this container id under this root: a cheap directory read,
 * where asking runsc itself costs about 100 ms on every start. */
export async function runscHasState(cfg: RunscConfig, containerId: string): Promise<boolean> {
  try {
    return (await readdir(runscRoot(cfg.stateRoot))).some((name) => name.startsWith(`${containerId}_`));
  } catch {
    return false;
  }
}

export async function runscList(cfg: RunscConfig): Promise<RunscContainer[]> {
  await mkdir(runscRoot(cfg.stateRoot), { recursive: true, mode: 0o700 });
  const out = (await runscCommand(cfg, ["list", "--format=json"])).trim();
  if (!out || out === "null") return [];
  const parsed = JSON.parse(out) as Array<Record<string, unknown>>;
  return parsed.map((c) => ({
    id: String(c.id),
    pid: Number(c.pid ?? 0),
    status: String(c.status ?? "unknown"),
    bundle: String(c.bundle ?? ""),
  }));
}
