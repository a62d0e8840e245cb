// Kernels restored before anyone asks for them. For the images started most recently on this
// worker, a few kernels wait already restored from the warm snapshot and already become a
// session (fresh random state, sandbox user); a session start claims one and only hands it the
// notebook's workspace, so the first cell does not wait for a restore. Refills happen in the
// background, one at a time, after starts have settled, and never past the worker's memory.
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { KernelSandbox } from "../sandbox/kernel-sandbox";
import { sandboxMemoryCap } from "../sandbox/sandbox-cgroup";
import type { WarmSnapshotSpec } from "./snapshot-key";
import { adoptWorkspace, sameFilesystem } from "./pool-workspace";
import type { SessionSandboxOptions, StartedKernel, WarmSnapshots } from "./warm-snapshots";

export interface KernelPoolOptions {
  snapshots: WarmSnapshots;
  /** Kernels kept ready per image (warm-snapshot key); 0 turns the pool off. */
  size: number;
  /** How many images, the most recently started, keep a pool. Default 2. */
  images?: number;
  /** Where notebook workspaces live. Pool kernels get empty slot folders in `<dir>/.pool`, on the
   * same filesystem, so that a claim can rename the notebook's files into the slot. */
  workspacesDir: string;
  /** What the worker offers; pool kernels' sandboxes plus live sessions' stay within it. */
  memoryBytes: number;
  /** What the sandboxes of the sessions running now may use in all, gVisor's overhead included
   * (sandboxMemoryCap of each session's limit); pool kernels are not sessions. */
  liveSessionsMemory: () => number;
  /** Memory the host actually has available (default os.freemem, i.e. MemAvailable). */
  availableMemory?: () => number;
  /** A refill needs at least this much available memory. Default 1 GiB. */
  minAvailableBytes?: number;
  /** How long after the last start a refill waits, so it does not compete with a booting
   * session or its first cells. Default 2 s. */
  refillDelayMs?: number;
  log?: (line: string) => void;
}

export type PoolStartedKernel = StartedKernel | { sandbox: KernelSandbox; source: "pool"; claimMs: number };

interface PoolKernel {
  sandbox: KernelSandbox;
  slotDir: string;
  memoryBytes: number;
  forget: () => void;
}

interface Wanted {
  key: string;
  spec: WarmSnapshotSpec;
  imageRootfs: string;
  lastStart: number;
}

export class KernelPool {
  private readonly ready = new Map<string, PoolKernel[]>();
  private readonly wanted = new Map<string, Wanted>();
  private readonly log: (line: string) => void;
  private readonly slotsDir: string;
  private startsInFlight = 0;
  private refillTimer: NodeJS.Timeout | null = null;
  private filling: Promise<void> | null = null;
  private refillAgain = false;
  private stopped = false;
  private usable: Promise<boolean> | null = null;

  constructor(private readonly opts: KernelPoolOptions) {
    this.log = opts.log ?? ((line) => console.log(line));
    this.slotsDir = path.join(opts.workspacesDir, ".pool");
  }

  /** Kernels waiting now, over all images. */
  get size(): number {
    let n = 0;
    for (const list of this.ready.values()) n += list.length;
    return n;
  }

  /** What the sandboxes of the kernels waiting now may use in all, gVisor's overhead included. */
  get memoryBytes(): number {
    let n = 0;
    for (const list of this.ready.values()) for (const k of list) n += k.memoryBytes;
    return n;
  }

  /** The container ids of the kernels waiting for `spec`. */
  async waitingFor(spec: WarmSnapshotSpec): Promise<string[]> {
    return (this.ready.get(await this.opts.snapshots.key(spec)) ?? []).map((k) => k.sandbox.containerId);
  }

