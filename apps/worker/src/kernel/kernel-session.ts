// One kernel's whole life on this worker, in one place:
//
//   starting -> idle <-> busy -> dead
//                 |  ^
//   (idle timeout | resuming <- any request)
//                 v  |
//            suspending -> suspended
//
// Requests that arrive while the sandbox boots, is being suspended or resumes are queued and
// delivered in order once it runs, so a user may run a cell at any moment. "suspending" is the
// worker's own: the gateway and the user see "idle" until the checkpoint is stored.
import type { JupyterMessage, KernelStatus, SuspendedKernelRef, TerminalEvent, TerminalRequest } from "@cellar/protocol";
import type { KernelSandbox } from "../sandbox/kernel-sandbox";

export type WorkerKernelStatus = Extract<KernelStatus, "starting" | "idle" | "busy" | "dead" | "suspended" | "resuming">;
export type KernelState = WorkerKernelStatus | "suspending";

export interface KernelSessionEvents {
  onMessage(msg: JupyterMessage): void;
  /** `suspended` comes with the status "suspended": what resuming the kernel needs. */
  onStatus(status: WorkerKernelStatus, reason?: string, suspended?: SuspendedKernelRef): void;
  onTerminal?(event: TerminalEvent): void;
}

/** How this session's sandbox is saved and brought back (checkpoint + content store). */
export interface KernelSuspender {
  /** Checkpoints the sandbox (which ends) and stores the checkpoint. */
  suspend(sandbox: KernelSandbox): Promise<SuspendedKernelRef>;
  /** Restores the checkpoint into a running sandbox. */
  resume(ref: SuspendedKernelRef): Promise<KernelSandbox>;
  /** The kernel is shut down for good: its checkpoint is not needed any more. */
  discard(): Promise<void>;
}

export interface KernelSessionOptions {
  /** Suspend after this long without any message to or from the kernel; 0 never. */
  suspendAfterMs?: number;
  suspender?: KernelSuspender;
  log?: (line: string) => void;
}

export class KernelSession {
  private sandbox: KernelSandbox | null = null;
  private queue: JupyterMessage[] = [];
  private terminalQueue: TerminalRequest[] = [];
  private _state: KernelState = "starting";
  private stopped = false;
  /** Requests sent to the kernel whose reply has not come: the kernel is not idle while any is. */
  private awaitingReply = new Set<string>();
  private idleTimer: NodeJS.Timeout | null = null;
  private suspended: SuspendedKernelRef | null = null;
  private _suspendFailure: string | null = null;
  private transition: Promise<unknown> = Promise.resolve();
  private readonly log: (line: string) => void;

  constructor(readonly sessionId: string, private readonly events: KernelSessionEvents, private readonly opts: KernelSessionOptions = {}) {
    this.log = opts.log ?? ((line) => console.log(line));
  }

  get status(): WorkerKernelStatus {
    return this._state === "suspending" ? "idle" : this._state;
  }

  get state(): KernelState {
    return this._state;
  }

  /** Boots the sandbox with `boot`; resolves when the kernel is ready, rejects if it cannot start. */
  async start(boot: () => Promise<KernelSandbox>): Promise<void> {
    this.events.onStatus("starting");
    let sandbox: KernelSandbox;
    try {
      sandbox = await boot();
    } catch (err) {
      this.setState("dead", `The kernel failed to start: ${(err as Error).message}`);
      throw err;
    }
    this.run(sandbox);
  }

  /** Takes on a kernel that another worker process suspended; it resumes on the first request. */
  adoptSuspended(ref: SuspendedKernelRef): void {
    this.suspended = ref;
    this._state = "suspended";
  }

  send(msg: JupyterMessage): void {
    if (this._state === "dead") return;
    if (!this.sandbox || this._state === "suspending") {
      this.queue.push(msg);
      if (this._state === "suspended") void this.resume();
      return;
    }
    this.deliver(msg);
  }

  /** A request for one of the sandbox's terminals, delivered like a kernel request (queued while
   * the sandbox is not running; it wakes a suspended kernel). Terminal use counts as activity. */
  terminal(req: TerminalRequest): void {
    if (this._state === "dead") {
      if (req.type === "open") this.events.onTerminal?.({ type: "exit", id: req.id, reason: "kernel is dead" });
      return;
    }
    if (!this.sandbox || this._state === "suspending") {
      this.terminalQueue.push(req);
      if (this._state === "suspended") void this.resume();
      return;
    }
    this.sandbox.terminals.request(req);
    this.touch();
  }

  interrupt(): void {
    if (this.queue.length) this.queue = this.queue.filter((m) => m.header.msg_type !== "execute_request");
    if (this._state !== "suspending") this.sandbox?.interrupt();
  }

  /**
   * Suspends the kernel if it is idle with nothing queued or awaiting a reply: checkpoint, store,
   * report "suspended". Resolves true once suspended (or if it already was); false if it was not
   * idle, or the checkpoint failed (the kernel then carries on, and the reason is logged).
   */
  suspend(): Promise<boolean> {
    this._suspendFailure = null;
    const next = this.transition.then(() => this.suspendNow());
    this.transition = next.catch(() => {});
    return next;
  }

  /** Why the last `suspend()` that resolved false failed while checkpointing; null when it was
   * only refused (not idle) or succeeded. */
  get suspendFailure(): string | null {
    return this._suspendFailure;
  }

