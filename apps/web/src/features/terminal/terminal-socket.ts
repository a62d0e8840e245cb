// One terminal's link to a shell in the notebook's kernel sandbox, over the page's gateway
// socket (the gateway only serves terminals of notebooks this socket has opened). Output arrives
// as the pty's bytes; the terminal ends when its shell exits, its kernel restarts, dies or is
// suspended, or the socket drops (the gateway then hangs the shell up).
import { TERMINAL_INPUT_MAX, type TerminalEvent } from "@cellar/protocol";
import type { GatewaySocket } from "@cellar/kernel-client";

const OPEN_TIMEOUT_MS = 60_000;

export interface TerminalHandlers {
  output(bytes: Uint8Array): void;
  /** The terminal is over, with the reason in a few words ("kernel restarted"). */
  ended(reason: string): void;
}

export class TerminalSession {
  private terminalId: string | null = null;
  private over = false;
  /** A resize asked for before the gateway named the terminal. */
  private pendingSize: { cols: number; rows: number } | null = null;
  private readonly onEvent = (p: { notebookId: string; event: TerminalEvent }) => {
    const e = p.event;
    if (p.notebookId !== this.notebookId || e.id !== this.terminalId) return;
    if (e.type === "output") this.handlers.output(decodeBase64(e.data));
    else this.end(e.reason);
  };
  private readonly onDisconnect = () => this.end("connection to the gateway lost");

  constructor(
    private readonly socket: GatewaySocket | null,
    private readonly notebookId: string,
    private readonly handlers: TerminalHandlers,
  ) {}

  /** Opens the shell (starting the kernel if it is not running). */
  open(cols: number, rows: number): void {
    const socket = this.socket;
    if (!socket?.connected) return this.end("not connected to the gateway");
    socket.on("terminal:event", this.onEvent);
    socket.on("disconnect", this.onDisconnect);
    socket.timeout(OPEN_TIMEOUT_MS).emit("terminal:open", { notebookId: this.notebookId, cols, rows }, (err, ack) => {
      if (this.over) return;
      if (err) return this.end("the gateway did not answer");
      if (!ack.ok) return this.end(ack.error);
      this.terminalId = ack.terminalId;
      if (this.pendingSize) this.resize(this.pendingSize.cols, this.pendingSize.rows);
    });
  }

  input(data: string): void {
    if (!this.terminalId || this.over) return;
    // A large paste goes in pieces the gateway accepts, in order on the one socket.
    for (let at = 0; at < data.length; ) {
      let end = Math.min(at + TERMINAL_INPUT_MAX, data.length);
      if (end < data.length && /[\uD800-\uDBFF]/.test(data[end - 1])) end--; // never split a surrogate pair
      this.socket?.emit("terminal:input", { notebookId: this.notebookId, terminalId: this.terminalId, data: data.slice(at, end) });
      at = end;
    }
  }

  resize(cols: number, rows: number): void {
    if (!this.terminalId) this.pendingSize = { cols, rows };
    else if (!this.over) this.socket?.emit("terminal:resize", { notebookId: this.notebookId, terminalId: this.terminalId, cols, rows });
  }

  /** Hangs up the shell (closing its tab). */
  close(): void {
    if (this.terminalId && !this.over) this.socket?.emit("terminal:close", { notebookId: this.notebookId, terminalId: this.terminalId });
    this.detach();
    this.over = true;
  }

  private end(reason: string): void {
    if (this.over) return;
    this.over = true;
    this.detach();
    this.handlers.ended(reason);
  }

  private detach(): void {
    this.socket?.off("terminal:event", this.onEvent);
    this.socket?.off("disconnect", this.onDisconnect);
  }
}

function decodeBase64(data: string): Uint8Array {
  const raw = atob(data);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
