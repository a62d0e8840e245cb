// What a warm snapshot depends on. A checkpoint only restores under the runsc and platform that
// wrote it, carries the bridge code and the rlimits it booted with, and holds the warm-up's
// modules: change any of them and it is a different snapshot.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { SandboxLimits } from "../sandbox/bundle";

/** The modules a warm-up imports when the image spec names none. */
export const DEFAULT_WARMUP = ["numpy", "pandas", "matplotlib", "scipy"];

export interface WarmSnapshotSpec {
  imageId: string;
  limits: SandboxLimits;
  /** Modules imported before the checkpoint. */
  warmup: string[];
  /** The parent image whose snapshot restores onto this one while it has none of its own: a pip
   * layer only adds files under /usr/local, which the parent's kernel already has on sys.path
   * (the directory exists, empty, in the parent), and replaces nothing the parent imported. Not
   * part of the key. */
  from?: { imageId: string; warmup: string[] };
}

export interface KernelRuntime {
  runscVersion: string;
  platform: string;
  bridgeVersion: string;
}

export function warmSnapshotKey(spec: WarmSnapshotSpec, runtime: KernelRuntime): string {
  const canonical = JSON.stringify({
    v: 1,
    imageId: spec.imageId,
    limits: { memoryBytes: spec.limits.memoryBytes, pids: spec.limits.pids },
    warmup: [...spec.warmup],
    runsc: runtime.runscVersion,
    platform: runtime.platform,
    bridge: runtime.bridgeVersion,
  });
  return createHash("sha256").update(canonical).digest("hex");
}

/** Hash of every file of the kernel bridge, so editing it retires old snapshots. */
export async function bridgeVersion(bridgeDir: string): Promise<string> {
  const hash = createHash("sha256");
  for (const name of (await readdir(bridgeDir)).filter((n) => n.endsWith(".py")).sort()) {
    hash
      .update(name)
      .update("\0")
      .update(await readFile(path.join(bridgeDir, name)))
      .update("\0");
  }
  return hash.digest("hex");
}

const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** The warm-up as Python code; module names are checked, since they come from an image spec. */
export function warmupCode(modules: string[]): string {
  for (const m of modules) if (!MODULE_NAME.test(m)) throw new Error(`not a Python module name in the warm-up: ${JSON.stringify(m)}`);
  return modules.map((m) => `import ${m}`).join("\n");
}