  /** Ends the kernel, and with it any checkpoint it was suspended to. */
  async stop(reason = "The kernel was shut down."): Promise<void> {
    this.stopped = true;
    this.queue = [];
    this.terminalQueue = [];
    this.clearIdleTimer();
    const sandbox = this.sandbox;
    this.sandbox = null;
    if (sandbox) await sandbox.stop();
    if (this.suspended) await this.opts.suspender?.discard().catch((err) => this.log(`[kernel ${this.sessionId}] could not delete its checkpoint: ${(err as Error).message}`));
    this.setState("dead", reason);
  }

  /** Forgets a suspended kernel without discarding its checkpoint (the gateway keeps it, and
   * any worker may resume it). */
  release(): void {
    this.stopped = true;
    this.clearIdleTimer();
  }

  private run(sandbox: KernelSandbox): void {
    if (this.stopped) {
      void sandbox.stop();
      return;
    }
    this.sandbox = sandbox;
    this.awaitingReply.clear();
    sandbox.on("message", (msg: JupyterMessage) => this.onKernelMessage(msg));
    sandbox.terminals.on("event", (event) => {
      this.touch();
      this.events.onTerminal?.(event);
    });
    sandbox.on("exit", (info: { reason: string }) => {
      // A checkpoint ends the sandbox on purpose.
      if (this.sandbox !== sandbox || this._state === "suspending") return;
      this.sandbox = null;
      if (!this.stopped) this.setState("dead", info.reason);
    });
    this.setState("idle");
    for (const msg of this.queue.splice(0)) this.deliver(msg);
    for (const req of this.terminalQueue.splice(0)) sandbox.terminals.request(req);
    this.touch();
  }

  private deliver(msg: JupyterMessage): void {
    if (msg.channel === "shell" || msg.channel === "control") this.awaitingReply.add(msg.header.msg_id);
    this.sandbox!.send(msg);
    this.touch();
  }

  private onKernelMessage(msg: JupyterMessage): void {
    if (msg.header.msg_type === "status") {
      const state = msg.content?.execution_state;
      if (state === "busy" || state === "idle") this.setState(state);
    }
    if (msg.header.msg_type.endsWith("_reply") && msg.parent_header.msg_id) this.awaitingReply.delete(msg.parent_header.msg_id);
    this.touch();
    this.events.onMessage(msg);
  }

  private async suspendNow(): Promise<boolean> {
    if (this._state === "suspended") return true;
    const sandbox = this.sandbox;
    const suspender = this.opts.suspender;
    if (!suspender || !sandbox || this._state !== "idle" || this.queue.length || this.terminalQueue.length || this.awaitingReply.size || this.stopped) return false;
    this.clearIdleTimer();
    this._state = "suspending";
    try {
      this.suspended = await suspender.suspend(sandbox);
    } catch (err) {
      const why = (err as Error).message;
      if (sandbox.hasExited) {
        this.sandbox = null;
        this.setState("dead", `The kernel was lost while being suspended: ${why}`);
        return false;
      }
      this.log(`[kernel ${this.sessionId}] could not be suspended, it keeps running: ${why}`);
      this._suspendFailure = why;
      this._state = "idle";
      for (const msg of this.queue.splice(0)) this.deliver(msg);
      for (const req of this.terminalQueue.splice(0)) sandbox.terminals.request(req);
      this.touch();
      return false;
    }
    this.sandbox = null;
    if (this.stopped) {
      await suspender.discard().catch(() => {});
      return true;
    }
    this._state = "idle"; // so that setState announces the change
    this.setState("suspended", undefined, this.suspended);
    // A terminal request that came while the checkpoint was taken wakes the kernel too.
    if (this.queue.length || this.terminalQueue.length) void this.resume();
    return true;
  }

  private resume(): Promise<void> {
    const next = this.transition.then(() => this.resumeNow());
    this.transition = next.catch(() => {});
    return next;
  }

  private async resumeNow(): Promise<void> {
    const ref = this.suspended;
    if (this._state !== "suspended" || !ref || this.stopped) return;
    this.setState("resuming");
    let sandbox: KernelSandbox;
    try {
      if (!this.opts.suspender) throw new Error("this worker cannot resume kernels");
      sandbox = await this.opts.suspender.resume(ref);
    } catch (err) {
      this.queue = [];
      this.setState("dead", `The suspended kernel could not be resumed, so its variables are lost; restart the kernel. (${(err as Error).message})`);
      return;
    }
    this.suspended = null;
    void this.opts.suspender.discard().catch(() => {});
    this.run(sandbox);
  }

  /** Activity: the idle countdown starts again. */
  private touch(): void {
    const after = this.opts.suspendAfterMs ?? 0;
    if (!after || !this.opts.suspender || this.stopped) return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      // Not idle yet (running, or waiting for replies): count again from now.
      void this.suspend().then((done) => { if (!done && (this._state === "idle" || this._state === "busy")) this.touch(); });
    }, after);
    this.idleTimer.unref?.();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private setState(status: WorkerKernelStatus, reason?: string, suspended?: SuspendedKernelRef): void {
    if (this._state === status && !reason) return;
    if (this._state === "dead") return;
    if (status === "dead") this.clearIdleTimer();
    this._state = status;
    this.events.onStatus(status, reason, suspended);
  }
}
