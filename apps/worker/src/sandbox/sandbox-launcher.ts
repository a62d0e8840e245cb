// How the worker starts `runsc run`/`restore`: through native/cellar-sandbox-launch, which joins
// the sandbox's memory cgroup (so runsc, the sandbox and the gofer are all charged to it) and
// reaps the processes runsc leaves behind as they exit (see the C file for why that matters).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SandboxCgroup } from "./sandbox-cgroup";

const nativeDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../native");
export const LAUNCHER_PATH = path.join(nativeDir, "build/cellar-sandbox-launch");

let built = false;
/** The launcher's path, building it first (`make -C apps/worker/native`, under a second) if a
 * checkout has not run the worker's build yet. */
export function launcherPath(): string {
  if (built || existsSync(LAUNCHER_PATH)) {
    built = true;
    return LAUNCHER_PATH;
  }
  try {
    execFileSync("make", ["-s", "-C", nativeDir], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`building the sandbox launcher failed: ${(e.stderr?.toString() || e.message).trim()}`);
  }
  built = true;
  return LAUNCHER_PATH;
}

/** The command line that runs `command` in the sandbox's cgroup (none: the worker's own). */
export function launchCommand(cgroup: SandboxCgroup | null, command: string, args: string[]): [string, string[]] {
  return [launcherPath(), [cgroup?.dir ?? "-", command, ...args]];
}
