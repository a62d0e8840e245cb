// How the Machines panel words a worker: its memory, its GPUs, its free capacity, its isolation,
// and the fleet's classes in one line.
import { isolationText, type GpuInfo } from "@cellar/protocol";
import type { Machine } from "./machine-queries";

/** Binary units, as nvidia-smi and `free` show memory: "128 GiB", "79.6 GiB", "140 GiB" (no decimal from 100 on). */
export function formatMemory(bytes: number): string {
  if (bytes <= 0) return "unknown";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** "NVIDIA H200 · 140.4 GiB · driver 580.95.05 · CUDA 13.0"; a declared one says so. */
export function gpuText(gpu: GpuInfo): string {
  const parts = [gpu.model];
  if (gpu.memoryBytes > 0) parts.push(formatMemory(gpu.memoryBytes));
  if (gpu.driver) parts.push(`driver ${gpu.driver}`);
  if (gpu.cuda) parts.push(`CUDA ${gpu.cuda}`);
  if (gpu.source === "label") parts.push("declared by a label");
  return parts.join(" · ");
}

/** What a worker can still take: "1 of 2 GPUs free", "CPU kernels", "draining: takes nothing new". */
export function freeCapacityText(m: Machine): string {
  if (m.draining) return "draining: takes nothing new";
  const n = m.resources.gpus.length;
  if (n === 0) return "takes CPU kernels";
  return `${m.freeGpus.length} of ${n} ${n === 1 ? "GPU" : "GPUs"} free`;
}

/** How a GPU kernel is sandboxed on it; undefined for a worker without GPUs. */
export function isolationOf(m: Machine): string | undefined {
  const iso = m.resources.gpuIsolation;
  if (iso === undefined) return m.resources.gpus.length ? "not reported" : undefined;
  return iso === null ? "none: GPU kernels cannot start here" : isolationText(iso);
}

/** The fleet's classes: "3 workers: 2 × CPU, 1 × 2 × H100". */
export function fleetSummary(machines: Machine[]): string {
  if (machines.length === 0) return "No worker is connected.";
  const classes = new Map<string, number>();
  for (const m of machines) classes.set(m.workerClass, (classes.get(m.workerClass) ?? 0) + 1);
  const listed = [...classes].map(([c, n]) => `${n} × ${c}`).join(", ");
  return `${machines.length} ${machines.length === 1 ? "worker" : "workers"}: ${listed}`;
}
