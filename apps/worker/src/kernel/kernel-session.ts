// One kernel's whole life on this worker, in one place:
//
//   starting -> idle <-> busy -> dead
//                 |  ^
//   (idle timeout | resuming <- any request)
//                 v  |
//            suspending -> suspended
//
// The moves are @cellar/protocol's KERNEL_TRANSITIONS, and `moveTo` is the only way the state
// changes: it refuses a move the table lacks and announces each change of the status the gateway
// sees. Requests that arrive while the sandbox boots, is being suspended or resumes are queued and
// delivered in order once it runs, so a user may run a cell at any moment. "suspending" is the
// worker's own: the gateway and the user see "idle" until the checkpoint is stored.
import { parentIdOf } from "@cellar/kernel-client";
import {
  assertTransition,
  type ContentOf,
  expectsReply,
  type ReplyType,
  isRunning,
  isStatus,
  shownStatus,
  type JupyterMessage,
  type SuspendedKernelRef,
  type TerminalEvent,
  type TerminalRequest,
  type WorkerState,
  type WorkerStatus,
} from "@cellar/protocol";
import type { KernelSandbox } from "../sandbox/kernel-sandbox";

/** Copying moved arrays into memory runs at about 3 s per GB in gVisor here. */
const MATERIALISE_TIMEOUT_MS = 600_000;

export interface KernelSessionEvents {
  onMessage(msg: JupyterMessage): void;
  /** `suspended` comes with the status "suspended": what resuming the kernel needs. */
  onStatus(status: WorkerStatus, reason?: string, suspended?: SuspendedKernelRef): void;
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
  // A session is born starting (or, adopting a suspended kernel, suspended); after that only
  // moveTo changes it. "dead" is final: a stopped session never runs again.
  private _state: WorkerState = "starting";
  /** Shell and control messages sent to the kernel that it has not finished with: a request
   * until its reply comes, a comm message (which has no reply) until the kernel's idle status
   * parented to it: what ends each. The kernel is not idle while any is. */
  private awaitingReply = new Map<string, "reply" | "idle">();
  private idleTimer: NodeJS.Timeout | null = null;
  private suspended: SuspendedKernelRef | null = null;
  private _suspendFailure: string | null = null;
  private transition: Promise<unknown> = Promise.resolve();
  /** The worker's own bridge requests under way (a state move): the kernel is not suspended meanwhile. */
  private bridgeCalls = 0;
  /** An import left arrays over mappings of the move's files (cellar_mapped.py): copied into the
   * kernel's memory before a checkpoint, which runsc refuses while a deleted file is mapped.
   * Asked only then, not before every suspend: a kernel resumed from a checkpoint taken under an
   * older bridge has that bridge's code in memory and would leave the request unanswered. */
  private mapsMoveFiles = false;
  private readonly log: (line: string) => void;

  constructor(
    readonly sessionId: string,
    private readonly events: KernelSessionEvents,
    private readonly opts: KernelSessionOptions = {},
  ) {
    this.log = opts.log ?? ((line) => console.log(line));
  }

  get status(): WorkerStatus {
    return shownStatus(this._state);
  }

  /** While suspended: its checkpoint. */
  get checkpoint(): SuspendedKernelRef | null {
    return this._state === "suspended" ? this.suspended : null;
  }

  get state(): WorkerState {
    return this._state;
  }

  /** Boots the sandbox with `boot`; resolves when the kernel is ready, rejects if it cannot start.
   * A session stopped before it started boots nothing. */
  async start(boot: () => Promise<KernelSandbox>): Promise<void> {
    if (this._state === "dead") return;
    if (this._state !== "starting") throw new Error(`a ${this._state} kernel cannot be started`);
    // The gateway learns here that the boot itself has begun (the image is attached).
    this.events.onStatus("starting");
    let sandbox: KernelSandbox;
    try {
      sandbox = await boot();
    } catch (err) {
      if (!this.isDead()) this.moveTo("dead", `The kernel failed to start: ${(err as Error).message}`);
      throw err;
    }
    this.run(sandbox);
  }

  /** Takes on a kernel that another worker process suspended; it resumes on the first request.
   * Only a new session can: it is then born suspended rather than starting. That is no move, and
   * the gateway, which holds the kernel as suspended, is told nothing. */
  adoptSuspended(ref: SuspendedKernelRef): void {
    if (this._state !== "starting" || this.sandbox) throw new Error(`a ${this._state} session cannot adopt a suspended kernel`);
    this.suspended = ref;
    this._state = "suspended";
  }

