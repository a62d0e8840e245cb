import { describe, expect, it } from "vitest";
import type { WorkerResources } from "@cellar/protocol";
import { planGpuSandbox } from "./gpu-sandbox";

const host = {
  ldconfig: () => "\tlibcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1\n",
  nvidiaSmiPath: () => "/usr/bin/nvidia-smi",
  devices: (paths: string[]) => paths.map((path, i) => ({ path, major: 195, minor: i, fileMode: 0o666 })),
};
const real = (gpuIsolation: WorkerResources["gpuIsolation"], note = "runsc 20240729 does not know driver 580.95.05"): WorkerResources => ({
  cpus: 16,
  memoryBytes: 1e11,
  gpus: [{ index: 0, model: "NVIDIA H200", memoryBytes: 1.4e11, driver: "580.95.05", source: "nvidia-smi" }],
  labels: {},
  gpuIsolation,
  gpuIsolationNote: note,
});
const H200 = { kind: "gpu" as const, model: "H200", count: 1 };

describe("a GPU session's sandbox", () => {
  it("a CPU session, or GPUs declared by labels, need nothing but gVisor", () => {
    expect(planGpuSandbox({}, real("gvisor-nvproxy"), host)).toEqual({ ok: true, isolation: "gvisor" });
    const labelled: WorkerResources = {
      cpus: 2,
      memoryBytes: 1e9,
      gpus: [{ index: 0, model: "H100", memoryBytes: 0, source: "label" }],
      labels: { gpu: "H100" },
    };
    expect(planGpuSandbox({ device: H200, gpus: [0] }, labelled, host)).toEqual({ ok: true, isolation: "gvisor" });
  });

  it("with nvproxy for the host's driver, the GPU's devices and libraries go into the sandbox", () => {
    const plan = planGpuSandbox({ device: H200, gpus: [0] }, real("gvisor-nvproxy"), host);
    expect(plan).toMatchObject({
      ok: true,
      isolation: "gvisor-nvproxy",
      gpu: { gpus: [0], libraries: ["/lib/x86_64-linux-gnu/libcuda.so.1"], nvidiaSmi: "/usr/bin/nvidia-smi" },
    });
  });

  it("a driver nvproxy does not know runs the kernel in crun with the same devices", () => {
    expect(planGpuSandbox({ device: H200, gpus: [0] }, real("crun-passthrough"), host)).toMatchObject({
      ok: true,
      isolation: "crun-passthrough",
      gpu: { isolation: "crun-passthrough", gpus: [0], libraries: ["/lib/x86_64-linux-gnu/libcuda.so.1"] },
    });
  });

  it("otherwise the start is refused with the reason, never run without the GPU", () => {
    expect(planGpuSandbox({ device: H200, gpus: [0] }, real(null, "crun is not installed"), host)).toMatchObject({
      ok: false,
      error: expect.stringContaining("crun is not installed"),
    });
    expect(planGpuSandbox({ device: H200, gpus: [3] }, real("gvisor-nvproxy"), host)).toEqual({
      ok: false,
      error: "this worker has no GPU 3",
    });
  });
});
