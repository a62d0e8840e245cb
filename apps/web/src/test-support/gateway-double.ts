// A socket.io server speaking the gateway's side of the browser protocol, for tests of the page's
// kernel connection. It records what the page sends and lets a test answer as the kernel would.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket as ServerSocket } from "socket.io";
import { io } from "socket.io-client";
import {
  makeMessage,
  type BrowserToGateway,
  type GatewayToBrowser,
  type JupyterMessage,
  type KernelStatus,
  type NotebookRole,
  type Output,
} from "@cellar/protocol";
import type { GatewaySocket } from "@cellar/kernel-client";

export interface GatewayDouble {
  port: number;
  sent: JupyterMessage[];
  status: KernelStatus;
  /** The role notebook:open answers (the owner's unless a test says otherwise). */
  role: NotebookRole;
  /** The cells the page asked to take out of a device's line (cell:cancel-queued). */
  cancelled: string[];
  /** Sent (kernel:outputs) before the next open's answer, as a gateway does that cannot replay
   * what the page missed while a cell runs. */
  liveOnOpen: { cellId: string; outputs: Output[]; executionCount: number | null } | null;
  socket(): ServerSocket<BrowserToGateway, GatewayToBrowser>;
  /** A socket factory for KernelConnection's `createSocket`. */
  connectSocket(): GatewaySocket;
  /** Answer a request as the kernel would (iopub messages, or execute_reply on shell). */
  reply(notebookId: string, request: JupyterMessage, type: string, content: Record<string, unknown>): void;
  close(): void;
}

export async function startGatewayDouble(initial: KernelStatus, workers = 1): Promise<GatewayDouble> {
  const http = createServer();
  const server = new Server<BrowserToGateway, GatewayToBrowser>(http);
  let last: ServerSocket<BrowserToGateway, GatewayToBrowser> | null = null;
  const gw: GatewayDouble = {
    port: 0,
    sent: [],
    status: initial,
    role: "owner",
    cancelled: [],
    liveOnOpen: null,
    socket: () => last!,
    connectSocket: () => io(`http://127.0.0.1:${gw.port}`, { transports: ["websocket"], forceNew: true }) as GatewaySocket,
    reply: (notebookId, request, type, content) => {
      const message = makeMessage(type, content, { channel: type === "execute_reply" ? "shell" : "iopub", parent: request });
      last!.emit("kernel:message", { notebookId, message });
    },
    close: () => {
      server.close();
      http.close();
    },
  };
  server.on("connection", (socket) => {
    last = socket;
    socket.emit("workers:count", { connected: workers });
    socket.on("notebook:open", (p, ack) => {
      if (gw.liveOnOpen) socket.emit("kernel:outputs", { notebookId: p.notebookId, cells: [gw.liveOnOpen] });
      ack({ ok: true, status: gw.status, replayed: false, role: gw.role });
    });
    socket.on("kernel:send", (p, ack) => {
      gw.sent.push(p.message);
      ack({ ok: true });
    });
    socket.on("kernel:interrupt", (p, ack) => ack({ ok: true }));
    socket.on("kernel:restart", (p, ack) => ack({ ok: true }));
    socket.on("cell:cancel-queued", (p, ack) => {
      gw.cancelled.push(p.cellId);
      ack({ ok: true });
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  gw.port = (http.address() as AddressInfo).port;
  return gw;
}

export async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
