import { describe, expect, it } from "vitest";
import type { GpuInfo } from "@cellar/protocol";
import { compareDriverVersions, gpuIsolationFor, nvproxyRange, runtimeVersions } from "./gpu-isolation";

const RUNSC_2024 = "runsc version 0.0~20240729.0";
const gpu = (driver?: string): GpuInfo => ({
  index: 0,
  model: "NVIDIA H200",
  memoryBytes: 1,
  source: "nvidia-smi",
  ...(driver ? { driver } : {}),
});

describe("compareDriverVersions", () => {
  it("compares numerically, part by part", () => {
    expect(compareDriverVersions("550.90.07", "580.95.05")).toBeLessThan(0);
    expect(compareDriverVersions("535.104.12", "535.54.03")).toBeGreaterThan(0);
    expect(compareDriverVersions("550.90.07", "550.90.07")).toBe(0);
    expect(compareDriverVersions("550.90", "550.90.0")).toBe(0);
  });
});

describe("nvproxyRange", () => {
  it("knows runsc 20240729's range, assumes it for newer releases, and none before", () => {
    expect(nvproxyRange(RUNSC_2024)).toEqual({ runsc: 20240729, min: "535.104.12", max: "550.90.07" });
    expect(nvproxyRange("runsc version release-20250106.0")?.runsc).toBe(20240729);
    expect(nvproxyRange("runsc version 0.0~20221219.0")).toBeUndefined();
    expect(nvproxyRange("runsc version unknown")).toBeUndefined();
  });
});

describe("gpuIsolationFor", () => {
  it("is gVisor with nvproxy when runsc knows the driver", () => {
    expect(gpuIsolationFor({ gpus: [gpu("550.90.07")], runscVersion: RUNSC_2024, crunVersion: null })).toEqual({
      isolation: "gvisor-nvproxy",
      note: "gVisor with nvproxy: runsc 20240729 supports driver 550.90.07 (535.104.12–550.90.07)",
    });
  });

  it("falls back to crun for a driver newer than runsc knows (the H200 machine's 580), and says why", () => {
    expect(gpuIsolationFor({ gpus: [gpu("580.95.05")], runscVersion: RUNSC_2024, crunVersion: "crun version 1.8.1" })).toEqual({
      isolation: "crun-passthrough",
      note: "driver 580.95.05 is outside runsc 20240729's nvproxy range (535.104.12–550.90.07): crun version 1.8.1 with the GPU devices passed through",
    });
    expect(gpuIsolationFor({ gpus: [gpu("525.60.13")], runscVersion: RUNSC_2024, crunVersion: "crun version 1.8.1" })?.isolation).toBe(
      "crun-passthrough",
    );
    expect(gpuIsolationFor({ gpus: [gpu()], runscVersion: RUNSC_2024, crunVersion: "crun version 1.8.1" })?.note).toMatch(
      /^the NVIDIA driver's version is unknown/,
    );
    expect(gpuIsolationFor({ gpus: [gpu("550.90.07")], runscVersion: null, crunVersion: "crun version 1.8.1" })?.note).toMatch(
      /^runsc is not installed/,
    );
    expect(
      gpuIsolationFor({ gpus: [gpu("550.90.07")], runscVersion: "runsc version 0.0~20221219.0", crunVersion: "crun 1" })?.note,
    ).toMatch(/predates the nvproxy releases Cellar knows \(20240729 on\)/);
  });

  it("is none, with the reason, when neither runtime can take the GPU", () => {
    expect(gpuIsolationFor({ gpus: [gpu("580.95.05")], runscVersion: RUNSC_2024, crunVersion: null })).toEqual({
      isolation: null,
      note: "driver 580.95.05 is outside runsc 20240729's nvproxy range (535.104.12–550.90.07), and crun (the fallback runtime) is not installed: GPU kernels cannot start here",
    });
  });

  it("is plain gVisor for GPUs only declared by labels, and nothing for a CPU worker", () => {
    const declared: GpuInfo = { index: 0, model: "H100", memoryBytes: 0, source: "label" };
    expect(gpuIsolationFor({ gpus: [declared], runscVersion: RUNSC_2024, crunVersion: null })?.isolation).toBe("gvisor");
    expect(gpuIsolationFor({ gpus: [], runscVersion: RUNSC_2024, crunVersion: null })).toBeUndefined();
  });
});

describe("runtimeVersions", () => {
  it("reads the first line of each --version, and null for one that does not run", async () => {
    const versions = await runtimeVersions(async (file) => {
      if (file === "runsc") return "runsc version 0.0~20240729.0\nspec: 1.1.0-rc.1\n";
      throw new Error("spawn crun ENOENT");
    });
    expect(versions).toEqual({ runscVersion: "runsc version 0.0~20240729.0", crunVersion: null });
  });
});
