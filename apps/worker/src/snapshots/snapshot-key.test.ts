import { describe, expect, it } from "vitest";
import { warmSnapshotKey, warmupCode, type KernelRuntime, type WarmSnapshotSpec } from "./snapshot-key";

const spec: WarmSnapshotSpec = { imageId: "img", limits: { memoryBytes: 2 ** 30, pids: 256 }, warmup: ["numpy"] };
const runtime: KernelRuntime = { runscVersion: "runsc version release-20240729.0", platform: "ptrace", bridgeVersion: "b1" };

describe("warmSnapshotKey", () => {
  it("differs when the runsc version differs, so an old runsc's snapshot is never restored by a new one", () => {
    const old = warmSnapshotKey(spec, { ...runtime, runscVersion: "runsc version 0.0~20221219.0" });
    expect(old).not.toBe(warmSnapshotKey(spec, runtime));
  });

  it("differs by platform, bridge, image, limits and warm-up, and is stable otherwise", () => {
    const key = warmSnapshotKey(spec, runtime);
    expect(warmSnapshotKey({ ...spec }, { ...runtime })).toBe(key);
    const others = [
      warmSnapshotKey(spec, { ...runtime, platform: "systrap" }),
      warmSnapshotKey(spec, { ...runtime, bridgeVersion: "b2" }),
      warmSnapshotKey({ ...spec, imageId: "other" }, runtime),
      warmSnapshotKey({ ...spec, limits: { ...spec.limits, memoryBytes: 2 ** 31 } }, runtime),
      warmSnapshotKey({ ...spec, warmup: ["numpy", "pandas"] }, runtime),
    ];
    expect(new Set([key, ...others]).size).toBe(others.length + 1);
  });

  it("refuses a warm-up that is not a module name", () => {
    expect(() => warmupCode(["os; import shutil"])).toThrow(/not a Python module name/);
    expect(warmupCode(["numpy", "a.b"])).toBe("import numpy\nimport a.b");
  });
});