  send(msg: JupyterMessage): void {
    if (this._state === "dead" || this.holdBack(this.queue, msg)) return;
    this.deliver(msg);
  }

  /** A request for one of the sandbox's terminals, delivered like a kernel request (queued while
   * the sandbox is not running; it wakes a suspended kernel). Terminal use counts as activity. */
  terminal(req: TerminalRequest): void {
    if (this._state === "dead") {
      if (req.type === "open") this.events.onTerminal?.({ type: "exit", id: req.id, reason: "kernel is dead" });
      return;
    }
    if (this.holdBack(this.terminalQueue, req)) return;
    this.sandbox!.terminals.request(req);
    this.touch();
  }

  /** Queues a request while the sandbox does not run (booting, being checkpointed, suspended,
   * resuming), waking a suspended kernel; false when it can go now. */
  private holdBack<T>(queue: T[], item: T): boolean {
    if (this.sandbox && this._state !== "suspending") return false;
    queue.push(item);
    if (this._state === "suspended") void this.resume();
    return true;
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

  /**
   * Sends one of the bridge's own control requests (a state export or import) and resolves with
   * its reply. Only an idle kernel with nothing queued or awaiting a reply takes one: while a cell
   * runs this rejects at once. A suspended kernel is resumed first. The reply is the worker's
   * alone: the gateway does not see it.
   */
  async bridgeCall<T extends `cellar_${string}_request`>(
    msgType: T,
    content: ContentOf<T>,
    timeoutMs: number,
  ): Promise<ContentOf<ReplyType<T>>> {
    if (this._state === "suspended") await this.resume();
    await this.transition;
    if (this._state === "dead") throw new Error("The kernel is not running.");
    if (this._state === "starting" || this._state === "resuming")
      throw new Error(`The kernel is ${this._state}; try again when it is idle.`);
    if (this._state !== "idle" || this.queue.length || this.awaitingReply.size || !this.sandbox)
      throw new Error("A cell is running: the kernel's variables can only move while it is idle.");
    this.bridgeCalls++;
    this.clearIdleTimer();
    try {
      return await this.sandbox.call(msgType, content, timeoutMs);
    } finally {
      this.bridgeCalls--;
      this.touch();
    }
  }

  /** The last import left arrays over the move's files; see `mapsMoveFiles`. */
  noteMappedMove(): void {
    this.mapsMoveFiles = true;
  }

  private async materialiseMovedArrays(sandbox: KernelSandbox): Promise<void> {
    const reply = await sandbox.call("cellar_state_materialise_request", {}, MATERIALISE_TIMEOUT_MS);
    if (reply.status !== "ok")
      throw new Error(`the arrays a move brought could not be copied into memory: ${reply.evalue ?? "no reason given"}`);
    this.mapsMoveFiles = false;
    this.log(
      `[kernel ${this.sessionId}] copied ${reply.bytes ?? 0} bytes of moved arrays into memory in ${((reply.seconds ?? 0) * 1000).toFixed(0)} ms before its checkpoint`,
    );
  }

  /** Why the last `suspend()` that resolved false failed while checkpointing; null when it was
   * only refused (not idle) or succeeded. */
  get suspendFailure(): string | null {
    return this._suspendFailure;
  }

  /** Ends the kernel, and with it any checkpoint it was suspended to. */
  async stop(reason = "The kernel was shut down."): Promise<void> {
    this.queue = [];
    this.terminalQueue = [];
    // Dead at once, so that a boot, checkpoint or restore still under way ends the sandbox it
    // brings instead of running it.
    if (this._state !== "dead") this.moveTo("dead", reason);
    const sandbox = this.sandbox;
    this.sandbox = null;
    if (sandbox) await sandbox.stop();
    if (this.suspended)
      await this.opts.suspender
        ?.discard()
        .catch((err) => this.log(`[kernel ${this.sessionId}] could not delete its checkpoint: ${(err as Error).message}`));
  }

  /** Forgets a suspended kernel without discarding its checkpoint (the gateway keeps it, and
   * any worker may resume it): a request that still reaches this session resumes nothing. */
  release(): void {
    this.suspended = null;
    this.clearIdleTimer();
  }

  private run(sandbox: KernelSandbox): void {
    if (this._state === "dead") {
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
      this.moveTo("dead", info.reason);
    });
    this.moveTo("idle");
    for (const msg of this.queue.splice(0)) this.deliver(msg);
    for (const req of this.terminalQueue.splice(0)) sandbox.terminals.request(req);
    this.touch();
  }

