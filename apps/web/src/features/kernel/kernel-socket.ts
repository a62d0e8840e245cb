// The page's live link to its kernel through the gateway's socket.io. It owns message ids: it
// remembers which cell each execute_request came from and routes replies and iopub messages back
// to that cell in the notebook store.
import { io, type Socket } from "socket.io-client";
import {
  executeRequest,
  makeMessage,
  type BrowserToGateway,
  type GatewayToBrowser,
  type JupyterMessage,
  type KernelStatus,
  type Notebook,
} from "@cellar/protocol";
import type { NotebookStore } from "../notebook/notebook-store";
import type { KernelDisplayStatus } from "./kernel-slice";
import { markAuthRequired } from "../../shared/auth-store";
import type { EditorAssist } from "@cellar/ui";
import { KernelRequests } from "./kernel-requests";
import { kernelAssist } from "./kernel-assist";
import { TerminalSession, type TerminalHandlers } from "../terminal/terminal-socket";

export type GatewaySocket = Socket<GatewayToBrowser, BrowserToGateway>;

export interface KernelConnectionOptions {
  /** Fetches the notebook as the gateway recorded it, to catch up after a reconnect. */
  fetchNotebook: (id: string) => Promise<Notebook>;
  createSocket?: () => GatewaySocket;
  /** How often streamed outputs are applied at most; batching keeps a flood of prints cheap. */
  flushEveryMs?: number;
}

const ACK_TIMEOUT_MS = 15_000;
// A suspended kernel takes requests too: the first one resumes it.
const READY: ReadonlySet<KernelDisplayStatus> = new Set<KernelStatus>(["idle", "busy", "suspended"]);
const MAX_TRACKED_REQUESTS = 2_000;
/** A suspended kernel is resumed by the next request, so it can still answer one. */
const ANSWERING: ReadonlySet<KernelDisplayStatus> = new Set<KernelStatus>(["idle", "busy", "suspended", "resuming"]);

export class KernelConnection {
  private socket: GatewaySocket | null = null;
  private readonly session = globalThis.crypto.randomUUID();
  /** execute_request msg_id → cell id. */
  private readonly requests = new Map<string, string>();
  /** Runs not sent yet: they go one at a time, each once the one before has its reply, so a
   * cell that raises can stop the rest (Jupyter's stop_on_error; the in-process kernel in our
   * sandbox does not abort its queue itself) and interrupt can drop what is still queued. */
  private waiting: JupyterMessage[] = [];
  /** The run sent to the kernel whose reply has not come yet. */
  private inFlight: string | null = null;
  /** The in-flight run produced an error output. */
  private raised = false;
  /** msg_id → the kernel's date for execute_input, for the cell's timing. */
  private startedAt = new Map<string, string>();
  private inbox: Array<{ cellId: string; message: JupyterMessage }> = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private opened = false;
  /** Completion and inspection requests, answered between runs. */
  private readonly asks = new KernelRequests({
    session: this.session,
    send: (message) => this.sendForAck(message),
    availability: () => {
      if (!this.socket?.connected || !ANSWERING.has(this.store.getState().kernel.status)) return "not-running";
      // The in-process kernel answers only between cells; a request now would wait for the run.
      return this.inFlight ? "busy" : "ready";
    },
  });
  /** Tab completion and Shift+Tab inspection for the cell editors. */
  readonly assist: EditorAssist = kernelAssist(this.asks);

  constructor(
    private readonly notebookId: string,
    private readonly store: NotebookStore,
    private readonly options: KernelConnectionOptions,
  ) {}

