// `cellar image build FILE` and `cellar image list`. The gateway builds (on its host, where the
// image store is); the CLI sends the spec with its requirements file and lock, and keeps the lock
// the build returns beside the spec.
import fs from "node:fs/promises";
import path from "node:path";
import type { GatewayClient } from "@cellar/kernel-client";
import { UsageError } from "./connection";
import type { Io } from "./commands";

const mb = (bytes?: number) => (bytes === undefined ? "-" : `${(bytes / 2 ** 20).toFixed(1)} MB`);

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch {
    return null;
  }
}

export async function imageBuild(gateway: GatewayClient, file: string, io: Io): Promise<number> {
  const text = await readOrNull(file);
  if (text === null) throw new UsageError(`Cannot read ${file}: no such file`);
  let spec: Record<string, unknown>;
  try {
    spec = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON (${(error as Error).message})`);
  }
  const name = typeof spec.name === "string" ? spec.name : path.basename(file, ".json");
  const dir = path.dirname(file);
  let requirements: string | undefined;
  if (typeof spec.requirements === "string") {
    requirements = (await readOrNull(path.join(dir, spec.requirements))) ?? undefined;
    if (requirements === undefined) throw new UsageError(`Cannot read ${path.join(dir, spec.requirements)}, the spec's requirements file`);
  }
  const lockFile = path.join(dir, `${name}.lock.json`);
  const lock = (await readOrNull(lockFile)) ?? undefined;
  io.err(`Building ${name}${spec.from ? ` over ${spec.from}` : ""}${lock ? ` from ${path.basename(lockFile)}` : ""}…`);
  const started = Date.now();
  const built = await gateway.images.build({ spec, requirements, lock });
  for (const line of built.log) io.err(`  ${line.replace(/^gateway: /, "")}`);
  if (built.lock !== null && built.lock !== lock) {
    await fs.writeFile(lockFile, built.lock);
    io.err(`Wrote ${lockFile}`);
  }
  io.err(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s${built.log.length ? "" : " (cached)"}`);
  io.out(`${built.image.name} ${built.image.imageId ?? ""} ${mb(built.image.layerBytes)}`);
  return 0;
}

export async function imageList(gateway: GatewayClient, io: Io): Promise<number> {
  const rows = (await gateway.images.list()).map((i) => [
    i.name,
    (i.imageId ?? "-").slice(0, 12),
    i.parent ?? "-",
    mb(i.layerBytes),
    i.packages?.join(" ") || "-",
  ]);
  const header = ["NAME", "ID", "PARENT", "LAYER", "PACKAGES"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const row of [header, ...rows]) io.out(row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  "));
  return 0;
}
