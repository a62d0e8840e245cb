// `POST /api/images` (`cellar image build FILE`): the uploaded spec, requirements file and lock are
// written to a directory of their own under the cache, built by the catalog, and the lock comes
// back for the CLI to keep beside the user's spec.
import fs from "node:fs";
import path from "node:path";
import type { buildImageBodySchema, builtImageReplySchema } from "@cellar/protocol";
import type { z } from "zod";
import type { CatalogImage, ImageCatalog } from "./image-catalog";
import { parseImageSpec, uploadedSpecDir } from "./image-specs";
import { lockFileOf } from "./pip-lock";

export const imageReply = ({ name, description, imageId, parent, packages, layerBytes }: CatalogImage) => ({
  name,
  description,
  imageId,
  parent,
  packages,
  layerBytes,
});

export async function buildImageRequest(
  catalog: ImageCatalog,
  cacheDir: string,
  body: z.output<typeof buildImageBodySchema>,
): Promise<z.output<typeof builtImageReplySchema>> {
  // Checked here first, so a bad spec is refused before anything is written.
  const spec = parseImageSpec(body.spec, "spec.json");
  const dir = uploadedSpecDir(cacheDir, spec.name);
  const isNew = !fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${spec.name}.json`);
  fs.writeFileSync(file, JSON.stringify(body.spec));
  if (spec.requirements) {
    if (body.requirements === undefined)
      throw new Error(`image spec ${spec.name}: its requirements file ${spec.requirements} was not sent`);
    fs.mkdirSync(path.dirname(path.join(dir, spec.requirements)), { recursive: true });
    fs.writeFileSync(path.join(dir, spec.requirements), body.requirements);
  }
  const lockFile = lockFileOf(file, spec.name);
  if (body.lock) fs.writeFileSync(lockFile, body.lock);
  else fs.rmSync(lockFile, { force: true });
  const log: string[] = [];
  const image = await catalog
    .build(file, (line) => log.push(line))
    .catch((err: Error) => {
      // Uploaded specs are loaded again at start: one that never built must not come back.
      if (isNew) fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    });
  return { image: imageReply(image), lock: fs.existsSync(lockFile) ? fs.readFileSync(lockFile, "utf8") : null, log };
}
