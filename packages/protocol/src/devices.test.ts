import { describe, expect, it } from "vitest";
import {
  CPU,
  deviceMagic,
  deviceOfCell,
  formatDevice,
  freeGpusFor,
  gpusFromLabels,
  noWorkerOffers,
  parseDevice,
  placementSchema,
  placementText,
  skippedNamesText,
  shortGpuName,
  withDeviceInMetadata,
  workerClassOf,
  workerOffers,
  workerResourcesSchema,
  type GpuInfo,
} from "./devices";

const h100 = (index: number): GpuInfo => ({ index, model: "NVIDIA H100 80GB HBM3", memoryBytes: 80e9, source: "nvidia-smi" });
const cpuWorker = { gpus: [], labels: {} };
const gpuWorker = { gpus: [h100(0), h100(1)] };

describe("parseDevice", () => {
  it("reads what people type", () => {
    expect(parseDevice("cpu")).toEqual({ ok: true, device: CPU });
    expect(parseDevice(" CPU ")).toEqual({ ok: true, device: CPU });
    expect(parseDevice("gpu")).toEqual({ ok: true, device: { kind: "gpu", count: 1 } });
    expect(parseDevice("any GPU")).toEqual({ ok: true, device: { kind: "gpu", count: 1 } });
    expect(parseDevice("H100")).toEqual({ ok: true, device: { kind: "gpu", model: "H100", count: 1 } });
    expect(parseDevice("2 x H100")).toEqual({ ok: true, device: { kind: "gpu", model: "H100", count: 2 } });
    expect(parseDevice("H100:4")).toEqual({ ok: true, device: { kind: "gpu", model: "H100", count: 4 } });
    expect(parseDevice("any gpu:2")).toEqual({ ok: true, device: { kind: "gpu", count: 2 } });
  });

  it("says what is wrong", () => {
    expect(parseDevice("")).toMatchObject({ ok: false, error: expect.stringContaining("name a device") });
    expect(parseDevice("H100:0")).toMatchObject({ ok: false, error: expect.stringContaining("1 to 16") });
    expect(parseDevice("H100:99")).toMatchObject({ ok: false, error: expect.stringContaining("1 to 16") });
    expect(parseDevice("rm -rf /")).toMatchObject({ ok: false, error: expect.stringContaining("not a device name") });
  });

  it("formats back to the same device", () => {
    for (const t of ["CPU", "any GPU", "H100", "2 × H100", "2 × any GPU"]) {
      const parsed = parseDevice(t);
      expect(parsed.ok && formatDevice(parsed.device)).toBe(t);
    }
  });
});

describe("the device in metadata", () => {
  it("a cell's choice wins over the notebook's default, and CPU is the default of defaults", () => {
    const nb = withDeviceInMetadata({ kernelspec: { name: "python3" } }, { kind: "gpu", count: 1 });
    const cell = withDeviceInMetadata({ tags: ["x"] }, { kind: "gpu", model: "H100", count: 1 });
    expect(deviceOfCell(cell, nb)).toEqual({ kind: "gpu", model: "H100", count: 1 });
    expect(deviceOfCell({}, nb)).toEqual({ kind: "gpu", count: 1 });
    expect(deviceOfCell({}, {})).toEqual(CPU);
    expect(cell.tags).toEqual(["x"]);
  });

  it("removing the choice keeps other keys and drops an empty namespace", () => {
    const cell = withDeviceInMetadata({ cellar: { note: 1 }, tags: [] }, { kind: "cpu" });
    expect(cell).toEqual({ cellar: { note: 1, device: { kind: "cpu" } }, tags: [] });
    expect(withDeviceInMetadata(cell, undefined)).toEqual({ cellar: { note: 1 }, tags: [] });
    expect(withDeviceInMetadata({ cellar: { device: CPU } }, undefined)).toEqual({});
  });

  it("an unreadable stored device counts as none", () => {
    expect(deviceOfCell({ cellar: { device: { kind: "tpu" } } }, {})).toEqual(CPU);
    expect(deviceOfCell({ cellar: "H100" }, {})).toEqual(CPU);
  });
});

describe("deviceMagic", () => {
  it("takes the first line off and names the device", () => {
    expect(deviceMagic("%%gpu H100\nx = 1")).toEqual({ device: { kind: "gpu", model: "H100", count: 1 }, code: "x = 1" });
    expect(deviceMagic("%%gpu\nx")).toEqual({ device: { kind: "gpu", count: 1 }, code: "x" });
    expect(deviceMagic("%%cpu\nprint(1)\n")).toEqual({ device: CPU, code: "print(1)\n" });
    expect(deviceMagic("%%gpu 2 x A100")).toEqual({ device: { kind: "gpu", model: "A100", count: 2 }, code: "" });
  });

  it("is not a magic elsewhere, and a bad argument is an error", () => {
    expect(deviceMagic("x = 1\n%%gpu H100")).toBeNull();
    expect(deviceMagic("%%gpus")).toBeNull();
    expect(deviceMagic("%%gpu H100:0\nx")).toMatchObject({ error: expect.stringContaining("%%gpu") });
    expect(deviceMagic("%%cpu now\nx")).toMatchObject({ error: expect.stringContaining("no argument") });
  });
});

