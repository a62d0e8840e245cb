// Thin wrappers over the crun CLI, the fallback runtime for GPU kernels (see crun-spec.ts for the
// bundle it gets). Like runsc's, every call shares one --root under the worker's state root, so a
// restarted worker finds and removes what the last one left.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { SandboxCgroup } from "./sandbox-cgroup";
import { launchCommand } from "./sandbox-launcher";

export interface CrunConfig {
  /** Cellar's sandbox state directory; crun's own goes in `<stateRoot>/crun`. */
  stateRoot: string;
  crunPath?: string;
}

export const crunRoot = (stateRoot: string) => path.join(stateRoot, "crun");

// The worker caps each sandbox's memory with a cgroup of its own (sandbox-cgroup.ts), which the
// launcher joins before crun starts, and each process with rlimits; crun makes none.
const globalFlags = (cfg: CrunConfig) => [`--root=${crunRoot(cfg.stateRoot)}`, "--cgroup-manager=disabled"];

/** Whether this host mounts cgroup v1 and v2 side by side ("hybrid"), which crun refuses to start
 * under whatever its cgroup manager. */
export function hybridCgroups(mounts = () => readFileSync("/proc/self/mounts", "utf8")): boolean {
  return mounts()
    .split("\n")
    .some((line) => line.split(" ")[1] === "/sys/fs/cgroup/unified");
}

/** `crun run`, with the container's stdin/stdout/stderr on the child's pipes. On a hybrid host
 * it runs in a mount namespace of its own without the v2 hierarchy (nothing else is unmounted). */
export async function crunRun(
  cfg: CrunConfig,
  containerId: string,
  bundleDir: string,
  cgroup: SandboxCgroup | null = null,
): Promise<ChildProcessWithoutNullStreams> {
  await mkdir(crunRoot(cfg.stateRoot), { recursive: true, mode: 0o700 });
  const crun = [cfg.crunPath ?? "crun", ...globalFlags(cfg), "run", `--bundle=${bundleDir}`, containerId];
  const wrapped = hybridCgroups()
    ? ["unshare", "--mount", "--propagation=private", "sh", "-c", 'umount -l /sys/fs/cgroup/unified && exec "$0" "$@"', ...crun]
    : crun;
  const [command, args] = launchCommand(cgroup, wrapped[0], wrapped.slice(1));
  return spawn(command, args, { cwd: bundleDir, stdio: ["pipe", "pipe", "pipe"] });
}

function crunCommand(cfg: CrunConfig, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cfg.crunPath ?? "crun", [...globalFlags(cfg), ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`crun ${args[0]} failed: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

export async function crunKill(cfg: CrunConfig, containerId: string, signal = "KILL"): Promise<void> {
  await crunCommand(cfg, ["kill", containerId, signal]);
}

/** `crun delete --force`; a container that is already gone is not an error. */
export async function crunDelete(cfg: CrunConfig, containerId: string): Promise<void> {
  if (!(await crunList(cfg)).includes(containerId)) return;
  await crunCommand(cfg, ["delete", "--force", containerId]);
}

/** The ids of the containers under this root. */
export async function crunList(cfg: CrunConfig): Promise<string[]> {
  await mkdir(crunRoot(cfg.stateRoot), { recursive: true, mode: 0o700 });
  const out = (await crunCommand(cfg, ["list", "--format=json"])).trim();
  if (!out || out === "null") return [];
  return (JSON.parse(out) as Array<{ id: unknown }>).map((c) => String(c.id));
}
