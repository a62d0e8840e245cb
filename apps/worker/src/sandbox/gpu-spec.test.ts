import { describe, expect, it } from "vitest";
import { buildOciConfig } from "./bundle";
import {
  DRIVER_LIB_DIR,
  driverLibrariesFromLdconfig,
  gpuDevicePaths,
  hostDevices,
  runscGpuFlags,
  withGpu,
  type HostDevice,
} from "./gpu-spec";

// `ldconfig -p` as an H200 host with driver 580 prints it (trimmed).
const LDCONFIG = `1234 libs found in cache \`/etc/ld.so.cache'
	libnvidia-ptxjitcompiler.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libnvidia-ptxjitcompiler.so.1
	libnvidia-nvvm.so.4 (libc6,x86-64) => /lib/x86_64-linux-gnu/libnvidia-nvvm.so.4
	libnvidia-ml.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libnvidia-ml.so.1
	libnvidia-ml.so (libc6,x86-64) => /lib/x86_64-linux-gnu/libnvidia-ml.so
	libnvidia-gpucomp.so.580.95.05 (libc6,x86-64) => /lib/x86_64-linux-gnu/libnvidia-gpucomp.so.580.95.05
	libcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1
	libcuda.so.1 (libc6) => /lib/i386-linux-gnu/libcuda.so.1
	libcuda.so (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so
	libc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6
`;

const node = (path: string, minor: number, major = 195): HostDevice => ({ path, major, minor, fileMode: 0o666 });
const HOST_DEVICES = [
  node("/dev/nvidiactl", 255),
  node("/dev/nvidia-uvm", 0, 510),
  node("/dev/nvidia-uvm-tools", 1, 510),
  node("/dev/nvidia0", 0),
  node("/dev/nvidia1", 1),
];
const base = () =>
  buildOciConfig({ sessionId: "s1", imageRootfs: "/images/base", workspaceDir: "/ws/s1", limits: { memoryBytes: 1 << 30, pids: 256 } });

describe("a GPU kernel's sandbox", () => {
  it("finds the 64-bit driver libraries by soname, not the dev links or 32-bit copies", () => {
    expect(driverLibrariesFromLdconfig(LDCONFIG)).toEqual([
      "/lib/x86_64-linux-gnu/libnvidia-ptxjitcompiler.so.1",
      "/lib/x86_64-linux-gnu/libnvidia-nvvm.so.4",
      "/lib/x86_64-linux-gnu/libnvidia-ml.so.1",
      "/lib/x86_64-linux-gnu/libnvidia-gpucomp.so.580.95.05",
      "/lib/x86_64-linux-gnu/libcuda.so.1",
    ]);
  });

  it("gets only its own GPU's node besides the control and UVM nodes, with cgroup rules for just those", () => {
    const spec = withGpu(base(), {
      isolation: "gvisor-nvproxy",
      devices: HOST_DEVICES,
      libraries: driverLibrariesFromLdconfig(LDCONFIG),
      nvidiaSmi: "/usr/bin/nvidia-smi",
      gpus: [1],
    }) as {
      linux: { devices: Array<{ path: string }>; resources: { devices: Array<Record<string, unknown>> } };
      mounts: Array<{ destination: string; source: string; options: string[] }>;
      process: { env: string[] };
    };
    expect(spec.linux.devices.map((d) => d.path)).toEqual(["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia1"]);
    expect(spec.linux.devices.map((d) => d.path)).not.toContain("/dev/nvidia0");
    expect(spec.linux.resources.devices[0]).toEqual({ allow: false, access: "rwm" });
    expect(spec.linux.resources.devices.slice(1)).toContainEqual({ allow: true, type: "c", major: 195, minor: 1, access: "rwm" });
    const libcuda = spec.mounts.find((m) => m.destination === `${DRIVER_LIB_DIR}/libcuda.so.1`);
    expect(libcuda).toMatchObject({ source: "/lib/x86_64-linux-gnu/libcuda.so.1" });
    expect(libcuda?.options).toContain("ro");
    expect(spec.mounts.find((m) => m.destination.endsWith("/nvidia-smi"))).toMatchObject({ source: "/usr/bin/nvidia-smi" });
    expect(spec.process.env).toContain(`LD_LIBRARY_PATH=${DRIVER_LIB_DIR}`);
    expect(spec.process.env.find((e) => e.startsWith("PATH="))).toMatch(/:\/usr\/local\/nvidia\/bin$/);
    // Nothing else about the sandbox changes: no capabilities, no new privileges.
    const proc = (spec as unknown as { process: { noNewPrivileges: boolean; capabilities: { bounding: string[] } } }).process;
    expect(proc.noNewPrivileges).toBe(true);
    expect(proc.capabilities.bounding).toEqual([]);
    expect(runscGpuFlags("gvisor-nvproxy")).toEqual(["--nvproxy"]);
    expect(runscGpuFlags("crun-passthrough")).toEqual([]);
  });

  it("refuses a host without the driver's nodes or libraries, saying what is missing", () => {
    const gpu = { isolation: "crun-passthrough" as const, libraries: driverLibrariesFromLdconfig(LDCONFIG), gpus: [0] };
    expect(() => withGpu(base(), { ...gpu, devices: [node("/dev/nvidia0", 0)] })).toThrow(
      "the host has no /dev/nvidiactl, /dev/nvidia-uvm",
    );
    expect(() => withGpu(base(), { ...gpu, devices: HOST_DEVICES, libraries: [] })).toThrow("libcuda.so.1");
    expect(() => withGpu(base(), { ...gpu, devices: HOST_DEVICES, gpus: [] })).toThrow("at least one GPU");
    expect(gpuDevicePaths([0, 3])).toEqual(["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia0", "/dev/nvidia3"]);
  });
});

describe("host device numbers", () => {
  it("reads major and minor from a node's rdev", () => {
    const rdev = (major: number, minor: number) => (major << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
    const fake = (p: string) => {
      if (p === "/dev/nvidia-uvm") return { rdev: rdev(510, 0), mode: 0o20666 };
      if (p === "/dev/nvidiactl") return { rdev: rdev(195, 255), mode: 0o20666 };
      throw new Error("ENOENT");
    };
    expect(hostDevices(["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia0"], fake)).toEqual([
      { path: "/dev/nvidiactl", major: 195, minor: 255, fileMode: 0o666 },
      { path: "/dev/nvidia-uvm", major: 510, minor: 0, fileMode: 0o666 },
    ]);
  });
});
