// Runs a stored notebook's code cells on its kernel through the gateway's socket.io, with the
// same events as the browser (notebook:open, kernel:send, kernel:message, kernel:status) and the
// same outputs reducer, so a CLI run records exactly what a run in the browser would.
import { randomUUID } from "node:crypto";
import { io, type Socket } from "socket.io-client";
import {
  applyOutputMessage, emptyCellOutput, executeRequest,
  type BrowserToGateway, type Cell, type ExecuteReplyContent, type GatewayToBrowser, type JupyterMessage, type KernelStatus,
} from "@cellar/protocol";
import type { Connection } from "./connection";

type GatewaySocket = Socket<GatewayToBrowser, BrowserToGateway>;

export interface CellFailure {
  /** Index of the cell in the notebook (0-based). */
  index: number;
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface RunResult {
  /** The notebook's cells; code cells that ran carry their new outputs and execution counts. */
  cells: Cell[];
  failure?: CellFailure;
}

export interface RunOptions {
  /** Called before each code cell runs, for progress output. */
  onCell?: (index: number, cell: Cell) => void;
  /** How long the kernel may take to start. */
  startTimeoutMs?: number;
  /** Per-cell limit; none by default (like papermill). */
  cellTimeoutMs?: number;
}

export class RunError extends Error {
  override name = "RunError";
}

const READY: ReadonlySet<KernelStatus> = new Set(["idle", "busy"]);
/** iopub "idle" for a request can trail its execute_reply; do not wait for it forever. */
const IDLE_GRACE_MS = 2_000;

export async function runNotebookCells(connection: Connection, notebookId: string, cells: Cell[], options: RunOptions = {}): Promise<RunResult> {
  const socket: GatewaySocket = io(connection.baseUrl, {
    path: "/socket.io",
    transports: ["websocket"],
    extraHeaders: { authorization: `Bearer ${connection.token}` },
    reconnection: false,
  });
  const session = randomUUID();
  const kernel = new KernelWatch(socket, notebookId);
  try {
    await connect(socket, connection);
    const ack = await socket.timeout(15_000).emitWithAck("notebook:open", { notebookId });
    if (!ack.ok) throw new RunError(`The gateway would not open the notebook: ${ack.error}`);
    kernel.set(ack.status);
    await kernel.ready(options.startTimeoutMs ?? 180_000);

    const result: Cell[] = cells.map((c) => (c.cell_type === "code" ? { ...c, outputs: [], execution_count: null } : c));
    for (const [index, cell] of result.entries()) {
      if (cell.cell_type !== "code") continue;
      options.onCell?.(index, cell);
      const ran = await runCell(socket, kernel, notebookId, session, cell, options.cellTimeoutMs);
      result[index] = { ...cell, outputs: ran.outputs, execution_count: ran.executionCount };
      if (ran.reply.status !== "ok") {
        const error = ran.outputs.find((o) => o.output_type === "error");
        return {
          cells: result,
          failure: {
            index,
            ename: ran.reply.ename ?? (error?.output_type === "error" ? error.ename : "Error"),
            evalue: ran.reply.evalue ?? (error?.output_type === "error" ? error.evalue : ran.reply.status),
            traceback: ran.reply.traceback ?? (error?.output_type === "error" ? error.traceback : []),
          },
        };
      }
    }
    return { cells: result };
  } finally {
    socket.disconnect();
  }
}

function connect(socket: GatewaySocket, connection: Connection): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err) => {
      const refused = /unauthori[sz]ed/i.test(err.message);
      reject(new RunError(refused
        ? "The gateway refused the token (check --token or CELLAR_TOKEN)."
        : `Cannot connect to the gateway's socket at ${connection.baseUrl}: ${err.message}`));
    });
  });
}

/** The notebook's kernel status as the gateway reports it. */
class KernelWatch {
  status: KernelStatus = "starting";
  reason?: string;
  private listeners = new Set<() => void>();

  constructor(socket: GatewaySocket, notebookId: string) {
    socket.on("kernel:status", (p) => {
      if (p.notebookId === notebookId) this.set(p.status, p.reason);
    });
    socket.on("disconnect", (reason) => {
      if (reason !== "io client disconnect") this.set("disconnected", `lost the connection to the gateway (${reason})`);
    });
  }

  set(status: KernelStatus, reason?: string) {
    this.status = status;
    this.reason = reason;
    for (const l of [...this.listeners]) l();
  }

  /** Calls back on every change until the returned function is called. */
  watch(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new RunError(`The kernel did not start within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs);
      const check = () => {
        if (READY.has(this.status)) done();
        else if (this.status === "dead") done(new RunError(`The kernel died: ${this.reason ?? "no reason given"}`));
        else if (this.reason?.startsWith("lost the connection")) done(new RunError(`Cannot run: ${this.reason}`));
      };
      const stop = this.watch(check);
      const done = (error?: Error) => {
        clearTimeout(timer);
        stop();
        if (error) reject(error);
        else resolve();
      };
      check();
    });
  }
}

interface CellRun {
  outputs: Cell["outputs"];
  executionCount: number | null;
  reply: ExecuteReplyContent;
}

function runCell(socket: GatewaySocket, kernel: KernelWatch, notebookId: string, session: string, cell: Cell, timeoutMs?: number): Promise<CellRun> {
  const request = executeRequest(cell.source, { session, cellId: cell.id });
  const msgId = request.header.msg_id;
  let state = emptyCellOutput();
  let reply: ExecuteReplyContent | null = null;
  let idle = false;

  return new Promise<CellRun>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    const finish = (error?: Error) => {
      timers.forEach(clearTimeout);
      socket.off("kernel:message", onMessage);
      stopWatching();
      if (error) return reject(error);
      resolve({ outputs: state.outputs, executionCount: state.executionCount ?? reply!.execution_count ?? null, reply: reply! });
    };
    const onMessage = (p: { notebookId: string; message: JupyterMessage }) => {
      if (p.notebookId !== notebookId || p.message.parent_header?.msg_id !== msgId) return;
      const type = p.message.header.msg_type;
      if (type === "execute_reply") {
        reply = p.message.content as ExecuteReplyContent;
        if (idle) return finish();
        timers.push(setTimeout(() => finish(), IDLE_GRACE_MS));
        return;
      }
      if (type === "status") {
        if ((p.message.content as { execution_state?: string }).execution_state !== "idle") return;
        idle = true;
        if (reply) finish();
        return;
      }
      state = applyOutputMessage(state, p.message);
    };
    const stopWatching = kernel.watch(() => {
      if (kernel.status === "dead" || kernel.status === "restarting" || kernel.status === "disconnected") {
        finish(new RunError(`The kernel stopped while running a cell: ${kernel.reason ?? kernel.status}`));
      }
    });
    socket.on("kernel:message", onMessage);
    if (timeoutMs) timers.push(setTimeout(() => finish(new RunError(`A cell ran longer than ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs));
    socket.timeout(15_000).emit("kernel:send", { notebookId, message: request }, (err, ack) => {
      if (err) finish(new RunError("The gateway did not accept the cell in time."));
      else if (!ack.ok) finish(new RunError(`The gateway would not run the cell: ${ack.error}`));
    });
  });
}
