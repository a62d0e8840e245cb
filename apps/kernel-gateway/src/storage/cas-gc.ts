// The content store's garbage collection, run every CELLAR_GC_INTERVAL_S by each gateway (several
// replicas running it at once only repeat deletes). Roots besides the store's refs: the images in
// the catalogue and the checkpoints of suspended kernels, which the database knows; a deleted
// notebook's kernel row is gone, so its checkpoint is collected once older than the grace period.
import { collectGarbage, type CollectableStore, type CollectResult } from "@cellar/fs-client";

export interface CasGcOptions {
  store: CollectableStore;
  /** 0: never. */
  intervalMs: number;
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
  let running: Promise<CollectResult> | null = null;
  const runNow = () => {
    running ??= collectGarbage(opts.store, {
      extraRoots: opts.roots,
      ownedRefPrefixes: KERNEL_REFS,
      graceMs: opts.graceMs,
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
