// A notebook's own pip packages, which `%pip install` records: they travel in the notebook's
// nbformat metadata (`metadata.cellar.image`), so an export, a teammate, a schedule and the next
// session get the same packages. The gateway builds them as a layer over `from` (cached by what
// went into it) and runs the notebook's kernel on that image.
import { z } from "zod";
import { imageNameSchema } from "./http/notebooks";

export const notebookPackagesSchema = z.object({
  /** The image the packages are layered over (the notebook's image before its first %pip). */
  from: imageNameSchema,
  /** Requirements as the user typed them (`tqdm`, `requests>=2`), in the order first asked. */
  pip: z.array(z.string().min(1).max(200)).min(1).max(200),
  /** pip's resolution of `pip` over `from` (versions and hashes): the gateway's lock file's JSON. */
  lock: z.unknown().optional(),
});
export type NotebookPackages = z.infer<typeof notebookPackagesSchema>;

/** The names of the images the gateway makes of one notebook's packages (`pip-` and 12 hex
 * digits of what they hold): not for choosing by name, and no saved image may take one. */
export const PACKAGES_IMAGE_PATTERN = /^pip-[0-9a-f]{12}$/;
export const isPackagesImage = (name: string) => PACKAGES_IMAGE_PATTERN.test(name);

/** The notebook's packages in its metadata, or null when it has none (or they do not parse). */
export function notebookPackagesOf(metadata: Record<string, unknown> | undefined): NotebookPackages | null {
  const cellar = metadata?.cellar;
  if (!cellar || typeof cellar !== "object") return null;
  const parsed = notebookPackagesSchema.safeParse((cellar as { image?: unknown }).image);
  return parsed.success ? parsed.data : null;
}

/** The metadata with the packages set (null: removed), the rest of `cellar` kept. */
export function withNotebookPackages(metadata: Record<string, unknown>, packages: NotebookPackages | null): Record<string, unknown> {
  const { image: _old, ...cellar } = (metadata.cellar && typeof metadata.cellar === "object" ? metadata.cellar : {}) as Record<
    string,
    unknown
  >;
  const next = packages ? { ...cellar, image: packages } : cellar;
  const { cellar: _c, ...rest } = metadata;
  return Object.keys(next).length ? { ...rest, cellar: next } : rest;
}

/** `tqdm==4.66.1` → `tqdm`: the distribution a requirement names (PEP 503 normalised). */
export function requirementName(requirement: string): string {
  const name = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement)?.[1] ?? requirement.trim();
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}
