// Maps an image name to a root filesystem on this worker. Until the lazy filesystem
// (packages/fs-client) lands, the only image is the base image built by
// scripts/build-base-image.sh into the shared cache.
import fs from "node:fs";
import path from "node:path";

export function resolveImageRootfs(cacheDir: string, image: string): string {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(image)) throw new Error(`invalid image name ${JSON.stringify(image)}`);
  const rootfs = path.join(cacheDir, "images", image, "rootfs");
  if (!fs.existsSync(path.join(rootfs, "usr/bin/python3"))) {
    throw new Error(`image ${image} is not built on this worker (expected ${rootfs}); run scripts/build-base-image.sh`);
  }
  return rootfs;
}