  private deliver(msg: JupyterMessage): void {
    if (msg.channel === "shell" || msg.channel === "control")
      this.awaitingReply.set(msg.header.msg_id, expectsReply(msg.header.msg_type) ? "reply" : "idle");
    this.sandbox!.send(msg);
    this.touch();
  }

  private onKernelMessage(msg: JupyterMessage): void {
    if (isStatus(msg)) {
      // The kernel's own busy/idle, followed only while it runs (not while it is checkpointed
      // or after it was stopped).
      const state = msg.content.execution_state;
      if ((state === "busy" || state === "idle") && isRunning(this._state)) this.moveTo(state);
    }
    const parentId = parentIdOf(msg);
    const ends = msg.header.msg_type.endsWith("_reply") ? "reply" : isStatus(msg) && msg.content.execution_state === "idle" ? "idle" : null;
    if (parentId && ends && this.awaitingReply.get(parentId) === ends) this.awaitingReply.delete(parentId);
    this.touch();
    // Replies to the worker's own bridge requests (bridgeCall) stay on the worker.
    if (msg.header.msg_type.startsWith("cellar_")) return;
    this.events.onMessage(msg);
  }

  private async suspendNow(): Promise<boolean> {
    if (this._state === "suspended") return true;
    const sandbox = this.sandbox;
    const suspender = this.opts.suspender;
    if (
      !suspender ||
      !sandbox ||
      this._state !== "idle" ||
      this.queue.length ||
      this.terminalQueue.length ||
      this.awaitingReply.size ||
      this.bridgeCalls
    )
      return false;
    this.clearIdleTimer();
    this.moveTo("suspending");
    let ref: SuspendedKernelRef;
    try {
      if (this.mapsMoveFiles) await this.materialiseMovedArrays(sandbox);
      ref = await suspender.suspend(sandbox);
    } catch (err) {
      const why = (err as Error).message;
      // Stopped meanwhile: stop() has said why.
      if (this.isDead()) return false;
      if (sandbox.hasExited) {
        this.sandbox = null;
        this.moveTo("dead", `The kernel was lost while being suspended: ${why}`);
        return false;
      }
      this.log(`[kernel ${this.sessionId}] could not be suspended, it keeps running: ${why}`);
      this._suspendFailure = why;
      this.moveTo("idle");
      for (const msg of this.queue.splice(0)) this.deliver(msg);
      for (const req of this.terminalQueue.splice(0)) sandbox.terminals.request(req);
      this.touch();
      return false;
    }
    this.sandbox = null;
    if (this.isDead()) {
      await suspender.discard().catch(() => {});
      return true;
    }
    this.suspended = ref;
    this.moveTo("suspended", undefined, ref);
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
    if (this._state !== "suspended" || !ref) return;
    this.moveTo("resuming");
    let sandbox: KernelSandbox;
    try {
      if (!this.opts.suspender) throw new Error("this worker cannot resume kernels");
      sandbox = await this.opts.suspender.resume(ref);
    } catch (err) {
      this.queue = [];
      if (!this.isDead())
        this.moveTo(
          "dead",
          `The suspended kernel could not be resumed, so its variables are lost; restart the kernel. (${(err as Error).message})`,
        );
      return;
    }
    this.suspended = null;
    void this.opts.suspender.discard().catch(() => {});
    this.run(sandbox);
  }

  /** Activity: the idle countdown starts again. */
  private touch(): void {
    const after = this.opts.suspendAfterMs ?? 0;
    if (!after || !this.opts.suspender || this._state === "dead") return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      // Not idle yet (running, or waiting for replies): count again from now.
      void this.suspend().then((done) => {
        if (!done && isRunning(this._state)) this.touch();
      });
    }, after);
    this.idleTimer.unref?.();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** Read after an await: a stop() may have come meanwhile. */
  private isDead(): boolean {
    return this._state === "dead";
  }

  /** The one way the state changes. Throws on a move KERNEL_TRANSITIONS lacks (a bug here, never
   * the kernel's doing); staying put is nothing. A change of what the gateway sees is announced. */
  private moveTo(next: WorkerState, reason?: string, suspended?: SuspendedKernelRef): void {
    const from = this._state;
    if (from === next) return;
    assertTransition(from, next);
    this._state = next;
    if (next === "dead") this.clearIdleTimer();
    const status = shownStatus(next);
    if (status !== shownStatus(from) || reason) this.events.onStatus(status, reason, suspended);
  }
}
