// The kernel sessions of this worker, and how one starts: a suspended kernel is adopted (it
// resumes on its first request); otherwise the image is attached and the kernel comes from the
// pool, else the image's warm snapshot, else a cold boot. The gateway connection only turns
// socket events into these calls, so this can be tested without a gateway or a sandbox.
import fs from "node:fs";
import path from "node:path";
import type { StartSession, WorkerSessionReport } from "@cellar/protocol";
import type { WorkerConfig } from "../config";
import type { ImageAttacher } from "../images/image-attacher";
import { startKernelSandbox, type KernelSandbox, type KernelSandboxOptions } from "../sandbox/kernel-sandbox";
import { sandboxMemoryCap } from "../sandbox/sandbox-cgroup";
import { DEFAULT_WARMUP, type KernelPool, type WarmSnapshots } from "../snapshots";
import type { ResumeSandboxOptions, SuspendedKernels } from "./suspended-kernels";
import { KernelSession, type KernelSessionEvents } from "./kernel-session";

export type StartResult = { ok: true } | { ok: false; error: string };

export interface SessionManagerDeps {
  config: Pick<WorkerConfig, "home" | "stateRoot" | "platform" | "warmSnapshots" | "suspendAfterMs">;
  images: Pick<ImageAttacher, "attach">;
  snapshots: Pick<WarmSnapshots, "prefetch">;
  /** Set once built: the pool reads this manager's live sessions for its memory budget. */
  pool(): Pick<KernelPool, "start">;
  suspendedKernels: Pick<SuspendedKernels, "for">;
  /** What a session tells the gateway. */
  events(sessionId: string): KernelSessionEvents;
  /** A cold boot when warm snapshots are off. */
  coldBoot?: (opts: KernelSandboxOptions) => Promise<KernelSandbox>;
  log?: (line: string) => void;
}

/** How long a suspend asked of an idle kernel waits for its last reply to go through. */
const SUSPEND_SETTLE_MS = 2_000;

export class SessionManager {
  private readonly sessions = new Map<string, KernelSession>();
  // What each session asked for: the pool's memory budget and workspace checks read it. Entries
  // of sessions that have ended are dropped whenever it is read.
  private readonly requested = new Map<string, StartSession>();
  private readonly log: (line: string) => void;

  constructor(private readonly deps: SessionManagerDeps) {
    this.log = deps.log ?? ((line) => console.log(line));
  }

