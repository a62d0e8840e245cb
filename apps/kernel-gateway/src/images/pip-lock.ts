// A pip layer's lock (`<name>.lock.json` beside its spec) and what pip's answers mean: the
// requirements a spec asks for, the lock made from pip's dry-run report, the cache key, and pip's
// failures turned into errors that name the package or the index. No processes here: pip-layer.ts
// runs pip.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { PIP_REQUIREMENT, type ImageSpec } from "./image-specs";

/** Bump when building a pip layer changes in a way that should rebuild existing ones. */
export const PIP_BUILDER_VERSION = 1;
export const DEFAULT_PIP_INDEX = "https://pypi.org/simple";

const lockSchema = z
  .object({
    name: z.string(),
    /** The requirements this lock was resolved from: a spec asking for others is resolved again. */
    requirements: z.array(z.string()),
    index: z.string(),
    packages: z.array(
      z
        .object({
          name: z.string().min(1),
          version: z.string().min(1),
          wheel: z.string().regex(/\.whl$/, "not a wheel file name"),
          sha256: z.string().regex(/^[0-9a-f]{64}$/, "not a sha256"),
        })
        .strict(),
    ),
  })
  .strict();

export type PipLock = z.infer<typeof lockSchema>;

export const lockFileOf = (specFile: string, name: string) => path.join(path.dirname(specFile), `${name}.lock.json`);

/** The lock in `text`, checked; throws naming the file and the field at fault. */
export function parseLock(text: string, file: string): PipLock {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path.basename(file)}: not valid JSON (${(err as Error).message}); delete it to resolve again`);
  }
  const parsed = lockSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path.basename(file)}: ${issue.path.join(".") || "(lock)"}: ${issue.message}; delete it to resolve again`);
  }
  return parsed.data;
}

/** Every requirement a spec asks for: `pip`, then its requirements file's lines, in order. */
export function specRequirements(spec: ImageSpec): string[] {
  const reqs = [...(spec.pip ?? [])];
  if (spec.requirements) {
    if (!spec.file) throw new Error(`image ${spec.name}: a requirements file needs the spec's own file`);
    const file = path.join(path.dirname(spec.file), spec.requirements);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      throw new Error(`image spec ${spec.name}: its requirements file ${spec.requirements} is missing (looked at ${file})`);
    }
    reqs.push(...parseRequirementsText(text, spec.requirements));
  }
  return reqs;
}

/** A requirements.txt's requirements: comments and blank lines skipped; options and URLs refused. */
export function parseRequirementsText(text: string, file: string): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const bare = line.replace(/(^|\s)#.*$/, "").trim();
    if (!bare) return;
    const parsed = PIP_REQUIREMENT.safeParse(bare);
    if (!parsed.success) throw new Error(`${file} line ${i + 1}: "${bare}" is ${parsed.error.issues[0]!.message}`);
    out.push(parsed.data);
  });
  return out;
}

/** The lock still applies while the spec asks for exactly what it was resolved from. */
export const lockApplies = (lock: PipLock | null, requirements: string[]): lock is PipLock =>
  !!lock && JSON.stringify(lock.requirements) === JSON.stringify(requirements);

