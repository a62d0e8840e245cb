// A notebook's workspace carried between workers through the content store, so it follows the
// kernel when the kernel moves to another device (issue 15): the old worker stores the folder
// (manifest + chunks, as a checkpoint is stored: a chunk the CAS already has is not sent again),
// the new one lays that manifest out as the notebook's workspace before the kernel starts, replacing
// what it had (files deleted on the other side go), and keeps the local files whose bytes are
// unchanged instead of fetching them.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, lchown, lstat, lutimes, mkdir, rename, rm, symlink, link } from "node:fs/promises";
import path from "node:path";
import { fetchManifest, ingestDirectory, type ManifestEntry } from "@cellar/fs-client";
import { fetchAll, layOut, UploadStore, type SnapshotRemote } from "../snapshots/snapshot-store";

export type WorkspaceRemote = Pick<SnapshotRemote, "fetchChunk" | "fetchRef" | "putBlob" | "hasBlob" | "putRef">;

export interface LayOutStats {
  /** Files whose bytes were fetched, and how many bytes that was. */
  fetchedFiles: number;
  fetchedBytes: number;
  /** Files kept from this worker's copy of the workspace (same bytes). */
  keptFiles: number;
  keptBytes: number;
}

/** Stores the workspace folder in the CAS; returns its manifest id. Chunks are LZ4 (a move must
 * not wait on Brotli), so the id is of the bytes whatever the codec. */
export async function storeWorkspace(dir: string, remote: WorkspaceRemote): Promise<string> {
  const { imageId } = await ingestDirectory(dir, new UploadStore(remote), {
    codec: "lz4",
    parallelism: 4,
    onWarning: (w) => console.warn(`worker: storing workspace ${dir}: ${w}`),
  });
  return imageId;
}

/**
 * Makes `workspaceDir` hold exactly what manifest `id` describes: built in a sibling folder (so a
 * failure leaves the old workspace as it was), then swapped in by rename. Owners, modes and
 * mtimes come from the manifest. Must not run while a kernel has `workspaceDir` mounted.
 */
export async function layOutWorkspace(
  id: string,
  workspaceDir: string,
  remote: Pick<WorkspaceRemote, "fetchChunk">,
  opts: { fetchParallelism?: number } = {},
): Promise<LayOutStats> {
  const manifest = await fetchManifest(remote, id);
  const stats: LayOutStats = { fetchedFiles: 0, fetchedBytes: 0, keptFiles: 0, keptBytes: 0 };
  const tmp = `${workspaceDir}.incoming-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    const keep = async (entry: ManifestEntry, target: string): Promise<boolean> => {
      const local = path.join(workspaceDir, entry.path);
      if (!(await sameBytes(local, entry, manifest.chunkSize))) return false;
      // The old folder goes once the new one is in place, so a hard link is the file moved.
      await link(local, target);
      stats.keptFiles++;
      stats.keptBytes += entry.size;
      return true;
    };
    const jobs = await layOut(manifest, id, tmp, keep);
    for (const job of jobs) stats.fetchedBytes += job.length * job.places.length;
    stats.fetchedFiles = new Set(jobs.flatMap((j) => j.places.map((p) => p.file))).size;
    await fetchAll(jobs, opts.fetchParallelism ?? 8, remote);
    // Deepest first, so setting a folder's mtime comes after its contents were written; symlinks
    // last, so nothing above follows one.
    const ordered = [...manifest.entries].sort((a, b) => b.path.length - a.path.length);
    for (const entry of ordered) {
      const target = path.join(tmp, entry.path);
      if (entry.type === "symlink") continue;
      await lchown(target, entry.uid, entry.gid);
      await chmod(target, entry.mode);
      await lutimes(target, entry.mtime, entry.mtime);
    }
    for (const entry of manifest.entries) {
      if (entry.type !== "symlink" || entry.target === undefined) continue;
      const target = path.join(tmp, entry.path);
      await symlink(entry.target, target);
      await lchown(target, entry.uid, entry.gid);
    }
    const old = `${workspaceDir}.old-${process.pid}-${Date.now()}`;
    const hadOld = await exists(workspaceDir);
    if (hadOld) await rename(workspaceDir, old);
    await rename(tmp, workspaceDir);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return stats;
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** Whether `local` is a regular file (not a symlink) with the entry's size and chunk hashes. */
async function sameBytes(local: string, entry: ManifestEntry, chunkSize: number): Promise<boolean> {
  const st = await lstat(local).catch(() => null);
  if (!st?.isFile() || st.size !== entry.size) return false;
  const want = entry.chunks ?? [];
  let i = 0;
  let hash = createHash("sha256");
  let filled = 0;
  for await (const piece of createReadStream(local, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let at = 0; at < piece.length; ) {
      const take = Math.min(chunkSize - filled, piece.length - at);
      hash.update(piece.subarray(at, at + take));
      filled += take;
      at += take;
      if (filled === chunkSize) {
        if (hash.digest("hex") !== want[i++]) return false;
        hash = createHash("sha256");
        filled = 0;
      }
    }
  }
  if (filled > 0 && hash.digest("hex") !== want[i++]) return false;
  return i === want.length;
}
