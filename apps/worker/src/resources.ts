// What this machine offers, reported to the gateway on connect.
import fs from "node:fs";
import os from "node:os";
import type { WorkerResources } from "@cellar/protocol";

export function detectResources(): WorkerResources {
  // NVIDIA GPUs appear as /dev/nvidia0, /dev/nvidia1, ... only on machines that have them.
  let gpus: string[] = [];
  try {
    gpus = fs
      .readdirSync("/dev")
      .filter((n) => /^nvidia\d+$/.test(n))
      .sort();
  } catch {
    /* no /dev listing */
  }
  // Until nvidia-smi is read, a device node says only that a GPU is there.
  return {
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    gpus: gpus.map((_, index) => ({ index, model: "NVIDIA GPU", memoryBytes: 0, source: "nvidia-smi" as const })),
    labels: {},
  };
}
