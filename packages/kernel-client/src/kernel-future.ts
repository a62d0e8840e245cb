// The life of one request to a kernel, whatever carries the messages (the gateway's socket, the
// sandbox's stdio). A Jupyter kernel answers a request with a reply on shell (or control) and,
// on iopub, everything the request caused, ending with a `status: idle` parented to it. The two
// travel on different channels and may arrive in either order; only once both are in is the
// request over (its last output is in). Modelled on JupyterLab services' KernelFutureHandler.
import type { JupyterMessage } from "@cellar/protocol";

/** Why a request ended without being done. */
export type KernelFutureFailure =
  /** The gateway (or transport) would not take the request. */
  | "refused"
  /** The gateway did not acknowledge the request in time. */
  | "unanswered"
  /** No reply (and idle) within the request's time limit. */
  | "timeout"
  /** The kernel that took the request died, restarted or became unreachable. */
  | "kernel-lost"
  /** Cancelled by its owner (a newer run of the same cell, a closed page). */
  | "disposed";

export class KernelFutureError extends Error {
  override name = "KernelFutureError";
  constructor(
    readonly kind: KernelFutureFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface KernelFutureCallbacks {
  /** Every iopub message the request caused (status busy/idle included), in arrival order. */
  onIOPub?: (msg: JupyterMessage) => void;
  /** An `input_request` the kernel sends while the request runs. */
  onStdin?: (msg: JupyterMessage) => void;
  /** The shell or control reply, as soon as it arrives (before the idle status, perhaps). */
  onReply?: (msg: JupyterMessage) => void;
}

export interface KernelFutureOptions extends KernelFutureCallbacks {
  /** false: the peer publishes no iopub status for this request (the kernel bridge's own
   * control requests); done on the reply alone. */
  awaitIdle?: boolean;
  /** false: the message has no reply (comm_open, comm_msg, comm_close); done on the idle status
   * alone, and `done` and `replied` resolve with null. */
  expectReply?: boolean;
  /** Fails with "timeout" when not done this long after the future was made. */
  timeoutMs?: number;
}

export class KernelFuture<Reply extends JupyterMessage | null = JupyterMessage> {
  /** Resolves with the reply once the reply and the idle status have both arrived. */
  readonly done: Promise<Reply>;
  /** Resolves with the reply as soon as it arrives; rejects as `done` does. */
  readonly replied: Promise<Reply>;
  onIOPub?: (msg: JupyterMessage) => void;
  onStdin?: (msg: JupyterMessage) => void;
  onReply?: (msg: JupyterMessage) => void;

  private reply: Reply | null = null;
  private readonly noReply: boolean;
  private idle: boolean;
  private settled = false;
  private readonly timers: ReturnType<typeof setTimeout>[] = [];
  private resolveDone!: (reply: Reply) => void;
  private rejectDone!: (error: Error) => void;
  private resolveReplied!: (reply: Reply) => void;
  private rejectReplied!: (error: Error) => void;
  private readonly settledListeners: Array<() => void> = [];

  constructor(
    readonly request: JupyterMessage,
    private readonly options: KernelFutureOptions = {},
  ) {
    this.idle = options.awaitIdle === false;
    this.noReply = options.expectReply === false;
    this.onIOPub = options.onIOPub;
    this.onStdin = options.onStdin;
    this.onReply = options.onReply;
    this.done = new Promise<Reply>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.replied = new Promise<Reply>((resolve, reject) => {
      this.resolveReplied = resolve;
      this.rejectReplied = reject;
    });
    // A caller that awaits only one of the two (or neither, a fire-and-forget run) must not
    // see an unhandled rejection from the other.
    this.done.catch(() => {});
    this.replied.catch(() => {});
    if (this.noReply) this.resolveReplied(null as Reply);
    if (options.timeoutMs !== undefined) {
      const ms = options.timeoutMs;
      const missing = this.noReply ? `idle status after the ${this.msgType}` : this.msgType.replace(/_request$/, "_reply");
      this.timers.push(setTimeout(() => this.fail("timeout", `no ${missing} within ${ms} ms`), ms));
    }
  }

  get msgId(): string {
    return this.request.header.msg_id;
  }

  get msgType(): string {
    return this.request.header.msg_type;
  }

  /** Done or failed: no callback runs any more. */
  get isSettled(): boolean {
    return this.settled;
  }

  /** The reply, once it has arrived. */
  get replyMessage(): Reply | null {
    return this.reply;
  }

  /** Takes a message parented to this request. */
  handle(msg: JupyterMessage): void {
    if (this.settled) return;
    try {
      // By type first: a relay that mislabels a channel must not turn a reply into an output.
      const type = msg.header.msg_type;
      if (type === "input_request" || msg.channel === "stdin") this.onStdin?.(msg);
      else if (type.endsWith("_reply")) this.takeReply(msg);
      else this.takeIOPub(msg);
    } catch (error) {
      // A callback that throws ends the request: whoever awaits it hears why.
      this.settle(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Ends the request without it being done; `done` (and `replied`, if pending) reject. */
  fail(kind: KernelFutureFailure, message: string): void {
    this.settle(new KernelFutureError(kind, message));
  }

  /** Cancels the request: its callbacks stop, and `done` rejects with a "disposed" failure. */
  dispose(): void {
    this.fail("disposed", `${this.msgType} was cancelled before it was done`);
  }

  /** @internal the registry forgets a future once it is settled. */
  whenSettled(listener: () => void): void {
    if (this.settled) listener();
    else this.settledListeners.push(listener);
  }

  private takeIOPub(msg: JupyterMessage) {
    this.onIOPub?.(msg);
    if (msg.header.msg_type === "status" && (msg.content as { execution_state?: unknown }).execution_state === "idle") {
      this.idle = true;
      if (this.reply || this.noReply) this.settle();
    }
  }

  private takeReply(msg: JupyterMessage) {
    // One reply per request (a second would be a kernel bug), none for a message that has none.
    if (this.reply || this.noReply) return;
    this.reply = msg as Reply;
    this.onReply?.(msg);
    this.resolveReplied(msg as Reply);
    if (this.idle) this.settle();
  }

  private settle(error?: Error) {
    if (this.settled) return;
    this.settled = true;
    this.timers.forEach(clearTimeout);
    if (error) {
      this.rejectDone(error);
      this.rejectReplied(error);
    } else {
      this.resolveDone(this.reply as Reply);
    }
    for (const listener of this.settledListeners.splice(0)) listener();
  }
}
