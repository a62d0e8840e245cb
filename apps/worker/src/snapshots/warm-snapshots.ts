// New kernels from warm snapshots. For each (image, kernel spec) one boot imports the heavy
// modules and is checkpointed; every later session restores that checkpoint into its own
// sandbox. A snapshot that fails to restore is discarded and the session boots cold instead:
// the user only sees a slower start.
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { DEFAULT_BRIDGE_DIR } from "../sandbox/bundle";
import { restoreKernelSandbox, startKernelSandbox, type KernelSandbox, type KernelSandboxOptions } from "../sandbox/kernel-sandbox";
import { runscVersion } from "../sandbox/runsc";
import { bridgeVersion, warmSnapshotKey, warmupCode, type KernelRuntime, type WarmSnapshotSpec } from "./snapshot-key";
import { SnapshotStore, type LocalSnapshot, type SnapshotRemote } from "./snapshot-store";

export interface WarmSnapshotsOptions {
  /** Local copies of snapshots, e.g. `$CELLAR_CACHE/snapshots`. */
  dir: string;
  /** The CAS; null keeps snapshots on this worker only. */
  remote: SnapshotRemote | null;
  stateRoot: string;
  platform?: string;
  runscPath?: string;
  bridgeDir?: string;
  /** Where warnings and fallbacks are told. Default: console. */
  log?: (line: string) => void;
  /** After a failed attempt to make a key's snapshot, cold boots wait this long before another
   * background attempt (each costs a whole boot). Default 10 minutes. */
  retryAfterMs?: number;
}

/** One session's sandbox settings, less what the snapshot decides. */
export type SessionSandboxOptions = Omit<
  KernelSandboxOptions,
  "imageRootfs" | "stateRoot" | "platform" | "runscPath" | "bridgeDir" | "limits" | "snapshotBoot"
>;

export interface StartedKernel {
  sandbox: KernelSandbox;
  /** "snapshot" when restored; "cold" when booted, with the reason a restore was not used. */
  source: "snapshot" | "cold";
  reason?: string;
  /** Where a restore's time went: finding/fetching the snapshot, then `runsc restore` until the
   * bridge has become this session; `from`: the parent image whose snapshot it was. */
  timings?: RestoreTimings;
}

export interface RestoreTimings {
  lookupMs: number;
  restoreMs: number;
  from?: string;
}

const WARMUP_TIMEOUT_MS = 180_000;

export class WarmSnapshots {
  readonly store: SnapshotStore;
  private runtime: Promise<KernelRuntime> | null = null;
  private readonly creating = new Map<string, Promise<LocalSnapshot>>();
  private readonly failedAt = new Map<string, number>();
  /** Images (own keys) onto which their parent's snapshot failed to restore: they boot cold and
   * get their own snapshot instead. */
  private readonly borrowFailed = new Set<string>();
  private readonly log: (line: string) => void;

  constructor(private readonly opts: WarmSnapshotsOptions) {
    this.store = new SnapshotStore(opts.dir, opts.remote);
    this.log = opts.log ?? ((line) => console.log(line));
  }

  async key(spec: WarmSnapshotSpec): Promise<string> {
    this.runtime ??= (async () => ({
      runscVersion: await runscVersion(this.opts.runscPath),
      platform: this.opts.platform ?? "ptrace",
      bridgeVersion: await bridgeVersion(this.opts.bridgeDir ?? DEFAULT_BRIDGE_DIR),
    }))();
    return warmSnapshotKey(spec, await this.runtime);
  }

  /**
   * Restores the image's warm snapshot into a new session if there is a usable one, else boots
   * cold. After a cold boot the snapshot is made in the background (unless `createAfterCold` is
   * false), so the next session restores.
   */
  async start(spec: WarmSnapshotSpec, imageRootfs: string, session: SessionSandboxOptions, createAfterCold = true): Promise<StartedKernel> {
    let reason: string;
    try {
      const timings: StartedKernel["timings"] = { lookupMs: 0, restoreMs: 0 };
      const sandbox = await this.restore(spec, imageRootfs, session, timings);
      if (sandbox) return { sandbox, source: "snapshot", timings };
      reason = "no warm snapshot yet";
    } catch (err) {
      reason = (err as Error).message;
    }
    const sandbox = await startKernelSandbox({ ...this.sandboxOptions(spec, imageRootfs), ...session });
    if (createAfterCold) void this.createInBackground(spec, imageRootfs);
    return { sandbox, source: "cold", reason };
  }

