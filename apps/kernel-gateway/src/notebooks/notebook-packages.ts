// A notebook's own pip packages (`%pip install` records them in its metadata, cellar.image) as
// an image: a pip layer over the image it had, named by what it holds, so two notebooks asking
// for the same packages share one cached layer. Any gateway builds it again from the notebook
// alone (a restart, another replica, an imported .ipynb): the metadata carries the lock.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { notebookPackagesOf, requirementName, type Notebook, type NotebookPackages } from "@cellar/protocol";
import type { ImageCatalog } from "../images/image-catalog";
import { lockFileOf, parseLock, parseRequirementsText } from "../images/pip-lock";
import type { KernelImage } from "../kernels/kernel-manager";
import type { PipCommand } from "../kernels/pip-magic";

/** The image a notebook's packages make: `pip-` and 12 hex digits of what goes into it. */
export function packagesImageName(packages: Pick<NotebookPackages, "from" | "pip">): string {
  const key = JSON.stringify({ from: packages.from, pip: packages.pip });
  return `pip-${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
}

/** The packages after a cell's pip commands: an install adds (a name asked for again is
 * replaced, keeping its place), an uninstall removes; null when none are left. Throws, naming
 * it, for a package to uninstall that the notebook never installed. */
export function nextPackages(
  current: NotebookPackages | null,
  image: string,
  commands: Array<Exclude<PipCommand, { op: "list" }>>,
  filesRequirements: string[] = [],
): NotebookPackages | null {
  let pip = [...(current?.pip ?? [])];
  const from = current?.from ?? image;
  for (const command of commands) {
    if (command.op === "install") {
      for (const requirement of [...command.requirements, ...(command.requirementFiles.length ? filesRequirements : [])]) {
        const name = requirementName(requirement);
        const at = pip.findIndex((r) => requirementName(r) === name);
        if (at >= 0) pip[at] = requirement;
        else pip.push(requirement);
      }
    } else {
      for (const name of command.names) {
        const wanted = requirementName(name);
        if (!pip.some((r) => requirementName(r) === wanted))
          throw new Error(
            `${name} is not one of this notebook's packages (${pip.join(", ") || "it has none"}), so it cannot be uninstalled: ` +
              `what the image ${from} comes with stays.`,
          );
        pip = pip.filter((r) => requirementName(r) !== wanted);
      }
    }
  }
  // The lock was for the old list; the builder resolves the new one (its cache may know it).
  return pip.length ? { from, pip, ...(JSON.stringify(pip) === JSON.stringify(current?.pip) ? { lock: current?.lock } : {}) } : null;
}

/** The notebook's packages over another image, when its image was chosen anew (the picker) while
 * it has packages: they are layered over the chosen one, resolved again. Null: nothing to do. */
export function rebasedPackages(
  metadata: Record<string, unknown> | undefined,
  chosen: string,
): { image: string; packages: NotebookPackages } | null {
  const packages = notebookPackagesOf(metadata);
  if (!packages || chosen === packagesImageName(packages) || chosen === packages.from) return null;
  const rebased = { from: chosen, pip: packages.pip };
  return { image: packagesImageName(rebased), packages: rebased };
}

export interface PackagesChange {
  /** The image the kernel moves onto (the bare parent after the last uninstall). */
  image: KernelImage;
  /** What the notebook records once the kernel is on it. */
  packages: NotebookPackages | null;
}

export interface NotebookPackagesDeps {
  catalog: ImageCatalog;
  cacheDir: string;
  notebooks: {
    get(id: string): Promise<Pick<Notebook, "image" | "metadata"> | null>;
    setPackages(id: string, image: string, packages: NotebookPackages | null): Promise<void>;
  };
  /** A file of the notebook's workspace, as text (for `%pip install -r FILE`). */
  readWorkspaceFile(notebookId: string, file: string): Promise<string>;
}

export class NotebookPackagesService {
  constructor(private readonly deps: NotebookPackagesDeps) {}

  /** The image a kernel of the notebook starts on: its packages' image, built here if this
   * gateway has not got it yet (a cache hit, unless the layer was never built on this store). */
  async imageFor(name: string, packages: NotebookPackages | null, log?: (line: string) => void): Promise<KernelImage> {
    if (!packages) {
      const id = this.deps.catalog.imageId(name);
      if (!id) throw new Error(`The image ${name} is not available on this gateway.`);
      return { name, id };
    }
    return (await this.build(packages, log)).image;
  }

  /** What a cell's pip commands make of the notebook's packages, built: the kernel is not
   * touched here, and nothing is recorded until `record`. */
  async change(
    notebookId: string,
    commands: Array<Exclude<PipCommand, { op: "list" }>>,
    say: (line: string) => void,
  ): Promise<PackagesChange> {
    const notebook = await this.deps.notebooks.get(notebookId);
    if (!notebook) throw new Error("The notebook is gone.");
    const current = notebookPackagesOf(notebook.metadata);
    const files = commands.flatMap((c) => (c.op === "install" ? c.requirementFiles : []));
    const fromFiles: string[] = [];
    for (const file of files) {
      const text = await this.deps.readWorkspaceFile(notebookId, file).catch((error: Error) => {
        throw new Error(`${file} could not be read from the notebook's files: ${error.message}`);
      });
      fromFiles.push(...parseRequirementsText(text, file));
    }
    const packages = nextPackages(current, notebook.image ?? "base", commands, fromFiles);
    if (!packages) {
      const from = current!.from;
      const id = this.deps.catalog.imageId(from);
      if (!id) throw new Error(`The image ${from} is not available on this gateway.`);
      say(`no pip packages left: back to the image ${from}`);
      return { image: { name: from, id }, packages: null };
    }
    const built = await this.build(packages, say);
    return { image: built.image, packages: { ...packages, lock: built.lock } };
  }

  async record(notebookId: string, change: PackagesChange): Promise<void> {
    await this.deps.notebooks.setPackages(notebookId, change.image.name, change.packages);
  }

  private async build(packages: NotebookPackages, log?: (line: string) => void): Promise<{ image: KernelImage; lock: unknown }> {
    const name = packagesImageName(packages);
    const dir = path.join(this.deps.cacheDir, "images", "notebooks", name);
    const file = path.join(dir, `${name}.json`);
    fs.mkdirSync(dir, { recursive: true });
    const description = `${packages.from} + ${packages.pip.join(", ")}`;
    const spec = {
      name,
      description: description.length > 200 ? `${description.slice(0, 199)}…` : description,
      from: packages.from,
      pip: packages.pip,
    };
    fs.writeFileSync(file, JSON.stringify(spec, null, 2));
    const lockFile = lockFileOf(file, name);
    // The notebook's own lock wins: a teammate's session gets exactly the versions it recorded.
    if (packages.lock) fs.writeFileSync(lockFile, JSON.stringify(packages.lock, null, 2));
    const prefix = `gateway: image ${name}: `;
    const image = await this.deps.catalog.build(file, (line) =>
      log?.(line.startsWith(prefix) ? line.slice(prefix.length) : line.replace(/^gateway: /, "")),
    );
    const lock = fs.existsSync(lockFile) ? parseLock(fs.readFileSync(lockFile, "utf8"), lockFile) : undefined;
    return { image: { name, id: image.imageId }, lock };
  }
}
