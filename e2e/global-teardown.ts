// The test stack is killed outright when the run ends, so its FUSE daemon cannot unmount the
// image it served. Detach what is left under this run's home, then remove the home.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

export default function globalTeardown(): void {
  const home = process.env.CELLAR_E2E_HOME;
  if (!home) return;
  const mounts = fs
    .readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1])
    .filter(Boolean);
  for (const m of mounts) if (m.startsWith(`${home}/`)) execFileSync("umount", ["-l", m]);
  // The stack's processes may still be writing as they die (the stack is stopped after this
  // teardown): retry ENOTEMPTY for a few seconds. A home they keep writing into past that is left
  // in the temporary folder with a warning: failing here failed a run whose tests had all passed.
  try {
    fs.rmSync(home, { recursive: true, force: true, maxRetries: 40, retryDelay: 250 });
  } catch (err) {
    console.warn(`e2e teardown: ${home} was left behind (${(err as Error).message})`);
  }
}
