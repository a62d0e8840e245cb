// Image specs (images/*.json at the repo root): what each image a notebook can choose is made of.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

const DEBIAN_PACKAGE = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, "not a Debian package name");
/** A PEP 508 requirement without URL or pip options: name, extras, version specifiers, markers. */
export const PIP_REQUIREMENT = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._, -]+\])?\s*((===|==|!=|<=|>=|~=|<|>)\s*[A-Za-z0-9.*+!_-]+\s*(,\s*(===|==|!=|<=|>=|~=|<|>)\s*[A-Za-z0-9.*+!_-]+\s*)*)?(;.+)?$/,
    "not a requirement like tqdm, tqdm==4.66.1 or requests>=2,<3 (URLs and pip options are not allowed)",
  );
const MODULE = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, "not a Python module name");

const specSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "lowercase letters, digits and dashes"),
    description: z.string().max(200),
    /** A root image: debootstrapped (only by scripts/build-base-image.sh, for "base"), plus its
     * `pip` packages where bookworm's are too old (install-root-pip.ts). */
    debian: z
      .object({ suite: z.string(), packages: z.array(DEBIAN_PACKAGE).min(1) })
      .strict()
      .optional(),
    /** A layered image: its parent, and the Debian packages or the pip packages it adds. */
    from: z.string().optional(),
    packages: z.array(DEBIAN_PACKAGE).optional(),
    /** pip requirements, resolved on the host into `<name>.lock.json` beside the spec. */
    pip: z.array(PIP_REQUIREMENT).optional(),
    /** A requirements.txt beside the spec (a relative path), read as more `pip` requirements. */
    requirements: z
      .string()
      .regex(/^(?!\/)(?!.*\.\.)[\w./-]+$/, "a relative path beside the spec, like requirements.txt")
      .optional(),
    /** Modules a kernel imports before the image's warm snapshot. */
    warmup: z.array(MODULE).default([]),
  })
  .strict()
  .refine(
    (s) =>
      s.debian ? !s.from && !s.packages && !s.requirements : !!s.from && (!!s.packages?.length || !!s.pip?.length || !!s.requirements),
    {
      message: "a spec has either `debian` (a root image, with optional `pip`) or `from` and `packages`, `pip` or `requirements` (a layer)",
    },
  )
  .refine((s) => !(s.packages?.length && (s.pip?.length || s.requirements)), {
    message: "a layer adds Debian `packages` or pip packages, not both: put them in two specs, one `from` the other",
  });

export type ImageSpec = z.infer<typeof specSchema> & {
  /** Where the spec was read from: its lock and requirements file lie beside it. */
  file?: string;
};

/** A spec's JSON checked; throws naming the file and the field at fault. */
export function parseImageSpec(raw: unknown, file: string): ImageSpec {
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`image spec ${path.basename(file)}: ${issue.path.join(".") || "(spec)"}: ${issue.message}`);
  }
  return { ...parsed.data, file };
}

/** A spec file read and checked (for `cellar image build FILE` and the loader). */
export function readImageSpec(file: string): ImageSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`image spec ${path.basename(file)}: not valid JSON (${(err as Error).message})`);
  }
  return parseImageSpec(raw, file);
}

/** Every spec in `dir`, parents before children; throws naming the file and field at fault. */
export function loadImageSpecs(dir: string): ImageSpec[] {
  const specs = new Map<string, ImageSpec>();
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json") && !f.endsWith(".lock.json"))
    .sort()) {
    const spec = readImageSpec(path.join(dir, file));
    if (`${spec.name}.json` !== file) throw new Error(`image spec ${file}: its name is ${spec.name}; the file must be ${spec.name}.json`);
    specs.set(spec.name, spec);
  }
  const ordered: ImageSpec[] = [];
  const visit = (name: string, chain: string[]) => {
    if (ordered.some((s) => s.name === name)) return;
    if (chain.includes(name)) throw new Error(`image specs: ${[...chain, name].join(" → ")} is a cycle`);
    const spec = specs.get(name);
    if (!spec) throw new Error(`image spec ${chain.at(-1)}: its parent ${name} has no spec`);
    if (spec.from) visit(spec.from, [...chain, name]);
    ordered.push(spec);
  };
  for (const name of specs.keys()) visit(name, []);
  return ordered;
}

/** Where `POST /api/images` (`cellar image build`, "Save as image") keeps an uploaded spec with
 * its requirements and lock: `<dir>/<name>/<name>.json`. */
export function uploadedSpecDir(cacheDir: string, name: string): string {
  return path.join(uploadedSpecsRoot(cacheDir), name);
}

const uploadedSpecsRoot = (cacheDir: string) => path.join(cacheDir, "images", "uploaded");

/** Every uploaded spec, parents before children where both were uploaded. A spec that no longer
 * reads is reported through `onError` and left out; its files stay. */
export function loadUploadedSpecs(cacheDir: string, onError: (file: string, err: Error) => void): ImageSpec[] {
  const root = uploadedSpecsRoot(cacheDir);
  const specs: ImageSpec[] = [];
  for (const name of fs.existsSync(root) ? fs.readdirSync(root).sort() : []) {
    const file = path.join(root, name, `${name}.json`);
    if (!fs.existsSync(file)) continue;
    try {
      specs.push(readImageSpec(file));
    } catch (err) {
      onError(file, err as Error);
    }
  }
  const ordered: ImageSpec[] = [];
  const placed = (name?: string) => !name || !specs.some((s) => s.name === name) || ordered.some((s) => s.name === name);
  for (let left = specs; left.length; ) {
    const ready = left.filter((s) => placed(s.from));
    // A cycle among uploads: what is left goes last, and fails for want of its parent.
    ordered.push(...(ready.length ? ready : left));
    left = ready.length ? left.filter((s) => !ready.includes(s)) : [];
  }
  return ordered;
}