  /**
   * Whether there is a snapshot for `spec` to restore, and if so starts fetching it into this
   * worker's disk (when only the CAS has it) without waiting for the fetch: a fresh worker calls
   * it before it attaches the image, so the snapshot and the image's manifest arrive together. A
   * restore that follows joins the same fetch (SnapshotStore shares one per snapshot). A lookup
   * that fails answers false; failures of the fetch are the restore's to report.
   */
  async prefetch(spec: WarmSnapshotSpec): Promise<boolean> {
    try {
      const own = await this.key(spec);
      const parent = spec.from && !this.borrowFailed.has(own) ? { ...spec, imageId: spec.from.imageId, warmup: spec.from.warmup } : null;
      for (const key of [own, ...(parent ? [await this.key(parent)] : [])]) {
        const id = await this.store.lookup(key);
        if (!id) continue;
        void this.store.getById(key, id).catch(() => {});
        return true;
      }
      return false;
    } catch {
      return false;
    }
  }

  /**
   * Restores the snapshot for `spec`, or resolves null when there is none. A snapshot that is
   * there but fails to restore is discarded, the reason logged, and the error rethrown.
   */
  async restore(
    spec: WarmSnapshotSpec,
    imageRootfs: string,
    session: SessionSandboxOptions,
    timings: RestoreTimings = { lookupMs: 0, restoreMs: 0 },
  ): Promise<KernelSandbox | null> {
    const t0 = performance.now();
    const key = await this.key(spec);
    const snap = await this.fetch(spec, key);
    if (!snap) return spec.from && !this.borrowFailed.has(key) ? this.restoreParent(spec, key, imageRootfs, session, timings) : null;
    const t1 = performance.now();
    timings.lookupMs = Math.round(t1 - t0);
    try {
      const sandbox = await restoreKernelSandbox({ ...this.sandboxOptions(spec, imageRootfs), ...session, snapshotDir: snap.dir });
      timings.restoreMs = Math.round(performance.now() - t1);
      return sandbox;
    } catch (err) {
      const why = (err as Error).message;
      this.log(
        `[snapshots] warm snapshot ${snap.id.slice(0, 12)} of image ${spec.imageId.slice(0, 12)} failed to restore; discarding it and booting cold: ${why}`,
      );
      await this.store.discard(snap);
      throw new Error(`the warm snapshot failed to restore: ${why}`);
    }
  }

  private async fetch(spec: WarmSnapshotSpec, key: string): Promise<LocalSnapshot | null> {
    try {
      return await this.store.get(key);
    } catch (err) {
      this.log(
        `[snapshots] cannot fetch the warm snapshot of image ${spec.imageId.slice(0, 12)} (key ${key.slice(0, 12)}): ${(err as Error).message}`,
      );
      throw new Error(`the warm snapshot could not be fetched: ${(err as Error).message}`);
    }
  }

  /** Restores the parent's snapshot onto this image's tree. A failure is this pairing's, not the
   * snapshot's (the parent's own sessions restore it fine): it is not discarded, and this image
   * stops borrowing it. */
  private async restoreParent(
    spec: WarmSnapshotSpec,
    key: string,
    imageRootfs: string,
    session: SessionSandboxOptions,
    timings: RestoreTimings,
  ): Promise<KernelSandbox | null> {
    const t0 = performance.now();
    const parent = { imageId: spec.from!.imageId, limits: spec.limits, warmup: spec.from!.warmup };
    const snap = await this.fetch(parent, await this.key(parent));
    if (!snap) return null;
    const t1 = performance.now();
    timings.lookupMs = Math.round(t1 - t0);
    try {
      const sandbox = await restoreKernelSandbox({ ...this.sandboxOptions(spec, imageRootfs), ...session, snapshotDir: snap.dir });
      timings.restoreMs = Math.round(performance.now() - t1);
      timings.from = parent.imageId;
      return sandbox;
    } catch (err) {
      this.borrowFailed.add(key);
      const why = (err as Error).message;
      this.log(
        `[snapshots] the warm snapshot of image ${parent.imageId.slice(0, 12)} failed to restore onto its layer ${spec.imageId.slice(0, 12)}; that layer boots cold and gets its own: ${why}`,
      );
      throw new Error(`the parent image's warm snapshot failed to restore onto this layer: ${why}`);
    }
  }

