// One kernel per open notebook: places it on a worker, relays messages both ways, tracks its
// status, and records outputs. The only place that knows which worker holds which notebook.
import { randomUUID } from "node:crypto";
import { parentIdOf } from "@cellar/kernel-client";
import {
  canChangeStatus,
  type GatewayToBrowser,
  type JupyterMessage,
  type KernelStatus,
  type SessionLimits,
  type SuspendedKernelRef,
  type TerminalRequest,
  type WorkerStatus,
} from "@cellar/protocol";
import type { ConnectedWorker, WorkerPool } from "../workers/worker-pool";
import { CellOutputRecorder, type OutputSink } from "./cell-output-recorder";
import { InputEcho } from "./input-echo";

export interface RunRecorder extends OutputSink {
  markRun(notebookId: string): Promise<void>;
}

/** Sends an event to every browser that has the notebook open. */
export type KernelEmit = <E extends keyof GatewayToBrowser>(
  notebookId: string,
  event: E,
  payload: Parameters<GatewayToBrowser[E]>[0],
) => void;

interface KernelSession {
  sessionId: string;
  notebookId: string;
  workerId: string | null;
  status: KernelStatus;
  reason?: string;
  /** execute_request msg_id -> cell id, to attribute outputs. */
  requests: Map<string, string>;
  recorder: CellOutputRecorder;
  /** The image it was started on: a suspended kernel resumes on the same one. */
  image?: { name: string; id: string };
  /** While suspended: its checkpoint, from which any worker can resume it. */
  suspended?: SuspendedKernelRef;
  inputEcho: InputEcho;
  startTimer?: NodeJS.Timeout;
  /** Illegal moves its worker reported ("from>to"), each logged once so a confused worker cannot
   * flood the log. */
  illegalReports?: Set<string>;
}

export interface KernelManagerOptions {
  pool: WorkerPool;
  store: RunRecorder;
  emit: KernelEmit;
  limits: SessionLimits;
  /** Image name -> id in the content store; undefined if the gateway does not have it. */
  resolveImage(name: string): string | undefined;
  /** The image a notebook chose; "base" when not known. */
  imageOf?(notebookId: string): string;
  /** Modules the image's warm-up imports (for its warm snapshot). */
  warmupOf?(image: string): string[] | undefined;
  startTimeoutMs: number;
}

export type SendResult = { ok: true } | { ok: false; error: string };

export interface KernelStatusChange {
  notebookId: string;
  status: KernelStatus;
  reason?: string;
}

export class KernelManager {
  private byNotebook = new Map<string, KernelSession>();
  private bySession = new Map<string, KernelSession>();
  /** The worker each notebook's kernel last ran on: its workspace lives there. */
  private lastWorker = new Map<string, string>();
  private readonly statusListeners = new Set<(change: KernelStatusChange) => void>();

  constructor(private readonly opts: KernelManagerOptions) {}

