// The kernel sessions of this worker, and how one starts: a suspended kernel is adopted (it
// resumes on its first request); otherwise the image is attached and the kernel comes from the
// pool, else the image's warm snapshot, else a cold boot. The gateway connection only turns
// socket events into these calls, so this can be tested without a gateway or a sandbox.
import fs from "node:fs";
import path from "node:path";
import type {
  Isolation,
  MoveFile,
  StartSession,
  StateExportReport,
  StateImportReport,
  WorkerResources,
  WorkerSessionReport,
} from "@cellar/protocol";
import type { WorkerConfig } from "../config";
import type { ImageAttacher } from "../images/image-attacher";
import { startKernelSandbox, type KernelSandbox, type KernelSandboxOptions } from "../sandbox/kernel-sandbox";
import { planGpuSandbox } from "../sandbox/gpu-sandbox";
import { sandboxMemoryCap } from "../sandbox/sandbox-cgroup";
import { DEFAULT_WARMUP, type KernelPool, type WarmSnapshots } from "../snapshots";
import type { ResumeSandboxOptions, SuspendedKernels } from "./suspended-kernels";
import { KernelSession, type KernelSessionEvents } from "./kernel-session";
import { moveDirIn, type MoveFiles } from "./move-files";

export type StartResult = { ok: true; isolation?: Isolation } | { ok: false; error: string };

/** How a workspace travels through the content store (files/workspace-transfer.ts). */
export interface WorkspaceTransfer {
  /** Stores the folder; its manifest id. */
  store(dir: string): Promise<string>;
  /** Makes the folder hold exactly that manifest's files. */
  layOut(id: string, dir: string): Promise<unknown>;
}

/** How long a state export or import may take: gigabytes of arrays go through the disk. */
const STATE_MOVE_TIMEOUT_MS = 600_000;

