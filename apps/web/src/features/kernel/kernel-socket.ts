// The page's live link to its kernel, over the kernel client core's GatewayKernel (which opens
// the notebook, follows the gateway's kernel status and owns every request's msg id). This adds
// what the page needs: which cell each run came from, one run at a time, and the kernel's
// answers applied to that cell in the notebook store.
import {
  createGatewaySocket,
  GatewayKernel,
  isAuthRefusal,
  KernelFutureError,
  parentIdOf,
  type GatewaySocket,
  type KernelFuture,
} from "@cellar/kernel-client";
import { executeRequest, type JupyterMessage, type KernelPlacement, type KernelStatus, type Notebook } from "@cellar/protocol";
import type { NotebookStore } from "../notebook/notebook-store";
import type { KernelDisplayStatus } from "./kernel-slice";
import { markAuthRequired } from "../../shared/auth-store";
import type { EditorAssist } from "@cellar/ui";
import { KernelRequests } from "./kernel-requests";
import { kernelAssist } from "./kernel-assist";
import { TerminalSession, type TerminalHandlers } from "../terminal/terminal-socket";
import { pageShareLink } from "../../shared/share-link";
import { WidgetHub } from "../widgets/widget-hub";

export type { GatewaySocket };

export interface KernelConnectionOptions {
  /** Fetches the notebook as the gateway recorded it, to catch up after a reconnect. */
  fetchNotebook: (id: string) => Promise<Notebook>;
  createSocket?: () => GatewaySocket;
  /** How often streamed outputs are applied at most; batching keeps a flood of prints cheap. */
  flushEveryMs?: number;
  /** The notebook's saved `metadata.widgets`: what widget frames draw until the kernel answers. */
  savedWidgets?: unknown;
}

// A suspended kernel takes requests too: the first one resumes it.
const READY: ReadonlySet<KernelDisplayStatus> = new Set<KernelStatus>(["idle", "busy", "suspended"]);
const MAX_TRACKED_REQUESTS = 2_000;
/** A kernel in these states is no longer where it was placed. */
const UNPLACED: ReadonlySet<KernelStatus> = new Set<KernelStatus>(["starting", "restarting", "dead"]);
const CANCEL_ACK_MS = 15_000;
/** A suspended kernel is resumed by the next request, so it can still answer one. */
const ANSWERING: ReadonlySet<KernelDisplayStatus> = new Set<KernelStatus>(["idle", "busy", "suspended", "resuming"]);

export class KernelConnection {
  private kernel: GatewayKernel | null = null;
  private readonly session = globalThis.crypto.randomUUID();
  private readonly openListeners = new Set<(socket: GatewaySocket) => void>();
  /** execute_request msg_id → cell id: a run's outputs keep going to its cell even after its
   * future has ended (a reconnect fails it, while the kernel goes on running it). */
  private readonly requests = new Map<string, string>();
  /** Runs not sent yet: they go one at a time, each once the one before has its reply, so a
   * cell that raises can stop the rest (Jupyter's stop_on_error; the in-process kernel in our
   * sandbox does not abort its queue itself) and interrupt can drop what is still queued. */
  private waiting: Array<{ cellId: string; message: JupyterMessage }> = [];
  /** The run sent to the kernel whose reply (or idle) has not come yet, and its cell. */
  private inFlight: KernelFuture | null = null;
  private inFlightCell: string | null = null;
  /** The in-flight run produced an error output. */
  private raised = false;
  /** msg_id → the kernel's date for execute_input, for the cell's timing. */
  private startedAt = new Map<string, string>();
  private inbox: Array<{ cellId: string; message: JupyterMessage }> = [];
  /** Cells whose outputs the gateway sent with this reopen (`outputs`), or that had messages since
   * the connection dropped: a read-back leaves them as they are. The database's copy of a running
   * cell lags (the gateway writes outputs in batches), so taking it would drop the lines since. */
  private liveSinceDrop = new Set<string>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** Completion and inspection requests, answered between runs. */
  private readonly asks = new KernelRequests({
    request: (msgType, content, options) => this.kernel!.request(msgType, content, options),
    availability: () => {
      if (!this.kernel?.connected || !ANSWERING.has(this.store.getState().kernel.status)) return "not-running";
      // The in-process kernel answers only between cells; a request now would wait for the run.
      return this.inFlight ? "busy" : "ready";
    },
  });
  /** Tab completion and Shift+Tab inspection for the cell editors. */
  readonly assist: EditorAssist = kernelAssist(this.asks);
  /** The kernel's widgets, for the output frames that draw them (WidgetHubProvider). */
  readonly widgets: WidgetHub;