  /** Calls `listener` with every status change of every notebook's kernel, before the browsers
   * hear of it (the terminal relay ends the kernel's terminals). Returns the unsubscribe. */
  onStatusChange(listener: (change: KernelStatusChange) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  status(notebookId: string): { status: KernelStatus; reason?: string } | undefined {
    const k = this.byNotebook.get(notebookId);
    return k && { status: k.status, reason: k.reason };
  }

  /** Starts a kernel for the notebook unless it has a live one. A dead kernel stays dead until
   * the user restarts it, so they can read why it died. */
  ensureKernel(notebookId: string): KernelStatus {
    const existing = this.byNotebook.get(notebookId);
    if (existing && existing.status !== "disconnected") return existing.status;
    return this.start(notebookId).status;
  }

  /** The connected worker holding, or last holding, the notebook's kernel (and so its workspace). */
  workerOf(notebookId: string): ConnectedWorker | undefined {
    const id = this.byNotebook.get(notebookId)?.workerId ?? this.lastWorker.get(notebookId);
    return id ? this.opts.pool.get(id) : undefined;
  }

  send(notebookId: string, msg: JupyterMessage): SendResult {
    const target = this.relayTarget(notebookId, "run code");
    if (!target.ok) return target;
    const { k, worker } = target;
    if (msg.header.msg_type === "execute_request") {
      const cellId = msg.metadata.cellId;
      if (typeof cellId === "string") {
        k.requests.set(msg.header.msg_id, cellId);
        k.recorder.begin(cellId);
      }
      this.opts.store.markRun(notebookId).catch((e) => console.error("gateway: markRun failed:", e));
    }
    const echo = k.inputEcho.answer(msg);
    worker.socket.emit("session:send", { sessionId: k.sessionId, message: msg });
    if (echo) this.onWorkerMessage(k.sessionId, echo);
    return { ok: true };
  }

  /** Relays a terminal request to the worker holding the notebook's kernel, as `send` does (so it
   * wakes a suspended kernel); opening a terminal starts the kernel if the notebook has none.
   * Answers which kernel session got it. */
  sendTerminal(notebookId: string, req: TerminalRequest): { ok: true; sessionId: string } | { ok: false; error: string } {
    if (req.type === "open") this.ensureKernel(notebookId);
    const target = this.relayTarget(notebookId, "open a terminal", { explainMissing: true });
    if (!target.ok) return target;
    const { k, worker } = target;
    worker.socket.emit("session:terminal", { sessionId: k.sessionId, request: req });
    return { ok: true, sessionId: k.sessionId };
  }

  /** The browser saved the notebook; outputs of cells that were not saved yet can land now. */
  onNotebookSaved(notebookId: string): void {
    void this.byNotebook.get(notebookId)?.recorder.retryUnsaved();
  }

  /** "Clear outputs" from a browser: the cells' recorded outputs and counts are dropped for good,
   * through the recorder when the notebook has a kernel so a pending write cannot bring them back. */
  async clearOutputs(notebookId: string, cellIds: string[]): Promise<void> {
    const recorder = this.byNotebook.get(notebookId)?.recorder;
    if (!recorder) {
      await Promise.all(cellIds.map((id) => this.opts.store.saveCellOutputs(notebookId, id, [], null)));
      return;
    }
    for (const id of cellIds) recorder.begin(id);
    await recorder.flush();
  }

  interrupt(notebookId: string): SendResult {
    const k = this.byNotebook.get(notebookId);
    const worker = k?.workerId ? this.opts.pool.get(k.workerId) : undefined;
    if (!k || !worker) return { ok: false, error: "No running kernel to interrupt." };
    worker.socket.emit("session:interrupt", { sessionId: k.sessionId });
    return { ok: true };
  }

  async restart(notebookId: string): Promise<SendResult> {
    const old = this.byNotebook.get(notebookId);
    if (old) {
      this.setStatus(old, "restarting");
      await this.stopSession(old);
    }
    this.start(notebookId);
    return { ok: true };
  }

  /** The notebook is gone (deleted): its kernel stops and frees the worker's slot. */
  async stop(notebookId: string): Promise<void> {
    const k = this.byNotebook.get(notebookId);
    if (!k) return;
    this.byNotebook.delete(notebookId);
    await this.stopSession(k);
  }

  onWorkerMessage(sessionId: string, msg: JupyterMessage): void {
    const k = this.bySession.get(sessionId);
    if (!k) return;
    k.inputEcho.fromKernel(msg);
    const parentId = parentIdOf(msg);
    const cellId = parentId ? k.requests.get(parentId) : undefined;
    let relay = true;
    if (cellId) {
      relay = k.recorder.record(cellId, msg);
      if (msg.header.msg_type === "execute_reply") {
        k.requests.delete(parentId!);
        void k.recorder.flush(cellId);
      }
    }
    if (relay) this.opts.emit(k.notebookId, "kernel:message", { notebookId: k.notebookId, message: msg });
  }

  onWorkerStatus(sessionId: string, status: WorkerStatus, reason?: string, suspended?: SuspendedKernelRef): void {
    const k = this.bySession.get(sessionId);
    if (!k) return;
    // Restarting: the old session is being stopped and whatever it still says is moot.
    if (k.status === "restarting") return;
    if (!canChangeStatus(k.status, status)) {
      const move = `${k.status}>${status}`;
      k.illegalReports ??= new Set();
      if (!k.illegalReports.has(move)) {
        k.illegalReports.add(move);
        console.warn(`gateway: ignored status ${status} for notebook ${k.notebookId}: a kernel cannot move from ${k.status} to ${status}`);
      }
      return;
    }
    if (status === "suspended") k.suspended = suspended;
    else if (status !== "resuming") k.suspended = undefined;
    if (status !== "starting") clearTimeout(k.startTimer);
    this.setStatus(k, status, reason);
    if (status === "dead") void k.recorder.flush();
  }

  /** A worker disconnected: its kernels are gone with it, except suspended ones, which any
   * worker resumes from their checkpoint when the notebook next sends a request. */
  onWorkerLost(sessionIds: string[]): void {
    for (const id of sessionIds) {
      const k = this.bySession.get(id);
      if (!k) continue;
      k.workerId = null;
      if (k.status === "suspended" && k.suspended) continue;
      this.setStatus(k, "dead", "The worker running this kernel disconnected. Restart to get a new kernel.");
    }
  }

  /** A worker joined: kernels that were waiting for one start now. */
  onWorkerAdded(): void {
    for (const k of this.byNotebook.values()) if (k.status === "disconnected") this.start(k.notebookId);
  }

  /** Suspends the notebook's kernel now, if it is idle (the idle timeout does it by itself). */
  async suspend(notebookId: string, timeoutMs = 600_000): Promise<SendResult> {
    const k = this.byNotebook.get(notebookId);
    if (!k) return { ok: false, error: "The notebook has no kernel." };
    if (k.status === "suspended") return { ok: true };
    const worker = k.workerId ? this.opts.pool.get(k.workerId) : undefined;
    if (!worker) return { ok: false, error: "The kernel is not running on any worker." };
    try {
      return await worker.socket.timeout(timeoutMs).emitWithAck("session:suspend", { sessionId: k.sessionId });
    } catch {
      return { ok: false, error: `The worker did not finish suspending the kernel within ${Math.round(timeoutMs / 1000)} s.` };
    }
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.byNotebook.values()].map((k) => this.stopSession(k)));
  }

  private start(notebookId: string): KernelSession {
    const previous = this.byNotebook.get(notebookId);
    if (previous) this.forget(previous);
    const k: KernelSession = {
      // Starts out "disconnected" so the first real status is always announced.
      sessionId: randomUUID(),
      notebookId,
      workerId: null,
      status: "disconnected",
      requests: new Map(),
      recorder: new CellOutputRecorder(notebookId, this.opts.store),
      inputEcho: new InputEcho(),
    };
    this.byNotebook.set(notebookId, k);
    this.bySession.set(k.sessionId, k);
    const image = this.opts.imageOf?.(notebookId) ?? "base";
    const imageId = this.opts.resolveImage(image);
    if (!imageId) {
      this.setStatus(k, "dead", `The image ${image} is not available on this gateway.`);
      return k;
    }
    k.image = { name: image, id: imageId };
    const worker = this.opts.pool.pick();
    if (!worker) {
      this.setStatus(k, "disconnected", "No worker is connected; the kernel starts when one connects.");
      return k;
    }
    k.workerId = worker.id;
    this.lastWorker.set(notebookId, worker.id);
    worker.sessions.add(k.sessionId);
    this.setStatus(k, "starting");
    k.startTimer = setTimeout(() => {
      if (k.status === "starting") {
        this.setStatus(k, "dead", `The kernel did not start within ${Math.round(this.opts.startTimeoutMs / 1000)} s.`);
        void this.stopSession(k);
      }
    }, this.opts.startTimeoutMs);
    worker.socket.emit(
      "session:start",
      { sessionId: k.sessionId, notebookId, image, imageId, limits: this.opts.limits, warmup: this.opts.warmupOf?.(image) },
      (res) => {
        if (!res.ok && this.bySession.get(k.sessionId) === k) {
          clearTimeout(k.startTimer);
          this.setStatus(k, "dead", `The kernel failed to start: ${res.error}`);
        }
      },
    );
    return k;
  }

  /** The notebook's kernel and the worker to relay a request to, resuming a suspended kernel
   * whose worker left on any worker; or why there is none (`purpose` ends the sentence for a dead
   * kernel; `explainMissing` gives a kernel's own reason, "no worker is connected", when it has
   * no worker). */
  private relayTarget(
    notebookId: string,
    purpose: string,
    { explainMissing = false } = {},
  ): { ok: true; k: KernelSession; worker: ConnectedWorker } | { ok: false; error: string } {
    const k = this.byNotebook.get(notebookId);
    if (k && k.status === "suspended" && !k.workerId) {
      const resumed = this.resumeOnAnyWorker(k);
      if (!resumed.ok) return resumed;
    }
    const noKernel = "The notebook has no kernel; restart it.";
    if (!k || !k.workerId) return { ok: false, error: (explainMissing ? k?.reason : undefined) ?? noKernel };
    if (k.status === "dead") return { ok: false, error: `The kernel is dead; restart it to ${purpose}.` };
    const worker = this.opts.pool.get(k.workerId);
    if (!worker) return { ok: false, error: "The kernel's worker is gone; restart the kernel." };
    return { ok: true, k, worker };
  }

  /** The suspended kernel's worker is gone: another one takes the session and resumes it from the
   * checkpoint when the request that follows arrives. */
  private resumeOnAnyWorker(k: KernelSession): SendResult {
    const worker = this.opts.pool.pick();
    if (!worker) return { ok: false, error: "No worker is connected; the suspended kernel resumes once one is." };
    if (!k.image || !k.suspended) return { ok: false, error: "The kernel cannot be resumed; restart it." };
    k.workerId = worker.id;
    this.lastWorker.set(k.notebookId, worker.id);
    worker.sessions.add(k.sessionId);
    worker.socket.emit(
      "session:start",
      {
        sessionId: k.sessionId,
        notebookId: k.notebookId,
        image: k.image.name,
        imageId: k.image.id,
        limits: this.opts.limits,
        resume: k.suspended,
      },
      (res) => {
        if (!res.ok && this.bySession.get(k.sessionId) === k)
          this.setStatus(k, "dead", `The suspended kernel could not be resumed: ${res.error}`);
      },
    );
    return { ok: true };
  }

  private async stopSession(k: KernelSession): Promise<void> {
    clearTimeout(k.startTimer);
    await k.recorder.flush();
    const worker = k.workerId ? this.opts.pool.get(k.workerId) : undefined;
    this.bySession.delete(k.sessionId);
    if (!worker) return;
    worker.sessions.delete(k.sessionId);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 10_000);
      worker.socket.emit("session:stop", { sessionId: k.sessionId }, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private forget(k: KernelSession): void {
    clearTimeout(k.startTimer);
    this.bySession.delete(k.sessionId);
    if (k.workerId) this.opts.pool.get(k.workerId)?.sessions.delete(k.sessionId);
  }

  private setStatus(k: KernelSession, status: KernelStatus, reason?: string): void {
    if (this.byNotebook.get(k.notebookId) !== k) return;
    if (k.status === status && k.reason === reason) return;
    k.status = status;
    k.reason = reason;
    const change: KernelStatusChange = { notebookId: k.notebookId, status, reason };
    for (const listener of this.statusListeners) listener(change);
    this.opts.emit(k.notebookId, "kernel:status", change);
  }
}