  /**
   * Starts a session's kernel: a pool kernel when one is waiting for this image, else a restore
   * or a cold boot (WarmSnapshots.start). Either way the image counts as recently started, and
   * its pool is refilled afterwards. `claim: false` skips the pool: a claim replaces the
   * workspace folder, which another live kernel of the same notebook would lose sight of.
   */
  async start(
    spec: WarmSnapshotSpec,
    imageRootfs: string,
    session: SessionSandboxOptions,
    { claim = true } = {},
  ): Promise<PoolStartedKernel> {
    this.startsInFlight++;
    try {
      const key = await this.opts.snapshots.key(spec);
      if (this.opts.size > 0) this.remember(key, spec, imageRootfs);
      const t0 = performance.now();
      const sandbox = claim ? await this.claim(key, session.workspaceDir) : null;
      if (sandbox) return { sandbox, source: "pool", claimMs: Math.round(performance.now() - t0) };
      return await this.opts.snapshots.start(spec, imageRootfs, session);
    } finally {
      this.startsInFlight--;
      this.scheduleRefill();
    }
  }

  /** Refills every pool now (tests and benchmarks; the worker relies on the background refill). */
  async fill(): Promise<void> {
    if (this.refillTimer) clearTimeout(this.refillTimer);
    this.refillTimer = null;
    await this.refill();
  }

  /** Stops every waiting kernel and removes their slots; later starts bypass the pool. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refillTimer) clearTimeout(this.refillTimer);
    await this.filling?.catch(() => {});
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    await Promise.all(all.map((k) => this.discard(k)));
    await rm(this.slotsDir, { recursive: true, force: true });
  }

  private async claim(key: string, workspaceDir: string): Promise<KernelSandbox | null> {
    const list = this.ready.get(key);
    while (list?.length) {
      const kernel = list.shift()!;
      kernel.forget();
      if (kernel.sandbox.hasExited) continue;
      try {
        await adoptWorkspace(kernel.slotDir, workspaceDir);
        return kernel.sandbox;
      } catch (err) {
        this.log(
          `[pool] could not hand workspace ${workspaceDir} to pool kernel ${kernel.sandbox.sessionId}; restoring instead: ${(err as Error).message}`,
        );
        await this.discard(kernel);
        return null;
      }
    }
    return null;
  }

  private remember(key: string, spec: WarmSnapshotSpec, imageRootfs: string): void {
    this.wanted.set(key, { key, spec, imageRootfs, lastStart: Date.now() });
    const keep = new Set(
      [...this.wanted.values()]
        .sort((a, b) => b.lastStart - a.lastStart)
        .slice(0, this.opts.images ?? 2)
        .map((w) => w.key),
    );
    for (const k of [...this.wanted.keys()]) {
      if (keep.has(k)) continue;
      // An image that fell out of the most recent ones gives its memory back.
      this.wanted.delete(k);
      const dropped = this.ready.get(k) ?? [];
      this.ready.delete(k);
      for (const kernel of dropped) void this.discard(kernel);
    }
  }

  private scheduleRefill(): void {
    if (this.stopped || this.opts.size <= 0) return;
    if (this.refillTimer) clearTimeout(this.refillTimer);
    this.refillTimer = setTimeout(() => {
      this.refillTimer = null;
      // Starts first: a refill waits for them to finish and then for the delay again.
      if (this.startsInFlight > 0) return;
      void this.refill();
    }, this.opts.refillDelayMs ?? 2000);
    this.refillTimer.unref();
  }

  private refill(): Promise<void> {
    if (this.filling) {
      this.refillAgain = true;
      return this.filling;
    }
    this.filling = (async () => {
      do {
        this.refillAgain = false;
        await this.refillOnce();
      } while (this.refillAgain && !this.stopped);
    })().finally(() => {
      this.filling = null;
    });
    return this.filling;
  }

  private async refillOnce(): Promise<void> {
    if (this.opts.size <= 0 || !(await this.slotsUsable())) return;
    const byRecency = [...this.wanted.values()].sort((a, b) => b.lastStart - a.lastStart);
    for (const w of byRecency) {
      while (!this.stopped && this.wanted.has(w.key) && (this.ready.get(w.key)?.length ?? 0) < this.opts.size) {
        const refused = this.memoryRefusal(w.spec.limits.memoryBytes);
        if (refused) {
          this.log(`[pool] not refilling the pool of image ${w.spec.imageId.slice(0, 12)}: ${refused}`);
          return;
        }
        const kernel = await this.restoreOne(w);
        if (!kernel) break;
        if (this.stopped || !this.wanted.has(w.key)) {
          await this.discard(kernel);
          break;
        }
        const list = this.ready.get(w.key) ?? [];
        list.push(kernel);
        this.ready.set(w.key, list);
      }
    }
  }

  /** Why one more pool kernel of this limit may not be made now, or null when it may. */
  private memoryRefusal(limitBytes: number): string | null {
    const committed = this.memoryBytes + this.opts.liveSessionsMemory() + sandboxMemoryCap(limitBytes);
    if (committed > this.opts.memoryBytes) {
      return `live sessions and pool kernels would be allowed ${gib(committed)} GiB, more than the worker's ${gib(this.opts.memoryBytes)} GiB`;
    }
    const available = (this.opts.availableMemory ?? os.freemem)();
    const floor = this.opts.minAvailableBytes ?? 2 ** 30;
    if (available < floor) return `only ${gib(available)} GiB of memory available (needs ${gib(floor)} GiB)`;
    return null;
  }

