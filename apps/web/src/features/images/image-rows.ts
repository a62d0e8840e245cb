// The Images page's model: the catalog's flat list as a tree (each layer under the image whose
// files it shares), with what each row says about sharing. Kept out of the component so the
// rules (what counts as a notebook's image, which layers are the very same files) are tested
// without rendering.
import type { ImageInfo } from "@cellar/kernel-client";
import { isPackagesImage } from "@cellar/protocol";

/** root: a whole tree of its own (debootstrapped); layer: files over a parent's; notebook: the
 * layer `%pip install` made for one notebook's packages. */
export type ImageKind = "root" | "layer" | "notebook";

export interface ImageRow {
  name: string;
  description: string;
  kind: ImageKind;
  parent: string | null;
  /** The images whose files this one reads through, nearest first (a layer of a layer: both). */
  ancestors: string[];
  /** Debian packages (a root image's, or a Debian layer's) or pip's `name==version`s. */
  packages: string[];
  packageKind: "debian" | "pip" | null;
  layerBytes: number | null;
  /** The first 12 hex digits of the manifest's hash, as the CLI prints it. */
  shortId: string | null;
  /** Layers built directly over this one. */
  children: string[];
  /** Other names for the very same files (a notebook's packages saved under a name: one layer). */
  sameAs: string[];
  /** How deep in the tree (0: a root), for indenting. */
  depth: number;
}

export function imageRows(images: ImageInfo[]): ImageRow[] {
  const byName = new Map(images.map((i) => [i.name, i]));
  const childrenOf = new Map<string, ImageInfo[]>();
  for (const image of images) {
    // An image whose parent is not listed (gone since) is shown as a root of its own.
    const parent = image.parent && byName.has(image.parent) ? image.parent : "";
    childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), image]);
  }
  // Named images first, the notebooks' own after them: the ones people chose come to the eye.
  const order = (a: ImageInfo, b: ImageInfo) =>
    Number(isPackagesImage(a.name)) - Number(isPackagesImage(b.name)) || a.name.localeCompare(b.name);
  const rows: ImageRow[] = [];
  const visit = (image: ImageInfo, ancestors: string[]) => {
    if (rows.some((r) => r.name === image.name)) return;
    const packages = image.packages ?? [];
    const children = [...(childrenOf.get(image.name) ?? [])].sort(order);
    rows.push({
      name: image.name,
      description: image.description,
      kind: isPackagesImage(image.name) ? "notebook" : image.parent ? "layer" : "root",
      parent: image.parent ?? null,
      ancestors,
      packages,
      packageKind: packages.length === 0 ? null : packages.every((p) => p.includes("==")) ? "pip" : "debian",
      layerBytes: image.layerBytes ?? null,
      shortId: image.imageId ? image.imageId.slice(0, 12) : null,
      children: children.map((c) => c.name),
      sameAs: image.imageId ? images.filter((o) => o.name !== image.name && o.imageId === image.imageId).map((o) => o.name) : [],
      depth: ancestors.length,
    });
    for (const child of children) visit(child, [image.name, ...ancestors]);
  };
  for (const root of [...(childrenOf.get("") ?? [])].sort(order)) visit(root, []);
  return rows;
}

/** What the Shares column says of a row. */
export function sharingText(row: ImageRow): string {
  const parts: string[] = [];
  if (row.kind === "notebook") parts.push("made by %pip in a notebook");
  if (row.ancestors.length) parts.push(`reads ${row.ancestors.map((a) => `${a}'s`).join(" and ")} files, adds its own`);
  else if (row.parent) parts.push(`layer over ${row.parent} (not on this gateway now)`);
  else parts.push("a whole tree of its own");
  if (row.sameAs.length) parts.push(`the very same files as ${row.sameAs.join(", ")}`);
  if (row.children.length) parts.push(`under ${row.children.join(", ")}`);
  return parts.join("; ");
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 2 ** 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 2 ** 30) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
