// Browser connections: authenticated by the session cookie (or token), one room per notebook.
import type { Server, Socket } from "socket.io";
import type { UserRecord } from "@cellar/db";
import {
  type NotebookRole,
  validateBrowserMessage,
  validateClearOutputs,
  validateNotebookId,
  validateStreamPosition,
  type BrowserToGateway,
  type GatewayToBrowser,
} from "@cellar/protocol";
import { ClusterUnavailableError, type KernelRouter, type ReplicaEvents } from "../cluster/kernel-router";
import type { KernelEmit } from "../kernels/kernel-manager";
import type { TerminalRelay } from "../terminals/terminal-relay";
import { notebookRoom } from "./rooms";
import { attachTerminalSockets } from "./terminal-sockets";

/** What the gateway keeps on each browser connection. */
export interface BrowserSocketData {
  user: UserRecord;
  /** The caller's role on each notebook this socket opened: every event on a notebook checks it. */
  roles: Map<string, NotebookRole>;
}
export type BrowserServer = Server<BrowserToGateway, GatewayToBrowser, ReplicaEvents, BrowserSocketData>;
type BrowserSocket = Socket<BrowserToGateway, GatewayToBrowser, ReplicaEvents, BrowserSocketData>;

/** The KernelManager's way out: an event to the notebook's room. */
export function notebookEmitter(io: BrowserServer): KernelEmit {
  // socket.io's typed emit cannot follow a generic event name; the event map is the same one.
  return (notebookId, event, payload) =>
    (io.to(notebookRoom(notebookId)).emit as (e: typeof event, p: typeof payload) => boolean)(event, payload);
}

export interface BrowserSocketDeps {
  /** The notebook's kernel, on whichever replica runs it. */
  kernels: KernelRouter;
  terminals: TerminalRelay;
  /** The user's role on the notebook; null: it does not exist for them. */
  roleOn(userId: string, notebookId: string): Promise<NotebookRole | null>;
}

export function attachBrowserSockets(io: BrowserServer, deps: BrowserSocketDeps): void {
  io.on("connection", (socket: BrowserSocket) => {
    // Set by the middleware (socket-server.ts) before any connection gets here.
    const user: UserRecord = socket.data.user;
    void deps.kernels.workerCount().then((connected) => socket.emit("workers:count", { connected }));
    attachTerminalSockets(socket, deps.terminals, (notebookId) => socket.rooms.has(notebookRoom(notebookId)));

    socket.on("notebook:open", async (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok) return safeAck(ack, { ok: false, error: id.error });
      const role = await deps.roleOn(user.id, id.value);
      if (!role) return safeAck(ack, { ok: false, error: "No such notebook." });
      socket.data.roles.set(id.value, role);
      // The replica that runs the kernel sends what the page missed and puts it in the room.
      const resume = validateStreamPosition(p?.resume);
      const opened = await answer(ack, () => deps.kernels.route(id.value, { op: "open", socketId: socket.id, resume, by: user.id }));
      if (!opened) return;
      safeAck(ack, { ok: true, status: opened.status, replayed: opened.replayed });
      socket.emit("kernel:status", { notebookId: id.value, status: opened.status, reason: opened.reason });
    });

    socket.on("kernel:send", async (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok) return safeAck(ack, { ok: false, error: id.error });
      if (!socket.rooms.has(notebookRoom(id.value))) return safeAck(ack, { ok: false, error: "Open the notebook first." });
      const msg = validateBrowserMessage(p.message);
      if (!msg.ok) {
        console.warn(`gateway: rejected browser message: ${msg.error}`);
        return safeAck(ack, { ok: false, error: msg.error });
      }
      const sent = await answer(ack, () => deps.kernels.route(id.value, { op: "send", message: msg.value }));
      if (sent) safeAck(ack, sent);
    });

    socket.on("kernel:interrupt", async (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok || !socket.rooms.has(notebookRoom(id.value))) return safeAck(ack, { ok: false, error: "Open the notebook first." });
      const done = await answer(ack, () => deps.kernels.route(id.value, { op: "interrupt" }));
      if (done) safeAck(ack, done);
    });

    socket.on("kernel:restart", async (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok || !socket.rooms.has(notebookRoom(id.value))) return safeAck(ack, { ok: false, error: "Open the notebook first." });
      const done = await answer(ack, () => deps.kernels.route(id.value, { op: "restart" }));
      if (done) safeAck(ack, done);
    });

    socket.on("outputs:clear", async (p, ack) => {
      const req = validateClearOutputs(p);
      if (!req.ok) return safeAck(ack, { ok: false, error: req.error });
      if (!socket.rooms.has(notebookRoom(req.value.notebookId))) return safeAck(ack, { ok: false, error: "Open the notebook first." });
      try {
        await deps.kernels.route(req.value.notebookId, { op: "clearOutputs", cellIds: req.value.cellIds });
        safeAck(ack, { ok: true });
      } catch (e) {
        console.error("gateway: clearing outputs failed:", e);
        safeAck(ack, { ok: false, error: "The outputs could not be cleared; try again." });
      }
    });
  });
}

/** Runs `work`; if it throws (the kernel's replica cannot be reached), the client hears why and
 * the answer is undefined. */
async function answer<T>(ack: unknown, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ClusterUnavailableError)) console.error("gateway: a kernel request failed:", error);
    safeAck(ack, { ok: false, error: error instanceof ClusterUnavailableError ? error.message : "The request failed; try again." });
    return undefined;
  }
}

/** A client may omit the ack callback; never let that throw inside a handler. */
function safeAck<T>(ack: unknown, value: T): void {
  if (typeof ack === "function") ack(value);
}