  constructor(
    private readonly notebookId: string,
    private readonly store: NotebookStore,
    private readonly options: KernelConnectionOptions,
  ) {
    this.widgets = new WidgetHub(() => this.store.getState().role);
    this.widgets.load(options.savedWidgets);
  }

  connect(): void {
    if (this.kernel) return;
    // A page opened by a share link sends it: signed out, it is what admits the page at all.
    const link = pageShareLink() ?? undefined;
    const socket = this.options.createSocket?.() ?? createGatewaySocket(link ? { shareLink: { notebookId: this.notebookId, link } } : {});
    const kernel = new GatewayKernel(socket, this.notebookId, { session: this.session, link });
    this.kernel = kernel;
    this.widgets.connect(kernel);
    kernel.on("status", (status, reason) => this.status(status, reason));
    // Live messages sent while we were away: the gateway sends them again when it still has them
    // (or the worker will); otherwise it recorded them, so read them back.
    kernel.on("open", ({ status, reconnected, replayed, role }) => {
      this.store.getState().setRole(role);
      if (reconnected && !replayed) void this.catchUp(status, this.liveSinceDrop);
      // Widgets drawn from saved state (a reload), or whose messages may have been missed, are
      // read back from a running kernel; a suspended one is not woken for it.
      if (this.widgets.hasModels && (status === "idle" || status === "busy")) void this.widgets.refresh();
      for (const listener of this.openListeners) listener(kernel.socket);
    });
    kernel.on("ran", ({ cellId, by }) => this.store.getState().setLastRunBy(cellId, by));
    kernel.on("access", (role) => {
      const store = this.store.getState();
      store.setRole(role);
      if (!role) {
        this.dropWaiting();
        store.clearRunning();
        store.setNotice("Your access to this notebook was removed; nothing here reaches it any more.");
      }
    });
    kernel.on("connect-error", (error) => {
      if (isAuthRefusal(error)) markAuthRequired();
    });
    kernel.on("workers", (connected) => this.store.getState().setWorkers(connected));
    // Where the kernel runs, and cells waiting for a busy device: GatewayKernel leaves these
    // parts of the gateway's events to the page.
    kernel.socket.on("kernel:status", (p) => {
      if (p.notebookId === this.notebookId) this.placed(p.status, p.placement);
    });
    kernel.socket.on("notebook:packages", (p) => {
      if (p.notebookId === this.notebookId) this.store.getState().setKernelImage(p.image, p.packages);
    });
    kernel.socket.on("cell:queued", (p) => {
      if (p.notebookId === this.notebookId) this.store.getState().setDeviceQueue(p.cellId, p.device, p.position);
    });
    kernel.on("message", (message, _future, cellId) => this.receive(message, cellId));
    // Running cells as the gateway holds them, in order with their next messages: what came before
    // goes in first, and the read-back that follows must not replace them with the database's
    // (older) copy, which would drop the lines recorded since.
    kernel.on("outputs", (cells) => {
      this.flush();
      this.store.getState().takeLiveOutputs(cells);
      for (const c of cells) this.liveSinceDrop.add(c.cellId);
    });
  }

