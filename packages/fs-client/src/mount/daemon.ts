import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The C sources of the data-path daemon (see native/README.md). */
export const nativeDir = fileURLToPath(new URL("../../native", import.meta.url));

/** Where `make -C packages/fs-client/native` puts the daemon. */
export const defaultDaemonPath = fileURLToPath(new URL("../../native/build/cellar-lazyfs", import.meta.url));

/**
 * Compiles the daemon if its sources changed (make is a no-op otherwise) and returns its path.
 * Needs gcc, make, pkg-config and libfuse3-dev (scripts/install-system.sh).
 */
export async function buildDaemon(): Promise<string> {
  try {
    await run("make", ["-C", nativeDir], { maxBuffer: 4 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`building cellar-lazyfs failed: ${(e.stderr || e.message).trim()}`);
  }
  return defaultDaemonPath;
}

export function daemonIsBuilt(path = defaultDaemonPath): boolean {
  return existsSync(path);
}
