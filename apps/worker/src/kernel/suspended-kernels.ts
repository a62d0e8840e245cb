// Where suspended kernels go: the checkpoint directory is kept on this worker's disk at once, as
// runsc wrote it (uncompressed), and stored like a warm snapshot in the CAS through the gateway in
// the background, so the worker that suspended it resumes from its own disk and any other worker
// from the CAS. A checkpoint is named by a random id when it is taken, not by its content hash:
// hashing a gigabyte would hold up the suspend. The CAS ref
// `suspended-kernel/<sha256(session id, checkpoint id)>` names its manifest once uploaded.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, link, mkdir, readdir, rename, rm, rmdir, stat, utimes, writeFile } from "node:fs/promises";
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
  /** Keeping the checkpoint on this disk (a rename). */
  storeMs?: number;
  /** Storing it in the CAS, after the kernel was reported suspended. */
  uploadMs?: number;
  fetchMs?: number;
  restoreMs?: number;
}

export class SuspendedKernels {
  private readonly store: SnapshotStore;
  private readonly log: (line: string) => void;
  private readonly uploads = new Map<string, Promise<void>>();

  constructor(private readonly opts: SuspendedKernelsOptions) {
    this.store = new SnapshotStore(path.join(opts.dir, "fetched"), opts.remote, "suspended-kernel/");
    this.log = opts.log ?? ((line) => console.log(line));
  }

  /** The suspender of one session. */
  for(sessionId: string, sandboxOptions: () => Promise<ResumeSandboxOptions>, timings: SuspendTimings = {}): KernelSuspender {
    return {
      suspend: (sandbox) => this.suspend(sessionId, sandbox, timings),
      resume: async (ref) => this.resume(sessionId, ref, await sandboxOptions(), timings),
      discard: () => rm(this.sessionDir(sessionId), { recursive: true, force: true }),
    };
  }

  /**
   * Checkpoints the kernel and keeps the checkpoint on this disk; resolves with its id as soon as
   * that is done. Storing it in the CAS (hashing, compressing and uploading) goes on in the
   * background from a hard-linked copy, so the memory is freed and the status told without
   * waiting for it; `settle()` waits for those uploads.
   */
  async suspend(sessionId: string, sandbox: KernelSandbox, timings: SuspendTimings = {}): Promise<SuspendedKernelRef> {
    await mkdir(this.opts.dir, { recursive: true });
    const id = randomBytes(32).toString("hex");
    const imagePath = path.join(this.opts.dir, `.checkpoint-${id}`);
    const uploadPath = `${imagePath}-upload`;
    try {
      let t = performance.now();
      await sandbox.checkpoint(imagePath);
      timings.checkpointMs = Math.round(performance.now() - t);
      t = performance.now();
      if (this.opts.remote) await linkCopy(imagePath, uploadPath);
      // Only the newest checkpoint of a session is ever resumed.
      await rm(this.sessionDir(sessionId), { recursive: true, force: true });
      await mkdir(this.sessionDir(sessionId), { recursive: true });
      await writeFile(path.join(imagePath, ".complete"), "");
      await rename(imagePath, this.localDir(sessionId, id));
      timings.storeMs = Math.round(performance.now() - t);
      if (this.opts.remote) this.uploadLater(sessionId, uploadPath, id, timings);
      return { checkpoint: id };
    } catch (err) {
      await rm(uploadPath, { recursive: true, force: true });
      throw err;
    } finally {
      await rm(imagePath, { recursive: true, force: true });
    }
  }

  /** Resolves once every checkpoint this worker kept is in the CAS (or failed to get there). */
  async settle(): Promise<void> {
    await Promise.all(this.uploads.values());
  }

  private uploadLater(sessionId: string, uploadPath: string, id: string, timings: SuspendTimings): void {
    // One upload per session at a time, in order, so an older checkpoint never lands last.
    const previous = this.uploads.get(sessionId) ?? Promise.resolve();
    const upload = previous.then(async () => {
      const t = performance.now();
      try {
        await this.store.upload(refKeyOf(sessionId, id), uploadPath);
        timings.uploadMs = Math.round(performance.now() - t);
        // The local copy is no longer the only one: reapLocalCopies may let it go.
        await writeFile(path.join(this.localDir(sessionId, id), UPLOADED), "").catch(() => {});
      } catch (err) {
        this.log(
          `[suspend] kernel ${sessionId}: the checkpoint could not be stored in the content store, so only this worker can resume it: ${(err as Error).message}`,
        );
      } finally {
        await rm(uploadPath, { recursive: true, force: true });
        if (this.uploads.get(sessionId) === upload) this.uploads.delete(sessionId);
      }
    });
    this.uploads.set(sessionId, upload);
  }

