// Garbage collection of the content store, mark and sweep. Roots: every ref (warm snapshots, boot
// profiles) and what the caller names (images in the catalogue, checkpoints of suspended kernels).
// A root that is a manifest (an image, a snapshot, a checkpoint) keeps its chunks; a boot profile
// keeps its packs. Everything else is deleted once it is older than the grace period.
//
// Safe against concurrent writers because they write leaves first and the blob or ref that makes
// them reachable last: everything written during a run (or within the grace before it) is younger
// than the grace and survives, and refs are read again after the listing, so a ref pointed at an
// old blob during the run keeps it. Writers that skip uploading a blob the store already holds
// ask has(), which refreshes its age (BlobStore.has); the sweep reads each candidate's age again
// right before deleting it (statBlob), so a blob reused after the listing survives too. Left
// open: a reuse that lands between that read and the delete of the same blob (one stat, or one
// HeadObject, long); the writer then names a blob that is gone.
import { decompressBlob } from "../store/codec";
import { BlobNotFoundError, type CollectableStore, type StoredBlob } from "../store/blob-store";

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
  /** Unreachable but younger than the grace period (when listed, or when read again before the
   * delete: reused since the listing). */
  keptYoung: number;
  /** Of keptYoung: old when listed, reused before the delete. */
  keptReused: number;
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

  // Ages are judged as of the listing, so a blob written or reused after it is always young.
  const young = (blob: StoredBlob) => startedAt.getTime() - blob.writtenAt.getTime() < graceMs;
  const candidates: string[] = [];
  let keptYoung = 0;
  for await (const blob of store.listBlobs()) {
    if (marked.has(blob.hash)) continue;
    if (young(blob)) keptYoung++;
    else candidates.push(blob.hash);
  }
  // Refs moved while the blobs were listed point at blobs that must stay.
  await mark(await refTargets());
  await mark((await opts.extraRoots?.()) ?? []);

  let deleted = 0;
  let deletedBytes = 0;
  let keptReused = 0;
  const gone = new Set<string>();
  for (const hash of candidates) {
    if (marked.has(hash)) continue;
    // Read again with nothing awaited before the delete: a writer may have reused it (has()) since.
    const blob = await store.statBlob(hash);
    if (blob === null) continue; // another replica's run took it
    if (young(blob)) {
      keptYoung++;
      keptReused++;
      continue;
    }
    await store.deleteBlob(hash);
    gone.add(hash);
    deleted++;
    deletedBytes += blob.size;
  }
  for (const ref of ownedRefs) if (gone.has(ref.hash)) await store.deleteRef(ref.name);
  const result = { roots: rootsSeen.size, marked: marked.size, deleted, deletedBytes, keptYoung, keptReused };
  opts.log?.(
    `cas gc: ${result.roots} roots keep ${result.marked} blobs; deleted ${deleted} (${(deletedBytes / 2 ** 20).toFixed(1)} MiB); ` +
      `${keptYoung} unreachable but younger than ${Math.round(graceMs / 1000)} s kept (${keptReused} reused during the run)`,
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