describe("workers and devices", () => {
  it("labels declare GPUs", () => {
    expect(gpusFromLabels({ gpu: "H100", gpus: "2" })).toEqual([
      { index: 0, model: "H100", memoryBytes: 0, source: "label" },
      { index: 1, model: "H100", memoryBytes: 0, source: "label" },
    ]);
    expect(gpusFromLabels({ zone: "eu" })).toEqual([]);
  });

  it("names classes as people read them", () => {
    expect(workerClassOf(cpuWorker)).toBe("CPU");
    expect(workerClassOf(gpuWorker)).toBe("2 × H100");
    expect(workerClassOf({ gpus: [h100(0)] })).toBe("H100");
    expect(shortGpuName("NVIDIA GeForce RTX 4090")).toBe("GeForce RTX");
    expect(shortGpuName("A100")).toBe("A100");
  });

  it("matches models without case and counts free GPUs", () => {
    expect(workerOffers(gpuWorker, { kind: "gpu", model: "h100", count: 2 })).toBe(true);
    expect(workerOffers(gpuWorker, { kind: "gpu", model: "H100", count: 3 })).toBe(false);
    expect(workerOffers(gpuWorker, { kind: "gpu", model: "A100", count: 1 })).toBe(false);
    expect(workerOffers(cpuWorker, { kind: "gpu", count: 1 })).toBe(false);
    expect(workerOffers(gpuWorker, CPU)).toBe(true);
    expect(freeGpusFor(gpuWorker, { kind: "gpu", count: 1 }, new Set([0]))).toEqual([1]);
    expect(freeGpusFor(gpuWorker, { kind: "gpu", count: 2 }, new Set([0]))).toBeUndefined();
  });

  it("says which workers there are when none offers the device", () => {
    expect(noWorkerOffers({ kind: "gpu", model: "H100", count: 1 }, [cpuWorker, cpuWorker])).toBe(
      "no worker offers H100 (workers: 2 × CPU)",
    );
    expect(noWorkerOffers({ kind: "gpu", count: 4 }, [cpuWorker, gpuWorker])).toBe(
      "no worker offers 4 × any GPU (workers: 1 × CPU, 1 × 2 × H100)",
    );
    expect(noWorkerOffers({ kind: "gpu", count: 1 }, [])).toBe("no worker offers any GPU (workers: none connected)");
  });
});

describe("placement", () => {
  it("says in one line where a cell ran and what moved", () => {
    const p = placementSchema.parse({
      device: "H100",
      workerId: "gpu-1",
      workerClass: "H100",
      isolation: "gvisor",
      moved: { from: "cpu-1", names: 14, bytes: 2.1e9, seconds: 1.84 },
    });
    expect(placementText(p)).toBe("ran on H100 · worker gpu-1 · moved 14 names, 2.1 GB in 1.8 s");
    expect(placementText({ ...p, isolation: "crun-passthrough", moved: undefined })).toBe(
      "ran on H100 · worker gpu-1 · crun (devices passed through)",
    );
  });

  it("lists the names that stayed behind with their types and reasons", () => {
    const text = skippedNamesText([{ name: "sock", type: "socket", reason: "cannot pickle 'socket' object" }], "H100");
    expect(text).toContain("1 name could not move to the H100 kernel");
    expect(text).toContain("sock (socket): cannot pickle 'socket' object");
  });
});

describe("workerResourcesSchema", () => {
  const base = { cpus: 16, memoryBytes: 128e9, gpus: [{ ...h100(0), driver: "580.95.05", cuda: "13.0" }] };
  it("carries the GPU isolation a worker can give, and reads an older worker's report without it", () => {
    expect(workerResourcesSchema.parse(base)).toEqual({ ...base, labels: {} });
    for (const gpuIsolation of ["gvisor-nvproxy", "crun-passthrough", "gvisor", null] as const)
      expect(workerResourcesSchema.parse({ ...base, gpuIsolation, gpuIsolationNote: "why" })).toMatchObject({
        gpuIsolation,
        gpuIsolationNote: "why",
      });
  });
  it("refuses an isolation nobody implements", () => {
    expect(workerResourcesSchema.safeParse({ ...base, gpuIsolation: "docker" }).success).toBe(false);
  });
});