  connect(): void {
    if (this.socket) return;
    const socket = this.options.createSocket?.() ?? (io({ path: "/socket.io" }) as GatewaySocket);
    this.socket = socket;
    socket.on("connect", () => this.open());
    socket.on("disconnect", (reason) => {
      if (reason === "io client disconnect") return;
      this.status("disconnected", "Lost the connection to the gateway; reconnecting…");
      // socket.io retries by itself except when the server hung up on purpose (e.g. a restart).
      if (reason === "io server disconnect") setTimeout(() => this.socket?.connect(), 1_000);
    });
    socket.on("connect_error", (err) => {
      if (/unauthori[sz]ed|forbidden|401|token|auth/i.test(err.message)) markAuthRequired();
      this.status("disconnected", `Cannot reach the gateway (${err.message}); retrying…`);
    });
    socket.on("kernel:status", (p) => {
      if (p.notebookId === this.notebookId) this.status(p.status, p.reason);
    });
    socket.on("kernel:message", (p) => {
      if (p.notebookId === this.notebookId) this.receive(p.message);
    });
    socket.on("workers:count", (p) => this.store.getState().setWorkers(p.connected));
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
      this.waiting = this.waiting.filter((m) => m.header.msg_id !== previous);
    }
    store.startRun(cellId, message.header.msg_id);
    this.track(message.header.msg_id, cellId);
    this.waiting.push(message);
    this.sendWaiting();
  }

  /** A shell in this notebook's kernel sandbox, over this page's socket; starts the kernel if
   * it is not running. */
  openTerminal(handlers: TerminalHandlers, cols: number, rows: number): TerminalSession {
    const terminal = new TerminalSession(this.socket, this.notebookId, handlers);
    terminal.open(cols, rows);
    return terminal;
  }

  /** The user's answer to a cell's `input()`; the gateway echoes it into the cell's output. */
  answerInput(cellId: string, value: string): void {
    const store = this.store.getState();
    const prompt = store.inputPrompts[cellId];
    if (!prompt) return;
    store.setInputPrompt(cellId, null);
    const reply = makeMessage("input_reply", { status: "ok", value }, { channel: "stdin", session: this.session });
    reply.parent_header = prompt.request;
    void this.sendForAck(reply).then((ack) => {
      if (!ack.ok) this.store.getState().setNotice(`Could not answer the prompt: ${ack.error}`);
    });
  }

  async interrupt(): Promise<void> {
    // Runs still waiting for the kernel are what the user wants stopped too.
    this.dropWaiting();
    await this.command("kernel:interrupt", "interrupt the kernel");
  }

  async restart(): Promise<void> {
    this.dropWaiting();
    this.inFlight = null;
    this.store.getState().clearRunning();
    await this.command("kernel:restart", "restart the kernel");
  }

  /** Forgets cells' outputs at the gateway too, so a reload does not bring them back. */
  async clearOutputs(cellIds: string[]): Promise<void> {
    if (!cellIds.length) return;
    await this.command("outputs:clear", "clear the outputs", { cellIds });
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flush();
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    this.opened = false;
  }

  private open() {
    const reconnect = this.opened;
    this.opened = true;
    // A reply sent while we were away is lost; do not wait for it before sending the next run.
    this.inFlight = null;
    this.socket!.timeout(ACK_TIMEOUT_MS).emit("notebook:open", { notebookId: this.notebookId }, (err, ack) => {
      if (err) return this.status("disconnected", "The gateway did not answer; retrying…");
      if (!ack.ok) return this.status("dead", ack.error);
      this.status(ack.status);
      // Live messages sent while we were away are lost; the gateway kept them, so read them back.
      if (reconnect) void this.catchUp(ack.status);
    });
  }

  private async catchUp(status: KernelStatus) {
    try {
      const notebook = await this.options.fetchNotebook(this.notebookId);
      this.flush();
      this.store.getState().takeServerOutputs(notebook, status === "busy");
    } catch {
      /* the page keeps what it has; the next reconnect tries again */
    }
  }

  private status(status: KernelStatus, reason?: string) {
    const store = this.store.getState();
    store.setKernelStatus(status, reason);
    if (status === "dead" || status === "restarting") {
      // Requests already sent will never be answered by the kernel that took them.
      store.clearRunning();
      this.inFlight = null;
      this.asks.abandonAll();
    }
    if (status === "dead") this.dropWaiting("The kernel is dead; restart it to run cells.");
    this.sendWaiting();
  }

  private ready() {
    return !!this.socket?.connected && READY.has(this.store.getState().kernel.status);
  }

  private sendWaiting() {
    if (this.inFlight || !this.waiting.length || !this.ready()) return;
    const next = this.waiting.shift()!;
    this.inFlight = next.header.msg_id;
    this.raised = false;
    this.send(next);
  }

  /** The in-flight run is over; an error stops the runs queued behind it, as in Jupyter. The
   * error output, the reply and the idle status may come in any order: any of them settles it. */
  private settle(msgId: string, failed: boolean) {
    if (this.inFlight !== msgId) return;
    this.inFlight = null;
    const raised = failed || this.raised;
    this.raised = false;
    if (raised) this.dropWaiting();
    this.sendWaiting();
  }

  private send(message: JupyterMessage) {
    const cellId = this.requests.get(message.header.msg_id);
    this.socket!.timeout(ACK_TIMEOUT_MS).emit("kernel:send", { notebookId: this.notebookId, message }, (err, ack) => {
      const error = err ? "the gateway did not answer" : !ack.ok ? ack.error : null;
      if (error === null) return;
      if (cellId) {
        const store = this.store.getState();
        store.finishRun(cellId, message.header.msg_id);
        store.setNotice(`Could not run the cell: ${error}`);
      }
      this.settle(message.header.msg_id, true);
    });
  }

  private sendForAck(message: JupyterMessage): Promise<{ ok: true } | { ok: false; error: string }> {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve({ ok: false, error: "not connected to the gateway" });
    return new Promise((resolve) => {
      socket.timeout(ACK_TIMEOUT_MS).emit("kernel:send", { notebookId: this.notebookId, message }, (err, ack) =>
        resolve(err ? { ok: false, error: "the gateway did not answer" } : ack));
    });
  }

  private async command(event: "kernel:interrupt" | "kernel:restart" | "outputs:clear", what: string, extra: { cellIds?: string[] } = {}) {
    const socket = this.socket;
    if (!socket?.connected) {
      this.store.getState().setNotice(`Cannot ${what}: not connected to the gateway.`);
      return;
    }
    try {
      const timed = socket.timeout(ACK_TIMEOUT_MS);
      const notebookId = this.notebookId;
      const ack = event === "outputs:clear"
        ? await timed.emitWithAck(event, { notebookId, cellIds: extra.cellIds ?? [] })
        : await timed.emitWithAck(event, { notebookId });
      if (!ack.ok) this.store.getState().setNotice(`Could not ${what}: ${ack.error}`);
    } catch {
      this.store.getState().setNotice(`Could not ${what}: the gateway did not answer.`);
    }
  }

  private dropWaiting(notice?: string) {
    if (!this.waiting.length) return;
    const store = this.store.getState();
    for (const m of this.waiting) {
      const cellId = this.requests.get(m.header.msg_id);
      if (cellId) store.finishRun(cellId, m.header.msg_id);
    }
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

  private receive(message: JupyterMessage) {
    if (this.asks.receive(message)) return;
    const type = message.header?.msg_type;
    const parentId = message.parent_header?.msg_id ?? "";
    const cellId = this.requests.get(parentId);
    if (type === "status") {
      const state = (message.content as { execution_state?: string }).execution_state;
      const current = this.store.getState().kernel.status;
      // Still needed: after an output flood the gateway's kernel:status stays "busy" long after
      // the kernel's idle reaches the page (e2e "a flood of output…" waits for idle and fails
      // without this). Remove once the gateway's status keeps up.
      if ((state === "busy" || state === "idle") && (current === "idle" || current === "busy")) this.store.getState().setKernelStatus(state);
      if (state === "idle" && cellId) this.finishAfterFlush(cellId, parentId);
      if (state === "idle") this.settle(parentId, false);
      return;
    }
    if (type === "execute_reply") {
      const reply = message.content as { status?: string };
      if (cellId) {
        this.finishAfterFlush(cellId, parentId);
        const started = this.startedAt.get(parentId);
        if (started) this.store.getState().recordTiming(cellId, started, message.header.date || new Date().toISOString());
      }
      this.startedAt.delete(parentId);
      this.settle(parentId, reply.status === "error");
      return;
    }
    if (type === "error" && parentId === this.inFlight) this.raised = true;
    if (!cellId) return; // another tab's run: reload shows what the gateway recorded
    if (type === "input_request") {
      // Outputs printed before the prompt show above it.
      this.flush();
      const content = message.content as { prompt?: unknown; password?: unknown };
      this.store.getState().setInputPrompt(cellId, { prompt: String(content.prompt ?? ""), password: content.password === true, request: message.header });
      return;
    }
    if (type === "execute_input") {
      this.startedAt.set(parentId, message.header.date || new Date().toISOString());
      this.store.getState().markStarted(cellId, parentId);
    }
    this.inbox.push({ cellId, message });
    this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushEveryMs ?? 16);
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
