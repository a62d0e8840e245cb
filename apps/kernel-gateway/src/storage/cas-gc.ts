// The content store's garbage collection, run every CELLAR_GC_INTERVAL_S by each gateway (several
// replicas running it at once only repeat deletes). Roots besides the store's refs: the images in
// the catalogue and the checkpoints of suspended kernels, which the database knows; a deleted
// notebook's kernel row is gone, so its checkpoint is collected once older than the grace period.
import { collectGarbage, type CollectableStore, type CollectResult } from "@cellar/fs-client";

/**
 * The least grace a collection gets, whatever CELLAR_GC_GRACE_S says. A writer has the grace to
 * make what it wrote or reused (has()) reachable: an image ingest, a checkpoint upload. A shorter
 * one would delete the blobs of writes under way.
 */
export const MIN_GC_GRACE_MS = 10 * 60_000;

export interface CasGcOptions {
  store: CollectableStore;
  /** 0: never. */
  intervalMs: number;
  /** Raised to MIN_GC_GRACE_MS, with a warning, when shorter (or not a number). */
  graceMs: number;
  /** What must stay beyond the refs: image manifests, suspended kernels' checkpoints. */
  roots(): Promise<Iterable<string>>;
  log?: (line: string) => void;
}

/** Suspended kernels' refs (`suspended-kernel/…`): the database, not the ref, says whether the
 * kernel is still suspended. */
const KERNEL_REFS = ["suspended-kernel/"];

export function scheduleCasGc(opts: CasGcOptions): { runNow(): Promise<CollectResult>; stop(): void } {
  const log = opts.log ?? ((line: string) => console.log(`gateway: ${line}`));
  // biome-ignore lint/complexity/useMathMinMax: Math.max(NaN, …) is NaN (CELLAR_GC_GRACE_S=abc), which makes every blob old; `>=` is false for it
  const graceMs = opts.graceMs >= MIN_GC_GRACE_MS ? opts.graceMs : MIN_GC_GRACE_MS;
  if (graceMs !== opts.graceMs)
    log(
      `warning: CELLAR_GC_GRACE_S=${opts.graceMs / 1000} would let the CAS garbage collector delete blobs that writes under way ` +
        `still need; using ${MIN_GC_GRACE_MS / 1000} s`,
    );
  let running: Promise<CollectResult> | null = null;
  const runNow = () => {
    running ??= collectGarbage(opts.store, {
      extraRoots: opts.roots,
      ownedRefPrefixes: KERNEL_REFS,
      graceMs,
      log,
    }).finally(() => {
      running = null;
    });
    return running;
  };
  const timer = opts.intervalMs
    ? setInterval(() => void runNow().catch((e) => console.error("gateway: CAS garbage collection failed:", e)), opts.intervalMs)
    : null;
  timer?.unref();
  return { runNow, stop: () => timer && clearInterval(timer) };
}
