// Browser connections: authenticated by the session cookie (or token), one room per notebook.
import type { Server, Socket } from "socket.io";
import type { UserRecord } from "@cellar/db";
import {
  type DeviceRequest,
  hasMsgType,
  browserEventRoles,
  isShareLinkSecret,
  type JupyterMessage,
  kernelMessageRoles,
  type NotebookRole,
  OWN_CODE_ROLE,
  roleAtLeast,
  roleRefusal,
  validateBrowserMessage,
  validateClearOutputs,
  validateNotebookId,
  validateStreamPosition,
  type BrowserToGateway,
  type GatewayToBrowser,
} from "@cellar/protocol";
import { ClusterUnavailableError, type KernelRouter, type ReplicaEvents } from "../cluster/kernel-router";
import { withRequestedDevice } from "../kernels/cell-device";
import type { KernelEmit } from "../kernels/kernel-manager";
import type { TerminalRelay } from "../terminals/terminal-relay";
import { notebookRoom } from "./rooms";
import { attachTerminalSockets } from "./terminal-sockets";

/** What the gateway keeps on each browser connection. */
export interface BrowserSocketData {
  /** Null: a signed-out guest, admitted with a share link of one notebook. */
  user: UserRecord | null;
  /** The caller's role on each notebook this socket opened: every event on a notebook checks it. */
  roles: Map<string, NotebookRole>;
  /** The share link each notebook was opened with, to ask the role again when access changes. */
  links: Map<string, string>;
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
  /** The user's role on the notebook (with `link`, a share link's secret, counted too); null: it
   * does not exist for them. */
  roleOn(userId: string | null, notebookId: string, link?: string): Promise<NotebookRole | null>;
  /** A cell's source as the notebook holds it (what a runner's run runs); null: no such cell. */
  cellSource(notebookId: string, cellId: string): Promise<string | null>;
  /** The device a cell asks for (its metadata, else the notebook's default, else CPU). */
  cellDevice(notebookId: string, cellId: string): Promise<DeviceRequest>;
}

/** What each replica does when someone's access to a notebook changed. */
export interface BrowserSockets {
  /** Asks again the role of every socket here that has the notebook open: a page that lost it
   * hears `access:changed` with null and gets none of the notebook's events from then on. */
  recheckAccess(notebookId: string): Promise<void>;
}

