// One notebook's kernel through the gateway's socket.io (the events in @cellar/protocol's
// BrowserToGateway / GatewayToBrowser): opens the notebook (again after every reconnect), follows
// the kernel status the gateway announces, and sends requests as KernelFutures. What to show
// for any of it is the caller's business; this holds no UI state.
import {
  executeRequest,
  makeMessage,
  type ExecuteReplyMessage,
  type JupyterMessage,
  type KernelStatus,
  type CellRunEvent,
  type MessageHeader,
  type NotebookRole,
  type Output,
  type StreamPosition,
} from "@cellar/protocol";
import type { KernelComm } from "./kernel-comm";
import { type CommTargetCallback, KernelComms } from "./kernel-comms";
import { KernelFutureError, type KernelFuture, type KernelFutureOptions } from "./kernel-future";
import { KernelFutures } from "./kernel-futures";
import type { AckResult, GatewaySocket } from "./gateway-socket";

export interface GatewayKernelOptions {
  /** The Jupyter session id of this client's messages; a fresh one by default. */
  session?: string;
  /** How long the gateway may take to acknowledge an event. */
  ackTimeoutMs?: number;
  /** The share link the page was opened with: its role counts on the notebook. */
  link?: string;
}

export interface GatewayKernelEvents {
  /** The kernel status changed (the gateway said so, or the link to the gateway broke). */
  status: (status: KernelStatus, reason: string | undefined) => void;
  /** The notebook was opened on the gateway; `reconnected`: after a lost connection. Then
   * `replayed` says whether the gateway sent (or the worker will send) every message missed;
   * if not, the page must read the notebook's recorded outputs back. */
  open: (p: { status: KernelStatus; reconnected: boolean; replayed: boolean; role: NotebookRole }) => void;
  /** Someone ran a cell of the notebook (this page's user too). */
  ran: (p: CellRunEvent) => void;
  /** The caller's role on the notebook changed; null: they lost it, and hear nothing more of it. */
  access: (role: NotebookRole | null) => void;
  /** Every kernel message for the notebook, after its request's future (if open here) has had it;
   * `cellId`: the cell whose run it belongs to, as the gateway recorded it (any page's run). */
  message: (msg: JupyterMessage, future: KernelFuture<any> | undefined, cellId: string | undefined) => void;
  /** Before an `open` with `replayed` false: the outputs of the cells still running, as the
   * gateway recorded them; the messages after them follow. Take these, not the notebook's. */
  outputs: (cells: Array<{ cellId: string; outputs: Output[]; executionCount: number | null }>) => void;
  /** The socket could not connect; `error.message` says why (see isAuthRefusal). */
  "connect-error": (error: Error) => void;
  /** How many workers the gateway has. */
  workers: (connected: number) => void;
}

export type ExecuteOptions = KernelFutureOptions & {
  /** The notebook cell the code comes from: the gateway records the outputs there. */
  cellId?: string;
  /** This client answers input() prompts (else ipykernel raises StdinNotImplementedError). */
  allowStdin?: boolean;
};

const ACK_TIMEOUT_MS = 15_000;
const NO_ANSWER = "the gateway did not answer";
const NOT_CONNECTED = "not connected to the gateway";
/** A kernel in these states will never answer what it was sent. */
const LOST: ReadonlySet<KernelStatus> = new Set(["dead", "restarting", "disconnected"]);
/** A kernel in these states has lost its comms (a lost connection to the gateway has not: the
 * kernel runs on, and the gateway sends what was missed). */
const GONE: ReadonlySet<KernelStatus> = new Set(["dead", "restarting"]);

type TimedSocket = ReturnType<GatewaySocket["timeout"]>;
type Listeners = { [E in keyof GatewayKernelEvents]: Set<GatewayKernelEvents[E]> };

export class GatewayKernel {
  readonly session: string;
  status: KernelStatus = "starting";
  reason: string | undefined;
  private readonly futures: KernelFutures;
  private readonly comms: KernelComms;
  private readonly ackTimeoutMs: number;
  private readonly listeners: Listeners = {
    status: new Set(),
    open: new Set(),
    message: new Set(),
    outputs: new Set(),
    "connect-error": new Set(),
    workers: new Set(),
    ran: new Set(),
    access: new Set(),
  };
  private readonly link: string | undefined;
  /** The notebook is open on the gateway over the current connection. */
  private isOpen = false;
  private openedBefore = false;
  private disposed = false;
  private openWaiters: Array<{ resolve: (s: KernelStatus) => void; reject: (e: Error) => void }> = [];
  /** The last kernel message taken, by its worker's number: sent on a reopen, so the gateway can
   * send what came after; a message at or before it (sent again after a lost gateway) is dropped. */
  private position: StreamPosition | undefined;