export interface SessionManagerDeps {
  config: Pick<WorkerConfig, "home" | "stateRoot" | "platform" | "warmSnapshots" | "suspendAfterMs">;
  images: Pick<ImageAttacher, "attach">;
  snapshots: Pick<WarmSnapshots, "prefetch">;
  /** Set once built: the pool reads this manager's live sessions for its memory budget. */
  pool(): Pick<KernelPool, "start">;
  suspendedKernels: Pick<SuspendedKernels, "for">;
  /** Absent: this worker cannot move kernel state (no content store). */
  workspaces?: WorkspaceTransfer;
  /** A move's files on their way between workers (with `workspaces`). */
  moves?: MoveFiles;
  /** What a session tells the gateway. */
  events(sessionId: string): KernelSessionEvents;
  /** A cold boot when warm snapshots are off (and for GPU kernels, always). */
  coldBoot?: (opts: KernelSandboxOptions) => Promise<KernelSandbox>;
  /** What this machine offers: a GPU session's sandbox is planned from it. Absent: CPU only. */
  resources?: WorkerResources;
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
    const workspaceDir = this.workspaceDir(p.notebookId);
    const gpu = planGpuSandbox(p, this.deps.resources ?? { cpus: 0, memoryBytes: 0, gpus: [], labels: {} });
    if (!gpu.ok) return gpu;
    if (p.workspace) {
      const laid = await this.layOutWorkspace(p, workspaceDir);
      if (!laid.ok) return laid;
    }
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
      // A GPU kernel is never suspended: its GPU memory cannot be checkpointed (and crun's not at all).
      suspender: gpu.gpu ? undefined : this.deps.suspendedKernels.for(p.sessionId, resumeOptions),
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
      const spec = {
        imageId: p.imageId,
        limits: p.limits,
        warmup: p.warmup ?? DEFAULT_WARMUP,
        from: p.snapshotOf && { imageId: p.snapshotOf.imageId, warmup: p.snapshotOf.warmup ?? DEFAULT_WARMUP },
      };
      // On a worker that has never seen the image, its snapshot comes while the image mounts,
      // and the mount skips the boot packs that only a boot would read.
      const forRestore = config.warmSnapshots && (await this.deps.snapshots.prefetch(spec));
      const imageRootfs = await images.attach(p.imageId, { forRestore });
      fs.mkdirSync(workspaceDir, { recursive: true });
      await session.start(async () => {
        // GPU memory is not checkpointed: a GPU kernel boots cold, with its devices.
        if (gpu.gpu) return (this.deps.coldBoot ?? startKernelSandbox)({ ...sandboxOptions(imageRootfs), gpu: gpu.gpu });
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
              ? `restored from a warm snapshot${started.timings?.from ? ` of its parent image ${started.timings.from.slice(0, 12)}` : ""} (lookup ${started.timings?.lookupMs} ms, restore ${started.timings?.restoreMs} ms)`
              : `booted cold (${started.reason})`;
        this.log(`worker: session ${p.sessionId} ${how} in ${ms} ms`);
        return started.sandbox;
      });
      return { ok: true, isolation: gpu.isolation };
    } catch (err) {
      this.sessions.delete(p.sessionId);
      console.error(`worker: session ${p.sessionId} failed to start:`, err);
      return { ok: false, error: (err as Error).message };
    }
  }

  /**
   * Writes the session's namespace into its workspace (`.cellar/moves/<moveId>`) and stores the
   * workspace in the content store. Unless the import is `local` (a kernel of this worker sharing
   * the workspace), the move's files are first taken out of the workspace, to be fetched by the
   * new worker with `token` or read by the gateway (MoveFiles) until it drops them. The kernel
   * runs on.
   */
  async exportState(
    sessionId: string,
    moveId: string,
    local = false,
    token?: string,
  ): Promise<{ ok: true; report: StateExportReport; workspace: string; files?: MoveFile[] } | { ok: false; error: string }> {
    const s = this.sessions.get(sessionId);
    const p = this.requested.get(sessionId);
    if (!s || !p) return { ok: false, error: "No such kernel on this worker." };
    const { workspaces, moves } = this.deps;
    if (!workspaces || !moves) return { ok: false, error: "This worker has no content store to move a kernel's state through." };
    const dir = this.workspaceDir(p.notebookId);
    let done = false;
    try {
      const t0 = performance.now();
      const reply = await settled(s, () => s.bridgeCall("cellar_state_export_request", { move_id: moveId }, STATE_MOVE_TIMEOUT_MS));
      if (reply.status !== "ok" || !reply.report)
        return { ok: false, error: `The kernel could not export its variables: ${reply.evalue ?? "no report"}` };
      const files = local ? undefined : await moves.takeOut(dir, moveId, token);
      const t1 = performance.now();
      const workspace = await workspaces.store(dir);
      const t2 = performance.now();
      this.log(
        `worker: session ${sessionId} exported ${reply.report.names.length} names (${reply.report.bytes} bytes) in ${(t1 - t0).toFixed(0)} ms (kernel ${(reply.report.seconds * 1000).toFixed(0)} ms), stored the workspace in ${(t2 - t1).toFixed(0)} ms`,
      );
      done = true;
      return { ok: true, report: reply.report, workspace, ...(files ? { files } : {}) };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    } finally {
      if (!done) {
        await fs.promises.rm(moveDirIn(dir, moveId), { recursive: true, force: true }).catch(() => {});
        await moves.drop(moveId).catch(() => {});
      }
    }
  }

  /** Loads a move into the session's kernel: the files the gateway brought (MoveFiles), else
   * those in its workspace already (a local move). The move's files go afterwards either way. */
  async importState(sessionId: string, moveId: string): Promise<{ ok: true; report: StateImportReport } | { ok: false; error: string }> {
    const s = this.sessions.get(sessionId);
    const p = this.requested.get(sessionId);
    if (!s || !p) return { ok: false, error: "No such kernel on this worker." };
    const dir = moveDirIn(this.workspaceDir(p.notebookId), moveId);
    try {
      await this.deps.moves?.placeIn(this.workspaceDir(p.notebookId), moveId);
      const gpu = p.device?.kind === "gpu";
      const reply = await s.bridgeCall("cellar_state_import_request", { move_id: moveId, gpu }, STATE_MOVE_TIMEOUT_MS);
      if (reply.status !== "ok" || !reply.report)
        return { ok: false, error: `The kernel could not import the variables: ${reply.evalue ?? "no report"}` };
      if (reply.report.mapped_bytes) s.noteMappedMove();
      this.log(
        `worker: session ${sessionId} imported ${reply.report.names.length} names in ${(reply.report.seconds * 1000).toFixed(0)} ms` +
          (reply.report.mapped_bytes ? ` (${reply.report.mapped_bytes} bytes of arrays mapped, not read)` : ""),
      );
      return { ok: true, report: reply.report };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    } finally {
      // The kernel removes them too, but files this worker wrote may not be its to remove.
      await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  }

  private workspaceDir(notebookId: string): string {
    return path.join(this.deps.config.home, "workspaces", notebookId);
  }

  /** Lays out the workspace another worker stored, before the kernel starts. A kernel of this
   * notebook already live here has that very folder mounted (the state moved within this worker):
   * it is already current, and replacing it would pull it from under that kernel. */
  private async layOutWorkspace(p: StartSession, dir: string): Promise<StartResult> {
    if (this.liveRequests().some((o) => o.notebookId === p.notebookId)) {
      this.log(`worker: session ${p.sessionId} shares the workspace of a live kernel of notebook ${p.notebookId}; not laid out again`);
      return { ok: true };
    }
    if (!this.deps.workspaces) return { ok: false, error: "This worker has no content store to take a workspace from." };
    try {
      const t0 = performance.now();
      const stats = await this.deps.workspaces.layOut(p.workspace!, dir);
      this.log(
        `worker: session ${p.sessionId} laid out workspace ${p.workspace} in ${(performance.now() - t0).toFixed(0)} ms ${JSON.stringify(stats)}`,
      );
      return { ok: true };
    } catch (err) {
      return { ok: false, error: `The notebook's workspace could not be laid out on this worker: ${(err as Error).message}` };
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

/**
 * A bridge call that an idle kernel refused because a message was still on its way (its "idle"
 * comes a moment before the last reply, or a reply before its "idle"), tried again for a moment,
 * as a suspend is: the gateway asked only once the kernel was idle with every request answered,
 * and seen from here that was not yet so. A kernel running a cell is refused at once.
 */
async function settled<T>(s: KernelSession, call: () => Promise<T>): Promise<T> {
  const began = Date.now();
  for (let tries = 0; ; tries++) {
    try {
      const result = await call();
      if (tries)
        console.log(
          `worker: session ${s.sessionId} was idle with a message still on its way; its bridge call waited ${Date.now() - began} ms`,
        );
      return result;
    } catch (err) {
      const end = began + SUSPEND_SETTLE_MS;
      if (s.status !== "idle" || Date.now() >= end || !String((err as Error).message).startsWith("A cell is running")) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
