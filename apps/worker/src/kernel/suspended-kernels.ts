// Where suspended kernels go: the checkpoint directory is stored like a warm snapshot (ingested
// into the CAS through the gateway, ref `suspended-kernel/<sha256 of the session id>`, plus a
// local copy under the same name), so
// the worker that suspended it resumes from its own disk and any other worker from the CAS.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { SuspendedKernelRef } from "@cellar/protocol";
import { resumeKernelSandbox, type KernelSandbox, type RestoreKernelSandboxOptions } from "../sandbox/kernel-sandbox";
import { SnapshotStore, type SnapshotRemote } from "../snapshots/snapshot-store";
import type { KernelSuspender } from "./kernel-session";

export interface SuspendedKernelsOptions {
  /** Local copies, e.g. `$CELLAR_HOME/suspended-kernels`. */
  dir: string;
  /** The CAS; null keeps checkpoints on this worker only. */
  remote: SnapshotRemote | null;
  log?: (line: string) => void;
}

/** What a resume needs besides the checkpoint; asked for at resume time, because the image's
 * mount may have moved (another worker, or this one restarted). */
export type ResumeSandboxOptions = Omit<RestoreKernelSandboxOptions, "snapshotDir">;

/** Where the time of the last suspend or resume went, for the log and the benchmark. */
export interface SuspendTimings {
  checkpointMs?: number;
  storeMs?: number;
  fetchMs?: number;
  restoreMs?: number;
}

export class SuspendedKernels {
  private readonly store: SnapshotStore;
  private readonly localStore: SnapshotStore;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: SuspendedKernelsOptions) {
    this.store = new SnapshotStore(opts.dir, opts.remote, "suspended-kernel/");
    this.localStore = new SnapshotStore(opts.dir, null, "suspended-kernel/");
    this.log = opts.log ?? ((line) => console.log(line));
  }

  /** The suspender of one session. */
  for(sessionId: string, sandboxOptions: () => Promise<ResumeSandboxOptions>, timings: SuspendTimings = {}): KernelSuspender {
    return {
      suspend: (sandbox) => this.suspend(sessionId, sandbox, timings),
      resume: async (ref) => this.resume(sessionId, ref, await sandboxOptions(), timings),
      discard: () => this.store.removeLocal(keyOf(sessionId)),
    };
  }

  async suspend(sessionId: string, sandbox: KernelSandbox, timings: SuspendTimings = {}): Promise<SuspendedKernelRef> {
    await mkdir(this.opts.dir, { recursive: true });
    const imagePath = path.join(this.opts.dir, `.checkpoint-${sessionId}-${randomBytes(3).toString("hex")}`);
    try {
      let t = performance.now();
      await sandbox.checkpoint(imagePath);
      timings.checkpointMs = Math.round(performance.now() - t);
      t = performance.now();
      let id: string;
      try {
        id = (await this.store.put(keyOf(sessionId), imagePath)).id;
      } catch (err) {
        // The kernel is already checkpointed: keep it here rather than lose it; only this worker
        // can resume it then.
        if (!existsSync(imagePath)) throw err;
        this.log(`[suspend] kernel ${sessionId}: the checkpoint could not be stored in the content store, keeping it on this worker only: ${(err as Error).message}`);
        id = (await this.localStore.put(keyOf(sessionId), imagePath)).id;
      }
      timings.storeMs = Math.round(performance.now() - t);
      return { checkpoint: id };
    } finally {
      await rm(imagePath, { recursive: true, force: true });
    }
  }

  async resume(sessionId: string, ref: SuspendedKernelRef, sandboxOptions: ResumeSandboxOptions, timings: SuspendTimings = {}): Promise<KernelSandbox> {
    let t = performance.now();
    let snap;
    try {
      snap = await this.store.getById(keyOf(sessionId), ref.checkpoint);
    } catch (err) {
      throw new Error(`its checkpoint could not be fetched from the content store: ${(err as Error).message}`);
    }
    if (!snap) throw new Error("its checkpoint is not on this worker and there is no content store to fetch it from");
    timings.fetchMs = Math.round(performance.now() - t);
    t = performance.now();
    try {
      const sandbox = await resumeKernelSandbox({ ...sandboxOptions, sessionId, snapshotDir: snap.dir });
      timings.restoreMs = Math.round(performance.now() - t);
      return sandbox;
    } catch (err) {
      throw new Error(`runsc could not restore its checkpoint: ${(err as Error).message}`);
    }
  }
}

/** CAS ref names are `<kind>/<sha256 hex>`; session ids are not hashes. */
export function keyOf(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex");
}