  private async restoreOne(w: Wanted): Promise<PoolKernel | null> {
    const slotId = `pool-${w.key.slice(0, 8)}-${randomBytes(6).toString("hex")}`;
    const slotDir = path.join(this.slotsDir, slotId);
    try {
      await mkdir(slotDir, { recursive: true });
      const sandbox = await this.opts.snapshots.restore(w.spec, w.imageRootfs, { sessionId: slotId, workspaceDir: slotDir });
      if (!sandbox) {
        // The image's first boot makes its snapshot in the background: fill once it exists.
        await rm(slotDir, { recursive: true, force: true });
        const made = this.opts.snapshots.creation(w.key);
        if (made)
          void made.then(
            () => this.scheduleRefill(),
            () => {},
          );
        return null;
      }
      const kernel: PoolKernel = { sandbox, slotDir, memoryBytes: sandboxMemoryCap(w.spec.limits.memoryBytes), forget: () => {} };
      // A pool kernel that dies while it waits leaves the pool (and is refilled later).
      const onExit = () => {
        const list = this.ready.get(w.key);
        const i = list?.indexOf(kernel) ?? -1;
        if (i >= 0) list!.splice(i, 1);
        void rm(slotDir, { recursive: true, force: true });
        this.scheduleRefill();
      };
      sandbox.once("exit", onExit);
      kernel.forget = () => sandbox.off("exit", onExit);
      return kernel;
    } catch (err) {
      // WarmSnapshots has logged and discarded a snapshot that failed; the next start retries.
      this.log(`[pool] could not restore a pool kernel of image ${w.spec.imageId.slice(0, 12)}: ${(err as Error).message}`);
      await rm(slotDir, { recursive: true, force: true });
      return null;
    }
  }

  private async discard(kernel: PoolKernel): Promise<void> {
    kernel.forget();
    await kernel.sandbox.stop().catch(() => {});
    await rm(kernel.slotDir, { recursive: true, force: true });
  }

  /** Slots must sit on the workspaces' filesystem, or a claim could not rename them into place.
   * Leftover slots of a crashed worker are removed once, here. */
  private slotsUsable(): Promise<boolean> {
    this.usable ??= (async () => {
      await rm(this.slotsDir, { recursive: true, force: true });
      await mkdir(this.slotsDir, { recursive: true });
      if (await sameFilesystem(this.slotsDir, this.opts.workspacesDir)) return true;
      this.log(`[pool] ${this.slotsDir} is not on the filesystem of ${this.opts.workspacesDir}; the kernel pool is off`);
      return false;
    })();
    return this.usable;
  }
}

const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
