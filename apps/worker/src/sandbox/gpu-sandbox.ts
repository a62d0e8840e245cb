// Which sandbox a session asking for GPUs gets on this worker: none needed (a CPU session, or a
// worker whose GPUs are only declared by labels, whose kernels run on the CPU in gVisor), gVisor
// serving the host's GPUs through nvproxy, the fallback runtime (crun with the devices passed
// through, in a user namespace under seccomp) where nvproxy does not know the driver, or a
// refusal saying why.
import { execFileSync } from "node:child_process";
import type { Isolation, StartSession, WorkerResources } from "@cellar/protocol";
import { driverLibrariesFromLdconfig, gpuDevicePaths, hostDevices, type GpuSandbox } from "./gpu-spec";

export type GpuPlan = { ok: true; isolation: Isolation; gpu?: GpuSandbox } | { ok: false; error: string };

export interface GpuHost {
  ldconfig(): string;
  nvidiaSmiPath(): string | undefined;
  devices: typeof hostDevices;
}

const realHost: GpuHost = {
  ldconfig: () => execFileSync("ldconfig", ["-p"], { encoding: "utf8" }),
  nvidiaSmiPath: () => {
    try {
      return execFileSync("sh", ["-c", "command -v nvidia-smi"], { encoding: "utf8" }).trim() || undefined;
    } catch {
      return undefined;
    }
  },
  devices: hostDevices,
};

export function planGpuSandbox(p: Pick<StartSession, "device" | "gpus">, resources: WorkerResources, host: GpuHost = realHost): GpuPlan {
  if (p.device?.kind !== "gpu") return { ok: true, isolation: "gvisor" };
  const gpus = p.gpus ?? [];
  const known = new Set(resources.gpus.map((g) => g.index));
  const unknown = gpus.filter((g) => !known.has(g));
  if (gpus.length === 0 || unknown.length) return { ok: false, error: `this worker has no GPU ${unknown.join(", ") || "(none given)"}` };
  if (resources.gpus.every((g) => g.source === "label")) return { ok: true, isolation: "gvisor" };
  const note = resources.gpuIsolationNote ?? "";
  const isolation = resources.gpuIsolation;
  if (isolation !== "gvisor-nvproxy" && isolation !== "crun-passthrough")
    return { ok: false, error: `GPU kernels cannot start on this worker: ${note || "no GPU isolation is available"}` };
  return {
    ok: true,
    isolation,
    gpu: {
      isolation,
      devices: host.devices(gpuDevicePaths(gpus)),
      libraries: driverLibrariesFromLdconfig(host.ldconfig()),
      nvidiaSmi: host.nvidiaSmiPath(),
      gpus,
    },
  };
}