  /** Called each time the gateway has opened the notebook on this page's socket (the first
   * connect and every reconnect): what else speaks for the notebook on the socket starts then. */
  onNotebookOpen(listener: (socket: GatewaySocket) => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  /** Runs code for a cell: its outputs are cleared now and refilled as the kernel answers. */
  run(cellId: string, code: string): void {
    const message = executeRequest(code, { session: this.session, cellId });
    // This page answers input() prompts (without it ipykernel raises StdinNotImplementedError).
    message.content.allow_stdin = true;
    const store = this.store.getState();
    // Late output of an earlier run of this cell must not mix with the new run's.
    const previous = store.running[cellId];
    if (previous) {
      this.requests.delete(previous);
      this.waiting = this.waiting.filter((r) => r.message.header.msg_id !== previous);
    }
    store.startRun(cellId, message.header.msg_id);
    this.track(message.header.msg_id, cellId);
    this.waiting.push({ cellId, message });
    this.sendWaiting();
  }

  /** A shell in this notebook's kernel sandbox, over this page's socket; starts the kernel if
   * it is not running. */
  openTerminal(handlers: TerminalHandlers, cols: number, rows: number): TerminalSession {
    const terminal = new TerminalSession(this.kernel?.socket ?? null, this.notebookId, handlers);
    terminal.open(cols, rows);
    return terminal;
  }

  /** The user's answer to a cell's `input()`; the gateway echoes it into the cell's output. */
  answerInput(cellId: string, value: string): void {
    const store = this.store.getState();
    const prompt = store.inputPrompts[cellId];
    if (!prompt || !this.kernel) return;
    store.setInputPrompt(cellId, null);
    void this.kernel.answerInput(prompt.request, value).then((ack) => {
      if (!ack.ok) this.store.getState().setNotice(`Could not answer the prompt: ${ack.error}`);
    });
  }

  async interrupt(): Promise<void> {
    // Runs still waiting for the kernel are what the user wants stopped too.
    this.dropWaiting();
    await this.command((k) => k.interrupt(), "interrupt the kernel");
  }

  async restart(): Promise<void> {
    this.dropWaiting();
    this.inFlight = null;
    this.store.getState().clearRunning();
    await this.command((k) => k.restart(), "restart the kernel");
  }

  /** Cancel on a cell waiting for a busy device: it leaves the line unrun and, as with an
   * interrupt, the runs this page queued behind it are dropped. */
  async cancelQueued(cellId: string): Promise<void> {
    const notebookId = this.notebookId;
    const cancelled = await this.command(async (k) => {
      try {
        return await k.socket.timeout(CANCEL_ACK_MS).emitWithAck("cell:cancel-queued", { notebookId, cellId });
      } catch {
        return { ok: false as const, error: "the gateway did not answer" };
      }
    }, "cancel the waiting cell");
    if (!cancelled) return;
    const store = this.store.getState();
    const waiting = store.deviceQueue[cellId];
    if (waiting) store.setDeviceQueue(cellId, waiting.device, 0);
    if (this.inFlight && this.inFlightCell === cellId) {
      store.finishRun(cellId, this.inFlight.msgId);
      this.settle(this.inFlight, true);
    }
  }

  /** Forgets cells' outputs at the gateway too, so a reload does not bring them back. */
  async clearOutputs(cellIds: string[]): Promise<void> {
    if (!cellIds.length) return;
    await this.command((k) => k.clearOutputs(cellIds), "clear the outputs");
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flush();
    this.inFlight = null;
    this.widgets.dispose();
    this.kernel?.dispose();
    this.kernel = null;
  }

  /** `live`: cells kept as they are (liveSinceDrop, read when the answer is in). */
  private async catchUp(status: KernelStatus, live: ReadonlySet<string>) {
    try {
      const notebook = await this.options.fetchNotebook(this.notebookId);
      this.flush();
      this.store.getState().takeServerOutputs(notebook, status === "busy", live);
    } catch {
      /* the page keeps what it has; the next reconnect tries again */
    }
  }

  /** A status from the gateway: where the kernel now runs, if it says; a kernel starting afresh or
   * gone is nowhere until it says again. */
  private placed(status: KernelStatus, placement: KernelPlacement | undefined) {
    const store = this.store.getState();
    if (placement) store.setPlacement(placement);
    else if (UNPLACED.has(status) && store.placement) store.setPlacement(null);
    if (status === "dead" || status === "restarting") store.clearDeviceQueue();
  }

  private status(status: KernelStatus, reason?: string) {
    const store = this.store.getState();
    store.setKernelStatus(status, reason);
    this.widgets.kernelStatus(status);
    // GatewayKernel has failed the requests sent to a kernel that is gone (and those of a lost
    // connection: their reply will not come to this page).
    if (status === "dead" || status === "restarting" || status === "disconnected") this.inFlight = null;
    if (status === "disconnected") this.liveSinceDrop = new Set();
    if (status === "dead" || status === "restarting") store.clearRunning();
    if (status === "dead") this.dropWaiting("The kernel is dead; restart it to run cells.");
    this.sendWaiting();
  }

  private ready() {
    return !!this.kernel?.connected && READY.has(this.store.getState().kernel.status);
  }

  private sendWaiting() {
    if (this.inFlight || !this.waiting.length || !this.ready()) return;
    const next = this.waiting.shift()!;
    this.raised = false;
    const future = this.kernel!.send(next.message, {
      onIOPub: (msg) => {
        if (msg.header.msg_type === "error") this.raised = true;
        // Whichever of the reply and the idle status comes first moves the queue on.
        if (msg.header.msg_type === "status" && (msg.content as { execution_state?: string }).execution_state === "idle")
          this.settle(future, false);
      },
    });
    this.inFlight = future;
    this.inFlightCell = next.cellId;
    future.replied.then(
      (reply) => this.settle(future, (reply.content as { status?: string }).status === "error"),
      (error: unknown) => {
        if (error instanceof KernelFutureError && (error.kind === "refused" || error.kind === "unanswered")) {
          const store = this.store.getState();
          store.finishRun(next.cellId, future.msgId);
          store.setNotice(`Could not run the cell: ${error.message}`);
          this.settle(future, true);
        }
        // kernel-lost and disposed: status() has already let the queue go on.
      },
    );
  }

  /** The in-flight run is over; an error stops the runs queued behind it, as in Jupyter. The
   * error output, the reply and the idle status may come in any order: any of them settles it. */
  private settle(future: KernelFuture, failed: boolean) {
    if (this.inFlight !== future) return;
    this.inFlight = null;
    const raised = failed || this.raised;
    this.raised = false;
    if (raised) this.dropWaiting();
    this.sendWaiting();
  }

  /** Whether the gateway did it; if not, the notice says why. */
  private async command(
    call: (kernel: GatewayKernel) => Promise<{ ok: true } | { ok: false; error: string }>,
    what: string,
  ): Promise<boolean> {
    if (!this.kernel?.connected) {
      this.store.getState().setNotice(`Cannot ${what}: not connected to the gateway.`);
      return false;
    }
    const ack = await call(this.kernel);
    if (!ack.ok) this.store.getState().setNotice(`Could not ${what}: ${ack.error}${ack.error === "the gateway did not answer" ? "." : ""}`);
    return ack.ok;
  }

  private dropWaiting(notice?: string) {
    if (!this.waiting.length) return;
    const store = this.store.getState();
    for (const r of this.waiting) store.finishRun(r.cellId, r.message.header.msg_id);
    this.waiting = [];
    if (notice) store.setNotice(notice);
  }

  private track(msgId: string, cellId: string) {
    this.requests.set(msgId, cellId);
    if (this.requests.size > MAX_TRACKED_REQUESTS) {
      const oldest = this.requests.keys().next().value;
      if (oldest !== undefined) this.requests.delete(oldest);
    }
  }

  /** Every kernel message of the notebook, after GatewayKernel has given it to its future. */
  /** `runOf`: the cell the gateway says the message's run belongs to. */
  private receive(message: JupyterMessage, runOf?: string) {
    // An Output widget's capture (interact's result) is shown in the widget, not in the cell.
    if (this.widgets.capture(message)) return;
    const type = message.header?.msg_type;
    const parentId = parentIdOf(message) ?? "";
    const cellId = this.requests.get(parentId) ?? this.othersRun(parentId, runOf);
    if (type === "status") {
      const state = (message.content as { execution_state?: string }).execution_state;
      if (state === "idle" && cellId) this.finishAfterFlush(cellId, parentId);
      return;
    }
    if (type === "execute_reply") {
      if (cellId) {
        this.finishAfterFlush(cellId, parentId);
        const started = this.startedAt.get(parentId);
        if (started) this.store.getState().recordTiming(cellId, started, message.header.date || new Date().toISOString());
      }
      this.startedAt.delete(parentId);
      return;
    }
    if (!cellId) return; // not a cell's run (a completion, an inspection)
    this.liveSinceDrop.add(cellId);
    if (type === "input_request") {
      // Outputs printed before the prompt show above it.
      this.flush();
      const content = message.content as { prompt?: unknown; password?: unknown };
      this.store
        .getState()
        .setInputPrompt(cellId, { prompt: String(content.prompt ?? ""), password: content.password === true, request: message.header });
      return;
    }
    if (type === "execute_input") {
      this.startedAt.set(parentId, message.header.date || new Date().toISOString());
      this.store.getState().markStarted(cellId, parentId);
    }
    this.inbox.push({ cellId, message });
    this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushEveryMs ?? 16);
  }

  /** A run another page started (a teammate, another tab): shown here live as well, unless the
   * cell runs from this page now (then it is late output of a run this page replaced). */
  private othersRun(msgId: string, cellId: string | undefined): string | undefined {
    if (!cellId || !msgId || this.store.getState().running[cellId]) return undefined;
    this.store.getState().startRun(cellId, msgId);
    this.track(msgId, cellId);
    return cellId;
  }

  /** A cell stops showing [*] only once its last outputs are on screen. */
  private finishAfterFlush(cellId: string, msgId: string) {
    this.flush();
    this.store.getState().finishRun(cellId, msgId);
  }

  private flush() {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.inbox.length) return;
    const batch = this.inbox;
    this.inbox = [];
    this.store.getState().applyKernelMessages(batch);
  }
}
