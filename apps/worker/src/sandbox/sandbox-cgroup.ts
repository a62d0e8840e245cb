// A memory cap for a whole sandbox. The bundle's rlimits cap each process inside it, so a kernel
// that starts several processes could together take the worker's memory. runsc's own cgroup
// handling is off (--ignore-cgroups: it needs a cgroup layout these hosts do not have), so the
// worker puts the runsc process itself into a memory cgroup of its own before it execs: the
// sandbox and gofer it starts inherit it, and gVisor's memory (a memfd charged to the processes
// that touch it) is counted there. Past the cap the host's OOM killer ends the sandbox.
import { readFile, mkdir, rmdir, writeFile, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";

/** gVisor's own memory (sentry, gofer, page tables) on top of what the kernel may use. */
const SANDBOX_OVERHEAD_BYTES = 256 * 2 ** 20;

/** What a sandbox whose session may use `memoryBytes` is allowed in all: the cap of its cgroup,
 * and what the worker's memory budget counts for it. */
export function sandboxMemoryCap(memoryBytes: number): number {
  return memoryBytes + SANDBOX_OVERHEAD_BYTES;
}
const GROUP_PARENT = "cellar-sandboxes";

export interface SandboxCgroup {
  dir: string;
  version: 1 | 2;
  /** The session's memory limit; the cgroup's cap adds SANDBOX_OVERHEAD_BYTES to it. */
  memoryBytes: number;
}

let parentOnce: Promise<{ dir: string; version: 1 | 2 } | null> | null = null;

/** Where this host's memory controller is, relative to this process's own cgroup (so the
 * worker's own limits still bound its sandboxes); null if there is none we can write. Found once
 * per process rather than on every sandbox start. */
function memoryParent(): Promise<{ dir: string; version: 1 | 2 } | null> {
  parentOnce ??= findMemoryParent();
  return parentOnce;
}

async function findMemoryParent(): Promise<{ dir: string; version: 1 | 2 } | null> {
  const own = await readFile("/proc/self/cgroup", "utf8").catch(() => "");
  const v1 = own
    .split("\n")
    .map((l) => l.split(":"))
    .find((f) => f[1]?.split(",").includes("memory"));
  if (v1 && existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
    return { dir: path.join("/sys/fs/cgroup/memory", v1[2] ?? "/", GROUP_PARENT), version: 1 };
  }
  const unified = own.split("\n").find((l) => l.startsWith("0::"));
  if (unified && existsSync("/sys/fs/cgroup/cgroup.controllers")) {
    return { dir: path.join("/sys/fs/cgroup", unified.slice(3), GROUP_PARENT), version: 2 };
  }
  return null;
}

/** Where the cgroup of this container is or would be; null where cgroups cannot be used. */
export async function sandboxCgroupDir(containerId: string): Promise<string | null> {
  const parent = await memoryParent();
  return parent && path.join(parent.dir, containerId);
}

let warned = false;

/**
 * Creates the sandbox's memory cgroup with a cap of `memoryBytes` plus gVisor's overhead.
 * Returns null (and says why once) where cgroups cannot be written; the per-process rlimits
 * still hold then.
 */
export async function createSandboxCgroup(containerId: string, memoryBytes: number): Promise<SandboxCgroup | null> {
  const parent = await memoryParent();
  try {
    if (!parent) throw new Error("no memory cgroup controller is mounted");
    const dir = path.join(parent.dir, containerId);
    const limitBytes = sandboxMemoryCap(memoryBytes);
    if (parent.version === 2) {
      await mkdir(parent.dir, { recursive: true });
      // A v2 child only gets the memory controller if its parent hands it down.
      await writeFile(path.join(parent.dir, "cgroup.subtree_control"), "+memory").catch(() => {});
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, "memory.max"), String(limitBytes));
      await writeFile(path.join(dir, "memory.swap.max"), "0").catch(() => {});
    } else {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, "memory.limit_in_bytes"), String(limitBytes));
      // Without this, a capped sandbox would swap instead of stopping, where the host has swap.
      await writeFile(path.join(dir, "memory.memsw.limit_in_bytes"), String(limitBytes)).catch(() => {});
    }
    return { dir, version: parent.version, memoryBytes };
  } catch (err) {
    if (!warned) console.warn(`worker: sandboxes get per-process memory limits only: ${(err as Error).message}`);
    warned = true;
    return null;
  }
}

/** Whether the host's OOM killer ended something in this sandbox because of the cap. */
export async function hitMemoryCap(cgroup: SandboxCgroup | null): Promise<boolean> {
  if (!cgroup) return false;
  const file = cgroup.version === 2 ? "memory.events" : "memory.oom_control";
  const text = await readFile(path.join(cgroup.dir, file), "utf8").catch(() => "");
  const kills = /^oom_kill (\d+)$/m.exec(text);
  return kills !== null && Number(kills[1]) > 0;
}

/** Removes the cgroup once nothing runs in it; a cgroup with processes left cannot be removed. */
export async function removeSandboxCgroup(cgroup: SandboxCgroup | null): Promise<void> {
  if (cgroup) await removeCgroupDir(cgroup.dir);
}

/** rmdir, retried for up to 2 s while the sandbox's last processes exit. */
async function removeCgroupDir(dir: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  console.warn(`worker: could not remove ${dir}: processes are still in it`);
}

/** Removes the cgroups a crashed worker left: those of the sandboxes just reaped (waiting for
 * their last processes to go) and any other sandbox cgroup with nothing left in it. */
export async function reapSandboxCgroups(reapedContainerIds: string[]): Promise<void> {
  const parent = await memoryParent();
  if (!parent) return;
  for (const id of reapedContainerIds) await removeCgroupDir(path.join(parent.dir, id));
  const names = await readdir(parent.dir, { withFileTypes: true }).catch(() => []);
  for (const e of names) if (e.isDirectory() && e.name.startsWith("cellar-")) await rmdir(path.join(parent.dir, e.name)).catch(() => {});
}
