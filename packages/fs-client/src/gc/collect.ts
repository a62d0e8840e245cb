// Garbage collection of the content store, mark and sweep. Roots: every ref (warm snapshots, boot
// profiles) and what the caller names (images in the catalogue, checkpoints of suspended kernels).
// A root that is a manifest (an image, a snapshot, a checkpoint) keeps its chunks; a boot profile
// keeps its packs. Everything else is deleted once it is older than the grace period.
//
// Safe against concurrent writers because they write leaves first and the blob or ref that makes
// them reachable last: everything written during a run (or within the grace before it) is younger
// than the grace and survives, and refs are read again after the listing, so a ref pointed at an
// old blob during the run keeps it.
import { decompressBlob } from "../store/codec";
import { BlobNotFoundError, type CollectableStore } from "../store/blob-store";

export interface CollectOptions {
  /** Blobs the caller still needs besides the refs' targets. */
  extraRoots?: () => Promise<Iterable<string>>;
  /** Ref prefixes whose refs are not roots: the caller's extraRoots say which of their targets
   * live (suspended kernels' `suspended-kernel/<session>` refs: the database knows which kernels
   * are still suspended). Their refs go with their targets. */
  ownedRefPrefixes?: string[];
  /** Unreachable blobs younger than this survive (default 1 h). */
  graceMs?: number;
  now?: () => Date;
  log?: (line: string) => void;
}

export interface CollectResult {
  roots: number;
  marked: number;
  deleted: number;
  deletedBytes: number;
  /** Unreachable but younger than the grace period. */
  keptYoung: number;
}

export async function collectGarbage(store: CollectableStore, opts: CollectOptions = {}): Promise<CollectResult> {
  const graceMs = opts.graceMs ?? 3_600_000;
  const startedAt = (opts.now ?? (() => new Date()))();
  const marked = new Set<string>();
  const rootsSeen = new Set<string>();
  const mark = async (roots: Iterable<string>) => {
    for (const root of roots) {
      if (rootsSeen.has(root)) continue;
      rootsSeen.add(root);
      marked.add(root);
      for (const hash of await referencesOf(store, root)) marked.add(hash);
    }
  };
  const owned = (name: string) => (opts.ownedRefPrefixes ?? []).some((p) => name.startsWith(p));
  const ownedRefs: Array<{ name: string; hash: string }> = [];
  const refTargets = async () => {
    const targets: string[] = [];
    ownedRefs.length = 0;
    for await (const ref of store.listRefs()) {
      if (owned(ref.name)) ownedRefs.push(ref);
      else targets.push(ref.hash);
    }
    return targets;
  };
  await mark(await refTargets());
  await mark((await opts.extraRoots?.()) ?? []);

  const candidates: Array<{ hash: string; size: number }> = [];
  let keptYoung = 0;
  for await (const blob of store.listBlobs()) {
    if (marked.has(blob.hash)) continue;
    if (startedAt.getTime() - blob.writtenAt.getTime() < graceMs) keptYoung++;
    else candidates.push(blob);
  }
  // Refs moved while the blobs were listed point at blobs that must stay.
  await mark(await refTargets());
  await mark((await opts.extraRoots?.()) ?? []);

  let deleted = 0;
  let deletedBytes = 0;
  const gone = new Set<string>();
  for (const blob of candidates) {
    if (marked.has(blob.hash)) continue;
    await store.deleteBlob(blob.hash);
    gone.add(blob.hash);
    deleted++;
    deletedBytes += blob.size;
  }
  for (const ref of ownedRefs) if (gone.has(ref.hash)) await store.deleteRef(ref.name);
  const result = { roots: rootsSeen.size, marked: marked.size, deleted, deletedBytes, keptYoung };
  opts.log?.(
    `cas gc: ${result.roots} roots keep ${result.marked} blobs; deleted ${deleted} (${(deletedBytes / 2 ** 20).toFixed(1)} MiB); ` +
      `${keptYoung} unreachable but younger than ${Math.round(graceMs / 1000)} s kept`,
  );
  return result;
}

/** What a root blob keeps alive: a manifest's chunks, a boot profile's packs (and chunks). */
async function referencesOf(store: CollectableStore, hash: string): Promise<string[]> {
  let doc: unknown;
  try {
    const bytes = await decompressBlob(await store.get(hash));
    if (bytes[0] !== 0x7b) return []; // not JSON: a chunk someone pinned
    doc = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    if (error instanceof BlobNotFoundError) return [];
    if (error instanceof SyntaxError) return [];
    throw error;
  }
  const d = doc as { version?: unknown; entries?: unknown; chunks?: unknown; packs?: unknown };
  const out: string[] = [];
  if (Array.isArray(d.entries)) for (const e of d.entries) if (Array.isArray(e?.chunks)) out.push(...e.chunks.filter(isHashString));
  if (Array.isArray(d.packs)) for (const p of d.packs) if (isHashString(p?.hash)) out.push(p.hash);
  if (Array.isArray(d.chunks)) out.push(...d.chunks.filter(isHashString));
  return out;
}

function isHashString(v: unknown): v is string {
  return typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
}
