// What a GPU kernel's sandbox adds to its OCI bundle, as NVIDIA's container toolkit and CDI specs
// do (neither is packaged in bookworm): the device nodes for its GPUs (and the control, UVM and
// UVM-tools nodes every CUDA process opens), device-cgroup rules allowing just those, and the host
// driver's user-space libraries and nvidia-smi bind-mounted read-only, since they must match the
// host's kernel module exactly. gVisor reads the same devices to serve them through nvproxy; the
// fallback runtime (crun) passes them through.
import { statSync } from "node:fs";
import type { Isolation } from "@cellar/protocol";

/** A character device on the host, as the OCI spec names it. */
export interface HostDevice {
  path: string;
  major: number;
  minor: number;
  /** Unix permission bits of the node (0o666 for NVIDIA's). */
  fileMode: number;
}

/** Where the driver's libraries appear inside the sandbox; LD_LIBRARY_PATH points here so the
 * image's own (absent) copies never shadow them. */
export const DRIVER_LIB_DIR = "/usr/local/nvidia/lib64";
export const DRIVER_BIN_DIR = "/usr/local/nvidia/bin";

/** The driver libraries a CUDA program (torch, CuPy, JAX) and nvidia-smi load, by soname prefix. */
const DRIVER_LIBRARIES = [
  "libcuda.so",
  "libcudadebugger.so",
  "libnvidia-ml.so",
  "libnvidia-ptxjitcompiler.so",
  "libnvidia-nvvm.so",
  "libnvidia-gpucomp.so",
  "libnvidia-allocator.so",
  "libnvidia-cfg.so",
];

/** The device nodes a kernel on `gpus` needs (host paths). */
export function gpuDevicePaths(gpus: number[]): string[] {
  return ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", ...gpus.map((g) => `/dev/nvidia${g}`)];
}

/** The 64-bit driver libraries in `ldconfig -p` output, one host path per soname (the toolkit
 * mounts the same set). */
export function driverLibrariesFromLdconfig(ldconfigOutput: string): string[] {
  const found = new Map<string, string>();
  for (const line of ldconfigOutput.split("\n")) {
    // "	libcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1"
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const [, soname, flags, hostPath] = m;
    if (!flags.includes("x86-64") && !flags.includes("AArch64")) continue;
    if (!DRIVER_LIBRARIES.some((lib) => soname.startsWith(lib))) continue;
    // The versioned soname (libcuda.so.1), not the dev link (libcuda.so).
    if (/\.so$/.test(soname)) continue;
    if (!found.has(soname)) found.set(soname, hostPath);
  }
  return [...found.values()];
}

export interface GpuSandbox {
  isolation: Exclude<Isolation, "gvisor">;
  devices: HostDevice[];
  /** Host paths of the driver libraries (driverLibrariesFromLdconfig). */
  libraries: string[];
  /** Host path of nvidia-smi, if the host has one. */
  nvidiaSmi?: string;
  /** Indices of the GPUs given to the kernel, in order: CUDA numbers them from 0 inside. */
  gpus: number[];
}

type OciConfig = Record<string, unknown> & {
  process: { env: string[] };
  mounts: Array<Record<string, unknown>>;
  linux: Record<string, unknown>;
};

/** `config` with the GPU's devices, cgroup rules, driver mounts and environment added. */
export function withGpu(config: Record<string, unknown>, gpu: GpuSandbox): Record<string, unknown> {
  if (gpu.gpus.length === 0) throw new Error("a GPU sandbox needs at least one GPU");
  const wanted = new Set(gpuDevicePaths(gpu.gpus));
  const missing = [...wanted].filter((p) => !gpu.devices.some((d) => d.path === p));
  // nvidia-uvm-tools is optional (profilers); the others are not.
  const required = missing.filter((p) => p !== "/dev/nvidia-uvm-tools");
  if (required.length) throw new Error(`the host has no ${required.join(", ")}: is the NVIDIA driver loaded?`);
  if (gpu.libraries.length === 0 || !gpu.libraries.some((l) => /\/libcuda\.so\.\d/.test(l)))
    throw new Error("the host's NVIDIA driver libraries (libcuda.so.1) were not found by ldconfig");
  const devices = gpu.devices.filter((d) => wanted.has(d.path));
  const c = structuredClone(config) as OciConfig;
  const lib = (host: string) => ({
    destination: `${DRIVER_LIB_DIR}/${host.split("/").at(-1)}`,
    type: "bind",
    source: host,
    options: ["rbind", "ro", "nosuid", "nodev"],
  });
  c.mounts = [
    ...c.mounts,
    ...gpu.libraries.map(lib),
    ...(gpu.nvidiaSmi
      ? [{ destination: `${DRIVER_BIN_DIR}/nvidia-smi`, type: "bind", source: gpu.nvidiaSmi, options: ["rbind", "ro", "nosuid", "nodev"] }]
      : []),
  ];
  c.process.env = [
    ...c.process.env.map((e) => (e.startsWith("PATH=") ? `${e}:${DRIVER_BIN_DIR}` : e)),
    `LD_LIBRARY_PATH=${DRIVER_LIB_DIR}`,
    // Inside, the kernel's GPUs are 0..n-1 whatever their host indices.
    `NVIDIA_VISIBLE_DEVICES=${gpu.gpus.join(",")}`,
    "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
  ];
  const resources = (c.linux.resources as Record<string, unknown> | undefined) ?? {};
  c.linux = {
    ...c.linux,
    devices: devices.map((d) => ({ path: d.path, type: "c", major: d.major, minor: d.minor, fileMode: d.fileMode, uid: 0, gid: 0 })),
    resources: {
      ...resources,
      // Deny everything, then allow exactly these nodes (the usual OCI device-cgroup shape).
      devices: [
        { allow: false, access: "rwm" },
        ...devices.map((d) => ({ allow: true, type: "c", major: d.major, minor: d.minor, access: "rwm" })),
      ],
    },
  };
  return c;
}

/** runsc's flags for a GPU sandbox: nvproxy serves the devices from the spec. */
export function runscGpuFlags(isolation: Isolation): string[] {
  return isolation === "gvisor-nvproxy" ? ["--nvproxy"] : [];
}

/** The host's device nodes among `paths` with their numbers (absent ones are left out). */
export function hostDevices(paths: string[], stat: (p: string) => { rdev: number; mode: number } = statSync): HostDevice[] {
  const out: HostDevice[] = [];
  for (const p of paths) {
    try {
      const s = stat(p);
      // Linux's dev_t: major in bits 8-19 (and 32+), minor in 0-7 and 20-31.
      out.push({ path: p, major: (s.rdev >> 8) & 0xfff, minor: (s.rdev & 0xff) | ((s.rdev >> 12) & 0xfff00), fileMode: s.mode & 0o777 });
    } catch {
      /* not on this host */
    }
  }
  return out;
}