/** Same spec (its requirements), same lock, same parent → same image, on any machine. */
export function pipCacheKey(parentImageId: string, requirements: string[], lock: PipLock | null): string {
  const value = { builder: PIP_BUILDER_VERSION, parent: parentImageId, requirements, lock: lock?.packages ?? null };
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/** PEP 503 normalized name. */
export const normalizeName = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

interface ReportItem {
  metadata: { name: string; version: string };
  download_info?: { url: string; archive_info?: { hashes?: Record<string, string>; hash?: string } };
}

/**
 * The lock from pip's `install --dry-run --report` run over the parent: what pip would install.
 * `installed` is the parent's distributions ([name, version, where]); pip replacing one of them
 * (a Debian package) would break the system packages, so that is refused, naming both versions.
 */
export function lockFromReport(
  report: { install?: ReportItem[] },
  installed: Array<[string, string, string]>,
  ctx: { name: string; parent: string; index: string; requirements: string[] },
): PipLock {
  const have = new Map(installed.map(([n, v, where]) => [normalizeName(n), { version: v, where }]));
  const replacing = (report.install ?? []).map((item) => ({ item, old: have.get(normalizeName(item.metadata.name)) })).filter((x) => x.old);
  if (replacing.length)
    throw new Error(
      `pip would replace packages of the image ${ctx.parent}: ` +
        replacing
          .map(({ item, old }) => `${item.metadata.name} ${old!.version} (in ${old!.where}) by ${item.metadata.version}`)
          .join("; ") +
        `. ${ctx.parent}'s own packages stay as they are: ask for versions they satisfy (e.g. ${replacing[0]!.item.metadata.name}==${replacing[0]!.old!.version}), or build a parent without them`,
    );
  const packages = (report.install ?? []).map((item) => {
    const url = item.download_info?.url ?? "";
    const wheel = decodeURIComponent(url.split("#")[0]!.split("/").at(-1) ?? "");
    const sha256 = item.download_info?.archive_info?.hashes?.sha256 ?? item.download_info?.archive_info?.hash?.replace(/^sha256=/, "");
    if (!wheel.endsWith(".whl"))
      throw new Error(`${item.metadata.name} ${item.metadata.version} needs compiling (${wheel || url} is not a wheel)`);
    if (!sha256) throw new Error(`the index ${ctx.index} gives no sha256 for ${wheel}, so it cannot be locked`);
    return { name: item.metadata.name, version: item.metadata.version, wheel, sha256 };
  });
  packages.sort((a, b) => normalizeName(a.name).localeCompare(normalizeName(b.name)));
  return { name: ctx.name, requirements: ctx.requirements, index: ctx.index, packages };
}

/** What pip installs from a lock: every wheel pinned to its version and hash. */
export const hashedRequirements = (lock: PipLock) =>
  lock.packages.map((p) => `${p.name}==${p.version} --hash=sha256:${p.sha256}\n`).join("");

/** The files an index lists for a project (PEP 503), or null when it has no such project. */
export type IndexFiles = (project: string) => Promise<string[] | null>;

/**
 * pip's failure as a sentence naming what failed: an unreachable index, a package the index does
 * not have, one with no wheel for this Python and platform (it would need compiling), no version
 * matching, or requirements that conflict.
 */
export async function pipFailure(output: string, index: string, indexFiles: IndexFiles): Promise<string> {
  if (
    /unreachable|Failed to establish a new connection|NewConnectionError|Max retries exceeded|Could not fetch URL|Name or service not known|Connection refused|Temporary failure in name resolution/i.test(
      output,
    )
  )
    return `the package index ${index} is unreachable (${lastError(output)})`;
  const conflict = output.match(/The conflict is caused by:\n([\s\S]*?)\n\s*\n/);
  if (conflict || /ResolutionImpossible/.test(output))
    return `the requirements conflict: ${(conflict?.[1] ?? lastError(output)).replace(/\s+/g, " ").trim()}`;
  const missing = output.match(/Could not find a version that satisfies the requirement (\S+) \(from versions: ([^)]*)\)/);
  if (missing) {
    const [, req, versions] = missing;
    const project = req!.split(/[<>=!~;[ ]/)[0]!;
    if (versions!.trim() && versions!.trim() !== "none")
      return `no version of ${project} matches ${req} for Python 3.11 on this platform (the index ${index} has ${versions})`;
    const files = await indexFiles(normalizeName(project)).catch(() => null);
    if (!files?.length) return `the package index ${index} has no package ${project}`;
    return `${project} needs compiling (no wheel for Python 3.11 on this platform at ${index}; it has ${files.slice(0, 3).join(", ")}${files.length > 3 ? ", …" : ""})`;
  }
  return `pip failed: ${lastError(output)}`;
}

function lastError(output: string): string {
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines.filter((l) => l.startsWith("ERROR:")).at(-1) ?? lines.at(-1) ?? "no output").replace(/^ERROR:\s*/, "");
}

/** A PEP 503 index's file names for a project, over file:// or http(s). */
export const simpleIndexFiles =
  (index: string): IndexFiles =>
  async (project) => {
    const base = index.replace(/\/$/, "");
    let html: string;
    if (base.startsWith("file://")) {
      const file = path.join(new URL(base).pathname, project, "index.html");
      if (!fs.existsSync(file)) return null;
      html = fs.readFileSync(file, "utf8");
    } else {
      const res = await fetch(`${base}/${project}/`, { signal: AbortSignal.timeout(10_000) });
      if (res.status === 404) return null;
      html = await res.text();
    }
    return [...html.matchAll(/<a [^>]*>([^<]+)<\/a>/g)].map((m) => m[1]!.trim());
  };