  /**
   * Makes the snapshot for `spec` unless one is on its way or the last attempt failed recently;
   * failures are logged. Resolves when done (false: skipped or failed); callers need not wait.
   */
  async createInBackground(spec: WarmSnapshotSpec, imageRootfs: string): Promise<boolean> {
    const key = await this.key(spec);
    const failed = this.failedAt.get(key);
    if (failed !== undefined && Date.now() - failed < (this.opts.retryAfterMs ?? 10 * 60_000)) return false;
    try {
      await this.create(spec, imageRootfs);
      this.failedAt.delete(key);
      return true;
    } catch (err) {
      this.failedAt.set(key, Date.now());
      this.log(`[snapshots] could not make the warm snapshot of image ${spec.imageId.slice(0, 12)}: ${(err as Error).message}`);
      return false;
    }
  }

  /** The snapshot of `key` being made now, if one is. */
  creation(key: string): Promise<LocalSnapshot> | null {
    return this.creating.get(key) ?? null;
  }

  /** Boots the image, runs its warm-up, checkpoints and stores the snapshot. One at a time per key. */
  async create(spec: WarmSnapshotSpec, imageRootfs: string): Promise<LocalSnapshot> {
    const key = await this.key(spec);
    let pending = this.creating.get(key);
    if (!pending) {
      pending = this.boot(key, spec, imageRootfs).finally(() => this.creating.delete(key));
      this.creating.set(key, pending);
    }
    return pending;
  }

  private async boot(key: string, spec: WarmSnapshotSpec, imageRootfs: string): Promise<LocalSnapshot> {
    const t0 = performance.now();
    const code = warmupCode(spec.warmup);
    const sessionId = `snap-${key.slice(0, 12)}-${randomBytes(3).toString("hex")}`;
    // The snapshot boot's own empty workspace: each restore binds the session's instead.
    const workspaceDir = path.join(this.opts.stateRoot, "snapshot-workspaces", sessionId);
    const imagePath = path.join(this.opts.dir, `.checkpoint-${sessionId}`);
    await mkdir(this.opts.dir, { recursive: true });
    const sandbox = await startKernelSandbox({ ...this.sandboxOptions(spec, imageRootfs), sessionId, workspaceDir, snapshotBoot: true });
    try {
      const reply = await sandbox.call("cellar_warmup_request", { code }, WARMUP_TIMEOUT_MS);
      if (reply.status !== "ok") throw new Error(`the warm-up failed: ${String(reply.evalue)}`);
      await sandbox.checkpoint(imagePath);
      const snap = await this.store.put(key, imagePath);
      this.log(
        `[snapshots] warm snapshot ${snap.id.slice(0, 12)} of image ${spec.imageId.slice(0, 12)} (${spec.warmup.join(", ")}) made in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      return snap;
    } finally {
      await sandbox.stop();
      await rm(imagePath, { recursive: true, force: true });
      await rm(workspaceDir, { recursive: true, force: true });
    }
  }

  private sandboxOptions(spec: WarmSnapshotSpec, imageRootfs: string) {
    return {
      imageRootfs,
      stateRoot: this.opts.stateRoot,
      platform: this.opts.platform,
      runscPath: this.opts.runscPath,
      bridgeDir: this.opts.bridgeDir,
      limits: spec.limits,
    };
  }
}
