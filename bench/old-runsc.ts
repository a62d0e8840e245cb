// Debian bookworm's own runsc (20221219), the release Cellar ran on before bookworm-backports'
// 20240729: unpacked from its .deb into the cache (never installed), so benchmarks can run it
// beside the installed runsc as a baseline column.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const OLD_RUNSC_VERSION = "0.0~20221219.0-2+b3";

/** Path of the old runsc binary, downloading and unpacking its package on first use. */
export function oldRunsc(cacheDir = process.env.CELLAR_CACHE ?? "/var/cache/cellar"): string {
  const root = path.join(cacheDir, `runsc-${OLD_RUNSC_VERSION.replace(/[^0-9A-Za-z.+-]/g, "_")}`);
  const bin = path.join(root, "usr/bin/runsc");
  if (fs.existsSync(bin)) return bin;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "old-runsc-"));
  try {
    // `apt-get download` asks for the exact version from bookworm main; it needs fresh lists.
    const download = () =>
      execFileSync("apt-get", ["download", "-qq", `runsc=${OLD_RUNSC_VERSION}`], { cwd: tmp, stdio: ["ignore", "ignore", "pipe"] });
    try {
      download();
    } catch {
      execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
      download();
    }
    const deb = fs.readdirSync(tmp).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download runsc=${OLD_RUNSC_VERSION} left no package`);
    fs.mkdirSync(`${root}.part`, { recursive: true });
    execFileSync("dpkg-deb", ["-x", path.join(tmp, deb), `${root}.part`]);
    fs.rmSync(root, { recursive: true, force: true });
    fs.renameSync(`${root}.part`, root);
    return bin;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