export function attachBrowserSockets(io: BrowserServer, deps: BrowserSocketDeps): BrowserSockets {
  io.on("connection", (socket: BrowserSocket) => {
    // Set by the middleware (socket-server.ts) before any connection gets here.
    const user = socket.data.user;
    // A guest's runs are nobody's: there is no account to name.
    const by = user ? { id: user.id, name: user.name } : undefined;
    void deps.kernels.workerCount().then((connected) => socket.emit("workers:count", { connected }));
    attachTerminalSockets(socket, deps.terminals, (notebookId, event) => refusal(socket, notebookId, browserEventRoles[event]));

    socket.on("notebook:open", async (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok) return safeAck(ack, { ok: false, error: id.error });
      const link = isShareLinkSecret(p?.link) ? p.link : socket.data.links.get(id.value);
      const role = await deps.roleOn(user?.id ?? null, id.value, link);
      if (!role) return safeAck(ack, { ok: false, error: "No such notebook." });
      socket.data.roles.set(id.value, role);
      if (link) socket.data.links.set(id.value, link);
      else socket.data.links.delete(id.value);
      // The replica that runs the kernel sends what the page missed and puts it in the room. A
      // viewer only watches: their page must not start (or resume) a kernel.
      const resume = validateStreamPosition(p?.resume);
      const watch = !roleAtLeast(role, "runner");
      const opened = await answer(ack, () =>
        deps.kernels.route(id.value, { op: "open", socketId: socket.id, resume, by: user?.id, watch }),
      );
      if (!opened) return;
      safeAck(ack, { ok: true, status: opened.status, replayed: opened.replayed, role });
      socket.emit("kernel:status", { notebookId: id.value, status: opened.status, reason: opened.reason });
    });

    socket.on("kernel:send", async (p, ack) => {
      const id = validateNotebookId(p?.notebookId);
      if (!id.ok) return safeAck(ack, { ok: false, error: id.error });
      const msg = validateBrowserMessage(p.message);
      if (!msg.ok) {
        console.warn(`gateway: rejected browser message: ${msg.error}`);
        return safeAck(ack, { ok: false, error: msg.error });
      }
      const type = msg.value.header.msg_type as keyof typeof kernelMessageRoles;
      // The message's role first: it is never weaker than the event's, so a refusal names the role
      // that would do.
      const refused = refusal(socket, id.value, kernelMessageRoles[type]) ?? refusal(socket, id.value, browserEventRoles["kernel:send"]);
      if (refused) return safeAck(ack, { ok: false, error: refused });
      const checked = roleAtLeast(socket.data.roles.get(id.value), OWN_CODE_ROLE) ? msg.value : await asRunOfCell(id.value, msg.value);
      if (typeof checked === "string") return safeAck(ack, { ok: false, error: checked });
      // The device comes from the notebook as the gateway holds it, whatever the page sent.
      const cellId = checked.metadata.cellId;
      const device =
        hasMsgType(checked, "execute_request") && typeof cellId === "string" ? await deps.cellDevice(id.value, cellId) : undefined;
      const message = withRequestedDevice(checked, device);
      const sent = await answer(ack, () => deps.kernels.route(id.value, { op: "send", message, by }));
      if (sent) safeAck(ack, sent);
    });

    socket.on("kernel:interrupt", async (p, ack) => {
      const refused = refusal(socket, p?.notebookId, browserEventRoles["kernel:interrupt"]);
      if (refused) return safeAck(ack, { ok: false, error: refused });
      const done = await answer(ack, () => deps.kernels.route(p.notebookId, { op: "interrupt" }));
      if (done) safeAck(ack, done);
    });

    socket.on("kernel:restart", async (p, ack) => {
      const refused = refusal(socket, p?.notebookId, browserEventRoles["kernel:restart"]);
      if (refused) return safeAck(ack, { ok: false, error: refused });
      const done = await answer(ack, () => deps.kernels.route(p.notebookId, { op: "restart" }));
      if (done) safeAck(ack, done);
    });

    socket.on("cell:cancel-queued", async (p, ack) => {
      const refused = refusal(socket, p?.notebookId, browserEventRoles["cell:cancel-queued"]);
      if (refused) return safeAck(ack, { ok: false, error: refused });
      if (typeof p.cellId !== "string") return safeAck(ack, { ok: false, error: "cellId must be a string" });
      const done = await answer(ack, () => deps.kernels.route(p.notebookId, { op: "cancelQueued", cellId: p.cellId }));
      if (done) safeAck(ack, done);
    });

    socket.on("outputs:clear", async (p, ack) => {
      const req = validateClearOutputs(p);
      if (!req.ok) return safeAck(ack, { ok: false, error: req.error });
      const refused = refusal(socket, req.value.notebookId, browserEventRoles["outputs:clear"]);
      if (refused) return safeAck(ack, { ok: false, error: refused });
      try {
        await deps.kernels.route(req.value.notebookId, { op: "clearOutputs", cellIds: req.value.cellIds });
        safeAck(ack, { ok: true });
      } catch (e) {
        console.error("gateway: clearing outputs failed:", e);
        safeAck(ack, { ok: false, error: "The outputs could not be cleared; try again." });
      }
    });
  });

  /** A run by someone who may not send code of their own: a cell of the notebook, by id, run as
   * the gateway's copy holds it. Code that differs from that copy is refused (it was forged, or
   * the cell changed meanwhile: run it again); user_expressions, which are code too, are dropped. */
  async function asRunOfCell(notebookId: string, msg: JupyterMessage): Promise<JupyterMessage | string> {
    if (msg.header.msg_type !== "execute_request") return msg;
    const cellId = msg.metadata.cellId;
    if (typeof cellId !== "string") return "Only the notebook's cells can be run with this role.";
    const source = await deps.cellSource(notebookId, cellId);
    if (source === null) return "No such cell in this notebook.";
    const sent = (msg.content as { code?: unknown }).code;
    if (sent !== source) return `${roleRefusal(OWN_CODE_ROLE)} Only the cell as the notebook holds it can be run.`;
    return { ...msg, content: { ...msg.content, code: source, user_expressions: {}, silent: false, store_history: true } };
  }

  return {
    async recheckAccess(notebookId) {
      const room = notebookRoom(notebookId);
      for (const socket of await io.local.in(room).fetchSockets()) {
        const local = io.sockets.sockets.get(socket.id);
        if (!local) continue;
        const role = await deps.roleOn(local.data.user?.id ?? null, notebookId, local.data.links.get(notebookId)).catch(() => null);
        if (role === local.data.roles.get(notebookId)) continue;
        if (role) local.data.roles.set(notebookId, role);
        else {
          local.data.roles.delete(notebookId);
          local.data.links.delete(notebookId);
          local.leave(room);
        }
        local.emit("access:changed", { notebookId, role });
      }
    },
  };
}

/** Why `socket` may not do what needs `needed` on the notebook, or null if it may. */
function refusal(socket: BrowserSocket, notebookId: unknown, needed: NotebookRole): string | null {
  const role = typeof notebookId === "string" ? socket.data.roles.get(notebookId) : undefined;
  if (!role || !socket.rooms.has(notebookRoom(notebookId as string))) return "Open the notebook first.";
  return roleAtLeast(role, needed) ? null : roleRefusal(needed);
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
