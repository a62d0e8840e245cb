// "Save this notebook's packages as a named image": the notebook's %pip packages and their lock
// become an uploaded spec, built the way `cellar image build` builds one (build-request.ts), so
// the named image is the same layer as the notebook's own pip-… image: the same wheels, a cache hit.
import { isPackagesImage, notebookPackagesOf, type builtImageReplySchema } from "@cellar/protocol";
import type { z } from "zod";
import { buildImageRequest } from "./build-request";
import type { ImageCatalog } from "./image-catalog";

export type SaveImageErrorCode = "no-packages" | "reserved-name" | "name-taken" | "build-failed";

export class SaveImageError extends Error {
  override name = "SaveImageError";
  constructor(
    readonly code: SaveImageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SaveImageRequest {
  name: string;
  description?: string;
  /** The notebook's nbformat metadata, where its packages live (cellar.image). */
  metadata: Record<string, unknown> | undefined;
  title: string;
}

export async function saveNotebookImage(
  catalog: ImageCatalog,
  cacheDir: string,
  request: SaveImageRequest,
): Promise<z.output<typeof builtImageReplySchema>> {
  const packages = notebookPackagesOf(request.metadata);
  if (!packages) throw new SaveImageError("no-packages", "This notebook has no pip packages to save: %pip install some first.");
  if (isPackagesImage(request.name))
    throw new SaveImageError("reserved-name", `${request.name} is a name the gateway gives notebooks' own images; choose another.`);
  // Built-in and uploaded names alike: saving never replaces an image someone may be running on.
  if (catalog.get(request.name)) throw new SaveImageError("name-taken", `An image named ${request.name} exists already.`);
  const description =
    request.description?.trim() || `${packages.pip.join(", ")} over ${packages.from}, saved from ${request.title || "a notebook"}`;
  const spec = {
    name: request.name,
    description: description.length > 200 ? `${description.slice(0, 199)}…` : description,
    from: packages.from,
    pip: packages.pip,
  };
  try {
    return await buildImageRequest(catalog, cacheDir, {
      spec,
      ...(packages.lock !== undefined && { lock: JSON.stringify(packages.lock, null, 2) }),
    });
  } catch (error) {
    throw new SaveImageError("build-failed", `building image ${request.name}: ${(error as Error).message}`, { cause: error });
  }
}