  get(sessionId: string): KernelSession | undefined {
    return this.sessions.get(sessionId);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Newest first. */
  all(): KernelSession[] {
    return [...this.sessions.values()].reverse();
  }

  /** The kernels this worker has, for the gateway it (re)connects to: it adopts them. */
  report(): WorkerSessionReport[] {
    const reports: WorkerSessionReport[] = [];
    for (const [sessionId, s] of this.sessions) {
      const notebookId = this.requested.get(sessionId)?.notebookId;
      if (!notebookId || s.state === "dead") continue;
      const status = s.status;
      if (status === "suspended") {
        const checkpoint = s.checkpoint;
        if (checkpoint) reports.push({ sessionId, notebookId, status, suspended: checkpoint });
      } else reports.push({ sessionId, notebookId, status });
    }
    return reports;
  }

  /** What the live sessions' sandboxes may use together, as their cgroups cap them. */
  liveSessionsMemory(): number {
    return this.liveRequests().reduce((n, p) => n + sandboxMemoryCap(p.limits.memoryBytes), 0);
  }

  /** Starts (or, with `resume`, adopts) the session; resolves once its kernel is ready. */
  async start(p: StartSession): Promise<StartResult> {
    if (this.sessions.has(p.sessionId)) return { ok: false, error: "session already exists" };
    const { config, images } = this.deps;
    const workspaceDir = path.join(config.home, "workspaces", p.notebookId);
    const sandboxOptions = (imageRootfs: string): KernelSandboxOptions => ({
      sessionId: p.sessionId,
      imageRootfs,
      workspaceDir,
      stateRoot: config.stateRoot,
      limits: p.limits,
      platform: config.platform,
    });
    const resumeOptions = async (): Promise<ResumeSandboxOptions> => sandboxOptions(await images.attach(p.imageId));
    const session = new KernelSession(p.sessionId, this.deps.events(p.sessionId), {
      suspendAfterMs: config.suspendAfterMs,
      suspender: this.deps.suspendedKernels.for(p.sessionId, resumeOptions),
    });
    this.sessions.set(p.sessionId, session);
    this.requested.set(p.sessionId, p);
    if (p.resume) {
      // A kernel suspended by another worker (or this one before a restart): it resumes on its
      // first request, which the gateway sends right behind this.
      session.adoptSuspended(p.resume);
      return { ok: true };
    }
    try {
      const spec = { imageId: p.imageId, limits: p.limits, warmup: p.warmup ?? DEFAULT_WARMUP };
      // On a worker that has never seen the image, its snapshot comes while the image mounts,
      // and the mount skips the boot packs that only a boot would read.
      const forRestore = config.warmSnapshots && (await this.deps.snapshots.prefetch(spec));
      const imageRootfs = await images.attach(p.imageId, { forRestore });
      fs.mkdirSync(workspaceDir, { recursive: true });
      await session.start(async () => {
        if (!config.warmSnapshots) return (this.deps.coldBoot ?? startKernelSandbox)(sandboxOptions(imageRootfs));
        // Claims a kernel the pool restored ahead of time, else restores the image's warm
        // snapshot, or boots cold (and makes the snapshot afterwards, in the background, so
        // this user is not slowed).
        const t0 = performance.now();
        const workspaceInUse = this.liveRequests().some((o) => o.notebookId === p.notebookId && o.sessionId !== p.sessionId);
        const started = await this.deps
          .pool()
          .start(spec, imageRootfs, { sessionId: p.sessionId, workspaceDir }, { claim: !workspaceInUse });
        const ms = (performance.now() - t0).toFixed(0);
        const how =
          started.source === "pool"
            ? `claimed a pool kernel (${started.claimMs} ms)`
            : started.source === "snapshot"
              ? `restored from a warm snapshot (lookup ${started.timings?.lookupMs} ms, restore ${started.timings?.restoreMs} ms)`
              : `booted cold (${started.reason})`;
        this.log(`worker: session ${p.sessionId} ${how} in ${ms} ms`);
        return started.sandbox;
      });
      return { ok: true };
    } catch (err) {
      this.sessions.delete(p.sessionId);
      console.error(`worker: session ${p.sessionId} failed to start:`, err);
      return { ok: false, error: (err as Error).message };
    }
  }

  /** Suspends the session's kernel now if it is idle; the answer says why not. */
  async suspend(sessionId: string): Promise<StartResult> {
    const s = this.sessions.get(sessionId);
    if (!s) return { ok: false, error: "No such kernel on this worker." };
    if (await s.suspend()) return { ok: true };
    // Idle but for a reply still on its way (the kernel says idle a moment before its last reply
    // is through): asked right after a cell, that is worth a short wait, not a refusal.
    for (const end = Date.now() + SUSPEND_SETTLE_MS; s.status === "idle" && !s.suspendFailure && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 50));
      if (await s.suspend()) return { ok: true };
    }
    return {
      ok: false,
      error: s.suspendFailure
        ? `The kernel could not be suspended and keeps running: ${s.suspendFailure}`
        : `The kernel is ${s.status}; only an idle kernel can be suspended.`,
    };
  }

  /** Ends the session and its kernel for good. */
  async stop(sessionId: string): Promise<void> {
    const s = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    await s?.stop();
  }

  /** Lets go of every session: running kernels are stopped, suspended ones only forgotten (the
   * gateway keeps their checkpoints, and any worker may resume them). */
  async dropAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => (s.state === "suspended" ? s.release() : s.stop())));
    this.sessions.clear();
  }

  private liveRequests(): StartSession[] {
    for (const id of this.requested.keys()) if (!this.sessions.has(id)) this.requested.delete(id);
    return [...this.requested.values()];
  }
}
