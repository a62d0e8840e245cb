// How this worker can sandbox a GPU kernel. gVisor reaches a GPU only through nvproxy, and each
// runsc release knows a fixed range of host driver versions (it proxies the driver's ioctls, which
// change between versions); outside it, the kernel runs in the fallback runtime (crun with the
// device nodes passed through), which shares the host kernel. Which runsc knows which drivers is
// stated here and nowhere else.
import type { GpuInfo, Isolation } from "@cellar/protocol";
import { runscReleaseDate } from "../sandbox/runsc";
import type { Exec } from "./nvidia-smi";

/** The host driver versions each runsc release's nvproxy supports, oldest release first. A runsc
 * newer than the last entry is taken to know that entry's range (it may know more: the newer range
 * is not known here, so the conservative answer is given). Older than the first: no nvproxy. */
export const NVPROXY_DRIVERS: ReadonlyArray<{ runsc: number; min: string; max: string }> = [
  // runsc 20240729, as Debian bookworm-backports ships it.
  { runsc: 20240729, min: "535.104.12", max: "550.90.07" },
];

/** Compares dotted driver versions numerically ("550.90.07" < "580.95.05"); <0, 0 or >0. */
export function compareDriverVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The driver range the runsc of that version string supports, or undefined (no nvproxy known). */
export function nvproxyRange(runscVersion: string): { runsc: number; min: string; max: string } | undefined {
  const date = runscReleaseDate(runscVersion);
  if (date === null) return undefined;
  return NVPROXY_DRIVERS.filter((e) => e.runsc <= date).at(-1);
}

export interface GpuIsolationFacts {
  gpus: GpuInfo[];
  /** `runsc --version`'s output, or null where runsc is not installed. */
  runscVersion: string | null;
  /** `crun --version`'s first line, or null where crun is not installed. */
  crunVersion: string | null;
}

/** The isolation a GPU kernel gets here, and why. Undefined: no GPUs. */
export function gpuIsolationFor(facts: GpuIsolationFacts): { isolation: Isolation | null; note: string } | undefined {
  const { gpus, runscVersion, crunVersion } = facts;
  if (gpus.length === 0) return undefined;
  if (gpus.every((g) => g.source === "label"))
    return { isolation: "gvisor", note: "GPUs declared by labels only: nothing is passed through, kernels run in gVisor on the CPU" };
  const driver = gpus.find((g) => g.driver)?.driver;
  const why = whyNotNvproxy(driver, runscVersion);
  if (!why) {
    const range = nvproxyRange(runscVersion!)!;
    return {
      isolation: "gvisor-nvproxy",
      note: `gVisor with nvproxy: runsc ${range.runsc} supports driver ${driver} (${range.min}–${range.max})`,
    };
  }
  if (crunVersion) return { isolation: "crun-passthrough", note: `${why}: ${crunVersion} with the GPU devices passed through` };
  return { isolation: null, note: `${why}, and crun (the fallback runtime) is not installed: GPU kernels cannot start here` };
}

function whyNotNvproxy(driver: string | undefined, runscVersion: string | null): string | undefined {
  if (!runscVersion) return "runsc is not installed";
  const range = nvproxyRange(runscVersion);
  if (!range) return `${runscVersion} predates the nvproxy releases Cellar knows (${NVPROXY_DRIVERS[0]!.runsc} on)`;
  if (!driver) return "the NVIDIA driver's version is unknown (nvidia-smi did not say)";
  if (compareDriverVersions(driver, range.min) < 0 || compareDriverVersions(driver, range.max) > 0)
    return `driver ${driver} is outside runsc ${range.runsc}'s nvproxy range (${range.min}–${range.max})`;
  return undefined;
}

/** The versions of runsc and crun installed here (null: not installed or not runnable). */
export async function runtimeVersions(exec: Exec): Promise<{ runscVersion: string | null; crunVersion: string | null }> {
  const firstLine = (file: string) =>
    exec(file, ["--version"]).then(
      (out) => out.split("\n")[0]!.trim().replace(/\s+/g, " ") || null,
      () => null,
    );
  const [runscVersion, crunVersion] = await Promise.all([firstLine("runsc"), firstLine("crun")]);
  return { runscVersion, crunVersion };
}
