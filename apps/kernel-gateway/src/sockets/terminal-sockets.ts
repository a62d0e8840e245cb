// A browser connection's terminal events: checked, limited to notebooks it has opened, and
// handed to the TerminalRelay.
import type { Socket } from "socket.io";
import {
  validateTerminalClose,
  validateTerminalInput,
  validateTerminalOpen,
  validateTerminalResize,
  type BrowserToGateway,
  type GatewayToBrowser,
  type Result,
} from "@cellar/protocol";
import type { TerminalOwner, TerminalRelay } from "../terminals/terminal-relay";

type BrowserSocket = Socket<BrowserToGateway, GatewayToBrowser, object, { user: unknown }>;

export function attachTerminalSockets(socket: BrowserSocket, relay: TerminalRelay, inNotebook: (notebookId: string) => boolean): void {
  const owner: TerminalOwner = { id: socket.id, send: (notebookId, event) => socket.emit("terminal:event", { notebookId, event }) };
  const allowed = <T extends { notebookId: string }>(r: Result<T>): T | undefined => {
    if (!r.ok) console.warn(`gateway: rejected terminal request: ${r.error}`);
    return r.ok && inNotebook(r.value.notebookId) ? r.value : undefined;
  };

  socket.on("terminal:open", async (p, ack) => {
    const req = validateTerminalOpen(p);
    if (!req.ok) return reply(ack, { ok: false, error: req.error });
    if (!inNotebook(req.value.notebookId)) return reply(ack, { ok: false, error: "Open the notebook first." });
    reply(ack, await relay.openTerminal(owner, req.value.notebookId, req.value.cols, req.value.rows));
  });
  socket.on("terminal:input", (p) => {
    const req = allowed(validateTerminalInput(p));
    if (req) relay.forward(owner, req.notebookId, { type: "input", id: req.terminalId, data: req.data });
  });
  socket.on("terminal:resize", (p) => {
    const req = allowed(validateTerminalResize(p));
    if (req) relay.forward(owner, req.notebookId, { type: "resize", id: req.terminalId, cols: req.cols, rows: req.rows });
  });
  socket.on("terminal:close", (p) => {
    const req = allowed(validateTerminalClose(p));
    if (req) relay.forward(owner, req.notebookId, { type: "close", id: req.terminalId });
  });
  socket.on("disconnect", () => relay.onOwnerGone(owner));
}

function reply<T>(ack: unknown, value: T): void {
  if (typeof ack === "function") ack(value);
}