  async resume(
    sessionId: string,
    ref: SuspendedKernelRef,
    sandboxOptions: ResumeSandboxOptions,
    timings: SuspendTimings = {},
  ): Promise<KernelSandbox> {
    let t = performance.now();
    let dir = this.localDir(sessionId, ref.checkpoint);
    if (!existsSync(path.join(dir, ".complete"))) {
      let snap;
      try {
        snap = await this.store.get(refKeyOf(sessionId, ref.checkpoint));
      } catch (err) {
        throw new Error(`its checkpoint could not be fetched from the content store: ${(err as Error).message}`);
      }
      if (!snap) {
        throw new Error(
          this.opts.remote
            ? "its checkpoint is neither on this worker nor in the content store"
            : "its checkpoint is not on this worker and there is no content store to fetch it from",
        );
      }
      dir = snap.dir;
    }
    timings.fetchMs = Math.round(performance.now() - t);
    t = performance.now();
    try {
      const sandbox = await resumeKernelSandbox({ ...sandboxOptions, sessionId, snapshotDir: dir });
      timings.restoreMs = Math.round(performance.now() - t);
      return sandbox;
    } catch (err) {
      throw new Error(`runsc could not restore its checkpoint: ${(err as Error).message}`);
    }
  }

  /**
   * Deletes local checkpoint copies of kernels this worker no longer holds (`held`: session ids)
   * once they are older than `olderThanMs`: copies fetched from the CAS, and kept copies the CAS
   * has too. A kept copy whose upload failed is the only one and stays. Answers how many went.
   */
  async reapLocalCopies(held: Iterable<string>, olderThanMs: number, now = Date.now()): Promise<number> {
    const keep = new Set([...held].map(keyOf));
    let reaped = 0;
    const old = async (p: string) => now - (await stat(p)).mtimeMs > olderThanMs;
    const local = path.join(this.opts.dir, "local");
    for (const key of await readdir(local).catch(() => [] as string[])) {
      if (keep.has(key)) continue;
      for (const id of await readdir(path.join(local, key)).catch(() => [] as string[])) {
        const dir = path.join(local, key, id);
        if (!existsSync(path.join(dir, UPLOADED)) || !(await old(dir))) continue;
        await rm(dir, { recursive: true, force: true });
        reaped++;
      }
      await rmdir(path.join(local, key)).catch(() => {}); // only if now empty
    }
    const fetched = path.join(this.opts.dir, "fetched");
    for (const entry of await readdir(fetched).catch(() => [] as string[])) {
      const dir = path.join(fetched, entry);
      if (!(await old(dir).catch(() => false))) continue;
      await rm(dir, { recursive: true, force: true });
      reaped++;
    }
    return reaped;
  }

  private sessionDir(sessionId: string): string {
    return path.join(this.opts.dir, "local", keyOf(sessionId));
  }

  private localDir(sessionId: string, checkpointId: string): string {
    if (!/^[0-9a-f]{64}$/.test(checkpointId)) throw new Error(`not a checkpoint id: ${JSON.stringify(checkpointId)}`);
    return path.join(this.sessionDir(sessionId), checkpointId);
  }
}

/** In a kept checkpoint copy: its upload to the CAS finished. */
const UPLOADED = ".uploaded";

/** A copy of a checkpoint directory made of hard links (so it costs no bytes and survives the
 * original's removal by a later suspend). */
async function linkCopy(from: string, to: string): Promise<void> {
  const st = await stat(from);
  await mkdir(to, { mode: st.mode & 0o7777 });
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.isDirectory()) await linkCopy(path.join(from, e.name), path.join(to, e.name));
    else await link(path.join(from, e.name), path.join(to, e.name));
  }
  await chmod(to, st.mode & 0o7777);
  await utimes(to, st.atime, st.mtime);
}

/** CAS ref names are `<kind>/<sha256 hex>`; session ids are not hashes. */
export function keyOf(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex");
}

/** The CAS ref key of one checkpoint of one session. */
export function refKeyOf(sessionId: string, checkpointId: string): string {
  return createHash("sha256").update(`${sessionId}\0${checkpointId}`).digest("hex");
}
