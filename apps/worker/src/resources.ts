// What this machine offers, reported to the gateway on connect: CPUs, memory, GPUs (read with
// nvidia-smi where /dev/nvidiaN exists, else those the labels declare), the labels, and how a GPU
// kernel would be sandboxed here. Read once at start: none of it changes while the worker runs.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { gpusFromLabels, type WorkerResources } from "@cellar/protocol";
import { gpuIsolationFor, runtimeVersions } from "./gpus/gpu-isolation";
import { readNvidiaGpus, type Exec } from "./gpus/nvidia-smi";

export interface HostProbes {
  /** The /dev/nvidiaN device nodes (nvidia0, nvidia1, …), sorted. */
  gpuDeviceNodes(): string[];
  exec: Exec;
  cpus(): number;
  memoryBytes(): number;
}

export const hostProbes: HostProbes = {
  gpuDeviceNodes: () => {
    try {
      return fs
        .readdirSync("/dev")
        .filter((n) => /^nvidia\d+$/.test(n))
        .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
    } catch {
      return [];
    }
  },
  exec: (file, args) =>
    new Promise((resolve, reject) =>
      execFile(file, args, { timeout: 15_000 }, (err, stdout, stderr) =>
        err
          ? reject(new Error(`${err.message.split("\n")[0]}${stderr.trim() ? `: ${stderr.trim().slice(0, 300)}` : ""}`))
          : resolve(stdout),
      ),
    ),
  cpus: () => os.cpus().length,
  memoryBytes: () => os.totalmem(),
};

/** This machine's resources. `labels`: CELLAR_WORKER_LABELS, already checked; the GPUs they
 * declare stand in only where the machine has none of its own. What could not be read is passed
 * to `warn` (and the GPUs concerned are still listed). */
export async function detectResources(
  labels: Record<string, string>,
  probes: HostProbes = hostProbes,
  warn: (message: string) => void = console.warn,
): Promise<WorkerResources> {
  const found = await readNvidiaGpus(probes.gpuDeviceNodes(), probes.exec);
  for (const p of found.problems) warn(`worker: ${p}`);
  const gpus = found.gpus.length ? found.gpus : gpusFromLabels(labels);
  if (found.gpus.length && gpusFromLabels(labels).length)
    warn(`worker: CELLAR_WORKER_LABELS declares gpu=${labels.gpu}, but this machine has GPUs of its own: those are reported`);
  const isolation = gpus.length ? gpuIsolationFor({ gpus, ...(await runtimeVersions(probes.exec)) }) : undefined;
  return {
    cpus: probes.cpus(),
    memoryBytes: probes.memoryBytes(),
    gpus,
    labels,
    ...(isolation ? { gpuIsolation: isolation.isolation, gpuIsolationNote: isolation.note } : {}),
  };
}
