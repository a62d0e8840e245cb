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

type TerminalEvent = "terminal:open" | "terminal:input" | "terminal:resize" | "terminal:close";

/** `refusal`: why this socket may not send `event` on the notebook (it has not opened it, or its
 * role there is too weak), or null. */
export function attachTerminalSockets(
  socket: BrowserSocket,
  relay: TerminalRelay,
  refusal: (notebookId: string, event: TerminalEvent) => string | null,
): void {
  const owner: TerminalOwner = { id: socket.id, send: (notebookId, event) => socket.emit("terminal:event", { notebookId, event }) };
  const allowed = <T extends { notebookId: string }>(r: Result<T>, event: TerminalEvent): T | undefined => {
    if (!r.ok) console.warn(`gateway: rejected terminal request: ${r.error}`);
    return r.ok && !refusal(r.value.notebookId, event) ? r.value : undefined;
  };

  socket.on("terminal:open", async (p, ack) => {
    const req = validateTerminalOpen(p);
    if (!req.ok) return reply(ack, { ok: false, error: req.error });
    const refused = refusal(req.value.notebookId, "terminal:open");
    if (refused) return reply(ack, { ok: false, error: refused });
    reply(ack, await relay.openTerminal(owner, req.value.notebookId, req.value.cols, req.value.rows));
  });
  socket.on("terminal:input", (p) => {
    const req = allowed(validateTerminalInput(p), "terminal:input");
    if (req) relay.forward(owner, req.notebookId, { type: "input", id: req.terminalId, data: req.data });
  });
  socket.on("terminal:resize", (p) => {
    const req = allowed(validateTerminalResize(p), "terminal:resize");
    if (req) relay.forward(owner, req.notebookId, { type: "resize", id: req.terminalId, cols: req.cols, rows: req.rows });
  });
  socket.on("terminal:close", (p) => {
    const req = allowed(validateTerminalClose(p), "terminal:close");
    if (req) relay.forward(owner, req.notebookId, { type: "close", id: req.terminalId });
  });
  socket.on("disconnect", () => relay.onOwnerGone(owner));
}

function reply<T>(ack: unknown, value: T): void {
  if (typeof ack === "function") ack(value);
}