  constructor(
    readonly socket: GatewaySocket,
    readonly notebookId: string,
    options: GatewayKernelOptions = {},
  ) {
    this.session = options.session ?? globalThis.crypto.randomUUID();
    this.ackTimeoutMs = options.ackTimeoutMs ?? ACK_TIMEOUT_MS;
    this.link = options.link;
    this.futures = new KernelFutures((msg) => this.sendMessage(msg));
    this.comms = new KernelComms(this.session, (msg) => this.futures.request<null>(msg, { expectReply: false }));

    socket.on("connect", () => this.openNotebook());
    socket.on("disconnect", (reason) => {
      this.isOpen = false;
      if (reason === "io client disconnect") return;
      const reconnects = socket.io?.opts?.reconnection !== false;
      this.setStatus(
        "disconnected",
        reconnects ? "Lost the connection to the gateway; reconnecting…" : `lost the connection to the gateway (${reason})`,
      );
      // socket.io retries by itself except when the server hung up on purpose (e.g. a restart).
      if (reconnects && reason === "io server disconnect")
        setTimeout(() => {
          if (!this.disposed) socket.connect();
        }, 1_000);
    });
    socket.on("connect_error", (error) => {
      this.emit("connect-error", error);
      this.rejectOpen(error);
      this.setStatus("disconnected", `Cannot reach the gateway (${error.message}); retrying…`);
    });
    socket.on("kernel:status", (p) => {
      if (p.notebookId === this.notebookId) this.setStatus(p.status, p.reason);
    });
    socket.on("kernel:message", (p) => {
      if (p.notebookId !== this.notebookId) return;
      if (p.stream !== undefined && p.seq !== undefined) {
        if (this.position?.stream === p.stream && p.seq <= this.position.seq) return;
        this.position = { stream: p.stream, seq: p.seq };
      }
      const future = this.futures.route(p.message);
      this.comms.handle(p.message);
      this.emit("message", p.message, future, p.cellId);
    });
    socket.on("kernel:outputs", (p) => {
      if (p.notebookId === this.notebookId) this.emit("outputs", p.cells);
    });
    socket.on("workers:count", (p) => this.emit("workers", p.connected));
    socket.on("cell:ran", (p) => {
      if (p.notebookId === this.notebookId) this.emit("ran", p);
    });
    socket.on("access:changed", (p) => {
      if (p.notebookId !== this.notebookId) return;
      if (!p.role) {
        this.isOpen = false;
        this.futures.failAll("refused", "your access to this notebook was removed");
        this.comms.disposeAll();
        this.setStatus("dead", "Your access to this notebook was removed.");
      }
      this.emit("access", p.role);
    });
    if (socket.connected) this.openNotebook();
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Calls back on every `event` until the returned function is called. */
  on<E extends keyof GatewayKernelEvents>(event: E, listener: GatewayKernelEvents[E]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  /** Resolves with the kernel status once the notebook is next opened (at once if it already
   * is); rejects if the socket cannot connect or the gateway refuses the notebook. */
  opened(): Promise<KernelStatus> {
    if (this.isOpen && this.socket.connected) return Promise.resolve(this.status);
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  /** Runs code; the future settles once its reply and idle status are both in. */
  execute(code: string, options: ExecuteOptions = {}): KernelFuture<ExecuteReplyMessage> {
    const { cellId, allowStdin, ...futureOptions } = options;
    const message = executeRequest(code, { session: this.session, cellId });
    if (allowStdin) message.content.allow_stdin = true;
    return this.send<ExecuteReplyMessage>(message, futureOptions);
  }

  /** A shell request other than a run (complete_request, inspect_request, …). */
  request<Reply extends JupyterMessage = JupyterMessage>(
    msgType: `${string}_request`,
    content: Record<string, unknown>,
    options: KernelFutureOptions = {},
  ): KernelFuture<Reply> {
    return this.send<Reply>(makeMessage(msgType, content, { channel: "shell", session: this.session }), options);
  }

  /** Sends a request already built; the future fails "refused" or "unanswered" if the gateway
   * does not take it. */
  send<Reply extends JupyterMessage | null = JupyterMessage>(
    message: JupyterMessage,
    options: KernelFutureOptions = {},
  ): KernelFuture<Reply> {
    return this.futures.request<Reply>(message, options);
  }

  /** Offers the kernel a comm target (JupyterLab's `registerCommTarget`): when the kernel opens
   * a comm to `targetName` (Python: `Comm(target_name=…)`, or ipywidgets' "jupyter.widget"),
   * `callback` gets the comm and the `comm_open`. Every page of the notebook hears the kernel's
   * comm messages; a page that registered no such target ignores them (it never closes the
   * kernel's comm, which another page may be using). Targets outlive kernel restarts. */
  registerCommTarget(targetName: string, callback: CommTargetCallback): void {
    this.comms.registerCommTarget(targetName, callback);
  }

  removeCommTarget(targetName: string, callback: CommTargetCallback): void {
    this.comms.removeCommTarget(targetName, callback);
  }

  /** A comm to a target the kernel registered (`comm_manager.register_target`): `open()` it, or
   * pass the id of a comm the kernel already has (`requestCommInfo`) and send on it. Sending
   * needs the runner role; a viewer's comm messages fail "refused". The kernel's comms are
   * disposed when it restarts or dies. */
  createComm(targetName: string, commId?: string): KernelComm {
    return this.comms.createComm(targetName, commId);
  }

  hasComm(commId: string): boolean {
    return this.comms.hasComm(commId);
  }

  /** The kernel's open comms (`{comms: {id: {target_name}}}`), of one target if named. */
  requestCommInfo(content: { target_name?: string } = {}): Promise<JupyterMessage<"comm_info_reply">> {
    return this.request<JupyterMessage<"comm_info_reply">>("comm_info_request", content).done;
  }

  /** The user's answer to an `input_request` (the prompt's header); the gateway echoes it into
   * the cell's output. */
  answerInput(prompt: MessageHeader, value: string): Promise<AckResult> {
    const reply = makeMessage("input_reply", { status: "ok", value }, { channel: "stdin", session: this.session });
    reply.parent_header = prompt;
    return this.ack((s) => s.emitWithAck("kernel:send", { notebookId: this.notebookId, message: reply }));
  }

  interrupt(): Promise<AckResult> {
    return this.ack((s) => s.emitWithAck("kernel:interrupt", { notebookId: this.notebookId }));
  }

  /** The requests still open fail "kernel-lost" once the gateway reports the restart. */
  restart(): Promise<AckResult> {
    return this.ack((s) => s.emitWithAck("kernel:restart", { notebookId: this.notebookId }));
  }

  /** Forgets cells' outputs at the gateway too, so a reload does not bring them back. */
  clearOutputs(cellIds: string[]): Promise<AckResult> {
    return this.ack((s) => s.emitWithAck("outputs:clear", { notebookId: this.notebookId, cellIds }));
  }

  /** Closes the link: open requests fail "disposed", the socket disconnects. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.futures.failAll("disposed", "the kernel client was closed");
    this.comms.disposeAll();
    this.socket.removeAllListeners();
    this.socket.disconnect();
    for (const set of Object.values(this.listeners)) set.clear();
  }

  private openNotebook() {
    const reconnected = this.openedBefore;
    this.openedBefore = true;
    const resume = reconnected ? this.position : undefined;
    this.socket.timeout(this.ackTimeoutMs).emit("notebook:open", { notebookId: this.notebookId, resume, link: this.link }, (err, ack) => {
      if (err) {
        this.rejectOpen(new KernelFutureError("unanswered", NO_ANSWER));
        return this.setStatus("disconnected", "The gateway did not answer; retrying…");
      }
      if (!ack.ok) {
        this.rejectOpen(new KernelFutureError("refused", ack.error));
        return this.setStatus("dead", ack.error);
      }
      this.isOpen = true;
      this.setStatus(ack.status);
      for (const w of this.openWaiters.splice(0)) w.resolve(ack.status);
      this.emit("open", { status: ack.status, reconnected, replayed: ack.replayed, role: ack.role });
    });
  }

  private rejectOpen(error: Error) {
    for (const w of this.openWaiters.splice(0)) w.reject(error);
  }

  private setStatus(status: KernelStatus, reason?: string) {
    this.status = status;
    this.reason = reason;
    // Requests already sent will never be answered by the kernel that took them.
    if (LOST.has(status)) this.futures.failAll("kernel-lost", reason ?? `the kernel is ${status}`);
    if (GONE.has(status)) this.comms.disposeAll();
    this.emit("status", status, reason);
  }

  private async sendMessage(message: JupyterMessage): Promise<void> {
    const ack = await this.ack((s) => s.emitWithAck("kernel:send", { notebookId: this.notebookId, message }));
    if (!ack.ok) throw new KernelFutureError(ack.error === NO_ANSWER ? "unanswered" : "refused", ack.error);
  }

  private async ack(call: (socket: TimedSocket) => Promise<AckResult>): Promise<AckResult> {
    if (!this.socket.connected) return { ok: false, error: NOT_CONNECTED };
    try {
      return await call(this.socket.timeout(this.ackTimeoutMs));
    } catch {
      return { ok: false, error: NO_ANSWER };
    }
  }

  private emit<E extends keyof GatewayKernelEvents>(event: E, ...args: Parameters<GatewayKernelEvents[E]>) {
    for (const listener of [...this.listeners[event]]) (listener as (...a: unknown[]) => void)(...args);
  }
}
