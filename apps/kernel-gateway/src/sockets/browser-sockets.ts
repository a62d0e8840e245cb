// Browser connections: authenticated by the session cookie (or token), one room per notebook.
import type { Server, Socket } from "socket.io";
import {
  validateBrowserMessage,
  validateClearOutputs,
  validateNotebookId,
  validateStreamPosition,
  type BrowserToGateway,
  type GatewayToBrowser,
} from "@cellar/protocol";
import type { KernelEmit, KernelManager } from "../kernels/kernel-manager";
import type { TerminalRelay } from "../terminals/terminal-relay";
import { attachTerminalSockets } from "./terminal-sockets";
import type { WorkerPool } from "../workers/worker-pool";

export type BrowserServer = Server<BrowserToGateway, GatewayToBrowser>;
type BrowserSocket = Socket<BrowserToGateway, GatewayToBrowser>;

export const notebookRoom = (notebookId: string) => `notebook:${notebookId}`;

/** The KernelManager's way out: an event to the notebook's room. */
export function notebookEmitter(io: BrowserServer): KernelEmit {
  // socket.io's typed emit cannot follow a generic event name; the event map is the same one.
  return (notebookId, event, payload) =>
    (io.to(notebookRoom(notebookId)).emit as (e: typeof event, p: typeof payload) => boolean)(event, payload);
}

export interface BrowserSocketDeps {
  kernels: KernelManager;
  pool: WorkerPool;
  terminals: TerminalRelay;
  notebookExists(id: string): Promise<boolean>;
}

export function attachBrowserSockets(io: BrowserServer, deps: BrowserSocketDeps): void {
  io.on("connection", (socket: BrowserSocket) => {
    socket.emit("workers:count", { connected: deps.pool.count });
    attachTerminalSockets(socket, deps.terminals, (notebookId) => socket.rooms.has(notebookRoom(notebookId)));

    socket.on("notebook:open", async (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok) return safeAck(ack, { ok: false, error: id.error });
      if (!(await deps.notebookExists(id.value))) return safeAck(ack, { ok: false, error: "No such notebook." });
      const status = await deps.kernels.ensureKernel(id.value);
      const current = deps.kernels.status(id.value);
      // From here to the answer in one go, so that no live message slips between the ones it
      // missed: what it missed first, then it joins the room for what comes next.
      const notebookId = id.value;
      const missed = deps.kernels.missedSince(notebookId, validateStreamPosition(p?.resume));
      void socket.join(notebookRoom(notebookId));
      for (const m of missed ?? []) socket.emit("kernel:message", { notebookId, ...m });
      safeAck(ack, { ok: true, status, replayed: missed !== null });
      socket.emit("kernel:status", { notebookId: id.value, status, reason: current?.reason });
    });

    socket.on("kernel:send", (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok) return safeAck(ack, { ok: false, error: id.error });
      if (!socket.rooms.has(notebookRoom(id.value))) return safeAck(ack, { ok: false, error: "Open the notebook first." });
      const msg = validateBrowserMessage(p.message);
      if (!msg.ok) {
        console.warn(`gateway: rejected browser message: ${msg.error}`);
        return safeAck(ack, { ok: false, error: msg.error });
      }
      safeAck(ack, deps.kernels.send(id.value, msg.value));
    });

    socket.on("kernel:interrupt", (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok || !socket.rooms.has(notebookRoom(id.value))) return safeAck(ack, { ok: false, error: "Open the notebook first." });
      safeAck(ack, deps.kernels.interrupt(id.value));
    });

    socket.on("kernel:restart", async (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok || !socket.rooms.has(notebookRoom(id.value))) return safeAck(ack, { ok: false, error: "Open the notebook first." });
      safeAck(ack, await deps.kernels.restart(id.value));
    });

    socket.on("outputs:clear", async (p, ack) => {
      const req = validateClearOutputs(p);
      if (!req.ok) return safeAck(ack, { ok: false, error: req.error });
      if (!socket.rooms.has(notebookRoom(req.value.notebookId))) return safeAck(ack, { ok: false, error: "Open the notebook first." });
      try {
        await deps.kernels.clearOutputs(req.value.notebookId, req.value.cellIds);
        safeAck(ack, { ok: true });
      } catch (e) {
        console.error("gateway: clearing outputs failed:", e);
        safeAck(ack, { ok: false, error: "The outputs could not be cleared; try again." });
      }
    });
  });
}

/** A client may omit the ack callback; never let that throw inside a handler. */
function safeAck<T>(ack: unknown, value: T): void {
  if (typeof ack === "function") ack(value);
}
