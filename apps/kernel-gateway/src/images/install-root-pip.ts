// A root image's pip packages (the `pip` of a spec with `debian`, e.g. ipywidgets 8 in base, newer
// than bookworm has), installed straight into the tree scripts/build-base-image.sh is building,
// from the spec's lock beside it (resolved over that tree and written first when none applies).
// Same resolver and installer as pip layers (pip-layer.ts): the wheels land in /usr/local, the
// Debian packages stay, and a wheel whose hash is not the lock's is refused.
//
//   node --import tsx apps/kernel-gateway/src/images/install-root-pip.ts SPEC_FILE ROOTFS
//
// The index is CELLAR_PIP_INDEX_URL (the build script's choice). Prints the lock's file.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { readImageSpec } from "./image-specs";
import { currentLock, installPipLock, resolvePipLock } from "./pip-layer";
import { lockFileOf, specRequirements } from "./pip-lock";

const [specFile, rootfs] = process.argv.slice(2);
if (!specFile || !rootfs) {
  console.error("usage: install-root-pip.ts SPEC_FILE ROOTFS");
  process.exit(2);
}
const spec = readImageSpec(specFile);
const requirements = specRequirements(spec);
if (!requirements.length) process.exit(0);

const log = (line: string) => console.error(`[install-root-pip] ${line}`);
const build = {
  parentRoot: rootfs,
  parentName: spec.name,
  requirements,
  out: path.join(path.dirname(rootfs), `.root-pip-${process.pid}`),
  index: process.env.CELLAR_PIP_INDEX_URL || undefined,
  log,
};
try {
  let lock = currentLock(spec, requirements);
  if (!lock) {
    lock = await resolvePipLock(spec.name, build);
    fs.writeFileSync(lockFileOf(specFile, spec.name), `${JSON.stringify(lock, null, 2)}\n`);
    log(`wrote ${lockFileOf(specFile, spec.name)}: commit it, so every machine builds the same wheels`);
  }
  await installPipLock(lock, build);
  const upper = path.join(build.out, "upper");
  // A fresh install over a tree only adds files; an overlay whiteout would mean pip removed one.
  const whiteouts = execFileSync("find", [upper, "-type", "c"], { encoding: "utf8" }).trim();
  if (whiteouts) throw new Error(`pip removed files of the Debian tree, which a root image cannot take: ${whiteouts}`);
  execFileSync("cp", ["-a", `${upper}/.`, rootfs]);
  log(`installed ${lock.packages.map((p) => `${p.name} ${p.version}`).join(", ")}`);
  console.log(lockFileOf(specFile, spec.name));
} catch (err) {
  log(`failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(build.out, { recursive: true, force: true });
}
