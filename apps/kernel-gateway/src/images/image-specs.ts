// Image specs (images/*.json at the repo root): what each image a notebook can choose is made of.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

const DEBIAN_PACKAGE = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, "not a Debian package name");
const MODULE = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, "not a Python module name");

const specSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "lowercase letters, digits and dashes"),
    description: z.string().max(200),
    /** A root image: debootstrapped (only by scripts/build-base-image.sh, for "base"). */
    debian: z
      .object({ suite: z.string(), packages: z.array(DEBIAN_PACKAGE).min(1) })
      .strict()
      .optional(),
    /** A layered image: its parent, and the Debian packages it adds. */
    from: z.string().optional(),
    packages: z.array(DEBIAN_PACKAGE).optional(),
    /** Modules a kernel imports before the image's warm snapshot. */
    warmup: z.array(MODULE).default([]),
  })
  .strict()
  .refine((s) => (s.debian ? !s.from && !s.packages : !!s.from && !!s.packages?.length), {
    message: "a spec has either `debian` (a root image) or `from` and `packages` (a layer)",
  });

export type ImageSpec = z.infer<typeof specSchema>;

/** Every spec in `dir`, parents before children; throws naming the file and field at fault. */
export function loadImageSpecs(dir: string): ImageSpec[] {
  const specs = new Map<string, ImageSpec>();
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    } catch (err) {
      throw new Error(`image spec ${file}: not valid JSON (${(err as Error).message})`);
    }
    const parsed = specSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`image spec ${file}: ${issue.path.join(".") || "(spec)"}: ${issue.message}`);
    }
    if (`${parsed.data.name}.json` !== file)
      throw new Error(`image spec ${file}: its name is ${parsed.data.name}; the file must be ${parsed.data.name}.json`);
    specs.set(parsed.data.name, parsed.data);
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
