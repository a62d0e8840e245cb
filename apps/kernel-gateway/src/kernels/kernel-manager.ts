// One kernel per open notebook: places it on a worker, relays messages both ways, tracks its
// status, and records outputs. The only place that knows which worker holds which notebook.
// What it knows is also a row per notebook in the database (KernelSessionStore), written before
// a change is announced: a gateway that restarts reads the rows back (restore) and adopts the
// kernels its workers still run when they reconnect.
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { storedStatus, type KernelSessionPatch, type KernelSessionRecord, type KernelSessionStore } from "@cellar/db";
import { parentIdOf } from "@cellar/kernel-client";
import {
  canChangeStatus,
  CPU,
  formatDevice,
  hasMsgType,
  formatBytes,
  makeMessage,
  noWorkerOffers,
  sameDevice,
  skippedNamesText,
  moveFileSchema,
  stateExportReportSchema,
  type MoveFile,
  type Output,
  OutputCaptures,
  stateImportReportSchema,
  streamOf,
  workerClassOf,
  type DeviceRequest,
  type Isolation,
  type KernelPlacement,
  type GatewayToBrowser,
  type JupyterMessage,
  type KernelStatus,
  type MessageMeta,
  type SessionLimits,
  type StartSession,
  type StreamPosition,
  type SuspendedKernelRef,
  type TerminalRequest,
  type WorkerSessionReport,
  type WorkerStatus,
} from "@cellar/protocol";
import type { ConnectedWorker, WorkerPool } from "../workers/worker-pool";
import { answerOf } from "../workers/worker-answer";
import { CellOutputRecorder, type OutputSink } from "./cell-output-recorder";
import { failedRun, leftBehind, placementOutputs, requestedDevice, streamOutput } from "./cell-device";
import { InputEcho } from "./input-echo";
import { MoveRelayError, relayMoveFiles } from "./move-relay";
import { pipCell, type PipCommand } from "./pip-magic";
import { WidgetStateRecorder, type WidgetStateSink } from "./widget-state-recorder";

/** An image by name, and its id (the hash of its manifest) in the content store. */
export interface KernelImage {
  name: string;
  id: string;
}

/** A cell's `%pip` commands, built into an image the kernel can move onto (see pip-magic.ts). */
export interface NotebookPackages {
  /** Builds what the commands make of the notebook's packages; the kernel is not touched.
   * Rejects naming the package or index at fault. `record`, once the kernel is on `image`,
   * makes the notebook keep its packages from then on. */
  change(
    notebookId: string,
    commands: Array<Exclude<PipCommand, { op: "list" }>>,
    say: (line: string) => void,
  ): Promise<{ image: KernelImage; record(): Promise<void> }>;
}

export interface RunRecorder extends OutputSink, Partial<WidgetStateSink> {
  markRun(notebookId: string, cell?: { cellId: string; userId: string }): Promise<void>;
}

/** Who sent a request: a run is recorded as theirs ("last run by"). */
export interface Requester {
  id: string;
  name: string;
}

/** Sends an event to every browser that has the notebook open. */
export type KernelEmit = <E extends keyof GatewayToBrowser>(
  notebookId: string,
  event: E,
  payload: Parameters<GatewayToBrowser[E]>[0],
) => void;

interface KernelSession {
  sessionId: string;
  notebookId: string;
  workerId: string | null;
  status: KernelStatus;
  reason?: string;
  /** execute_request msg_id -> cell id, to attribute outputs. */
  requests: Map<string, string>;
  recorder: CellOutputRecorder;
  /** Its widgets' state, saved as the notebook's metadata.widgets. */
  widgets: WidgetStateRecorder;
  /** Which Output widget takes which outputs: those are the widget's, not the cell's. */
  captures: OutputCaptures;
  /** The image it was started on: a suspended kernel resumes on the same one. */
  image?: KernelImage;
  /** While suspended: its checkpoint, from which any worker can resume it. */
  suspended?: SuspendedKernelRef;
  inputEcho: InputEcho;
  startTimer?: NodeJS.Timeout;
  /** Illegal moves its worker reported ("from>to"), each logged once so a confused worker cannot
   * flood the log. */
  illegalReports?: Set<string>;
  /** Read back from the database after a restart: the worker that ran it, until that worker
   * reconnects and says whether it still does. */
  awaitingWorker?: string;
  /** Its row's writes and the announcements behind them, in order. */
  writes: Promise<void>;
  pendingWrites: number;
  /** Requests for a suspended kernel that came while no worker was connected. */
  held: JupyterMessage[];
  /** The worker's number of the last message taken from it (0: none yet, on this gateway). */
  lastSeq: number;
  /** The stream `lastSeq` counts in (StreamPosition), undefined before the first message here. */
  stream?: string;
  /** The latest messages relayed, by number, for pages that reconnect (StreamPosition). */
  recent: Array<{ stream: string; seq: number; message: JupyterMessage; cellId?: string }>;
  ackTimer?: NodeJS.Timeout;
  /** Its worker's connection dropped: how long the gateway waits for it to come back. */
  lostTimer?: NodeJS.Timeout;
  /** execute_requests sent and not yet answered (`requests` also names runs adopted after a
   * restart, until their last message): a move waits for these. */
  unanswered: Set<string>;
  /** What it runs on, the GPUs it holds on its worker, and (once its worker said) how it is
   * sandboxed. */
  device: DeviceRequest;
  gpus: number[];
  placement?: KernelPlacement;
  /** A move to another device is under way: the request that asked for it and every request
   * after it wait here, in order. */
  moving?: Array<{ msg: JupyterMessage; by?: Requester }>;
  /** The kernel a move is starting on the other worker: not the notebook's kernel until its
   * namespace is in, so its statuses go here rather than to the pages. */
  standby?: (status: WorkerStatus, reason?: string) => void;
}

/** A move refused or failed before the cell reached a kernel: the cell's error says why. */
class MoveError extends Error {
  constructor(
    readonly ename: string,
    message: string,
  ) {
    super(message);
  }
}

/** A cell waiting for a device that exists but is busy. */
interface DeviceWaiter {
  notebookId: string;
  cellId?: string;
  device: DeviceRequest;
  except?: string;
  sessionId: string;
  resolve(placed: { worker: ConnectedWorker; gpus: number[] }): void;
  reject(error: MoveError): void;
}

/** How long a worker may take to write a namespace (and the workspace) out, or to load it. */
const MOVE_STEP_TIMEOUT_MS = 600_000;
/** A move's files on the old worker, and the token that lets the new one fetch them. */
interface CarriedMove {
  from: ConnectedWorker;
  moveId: string;
  token: string;
  files: MoveFile[];
}

/** One piece (4 MiB) of a move's files, read on the old worker and written on the new one. */
const MOVE_PIECE_TIMEOUT_MS = 60_000;

/** Messages kept per kernel for reconnecting pages: a few seconds of a flood. */
const RECENT_MESSAGES = 5_000;
/** How often the worker hears what is recorded: what it must send again after a lost gateway. */
const ACK_EVERY_MS = 500;

const MAX_HELD_REQUESTS = 100;

export interface KernelManagerOptions {
  pool: WorkerPool;
  store: RunRecorder;
  emit: KernelEmit;
  limits: SessionLimits;
  /** The image a notebook's kernel starts on (its packages' layer is built first if this gateway
   * has not got it); rejects saying why there is none. */
  imageFor(notebookId: string): Promise<KernelImage>;
  /** `%pip` in a cell; without it pip lines reach the kernel as they are. */
  packages?: NotebookPackages;
  /** What a worker needs to start the image from a warm snapshot: the modules its warm-up
   * imports, and for a pip layer the parent whose snapshot restores onto it. */
  warmStartOf?(image: string): Pick<StartSession, "warmup" | "snapshotOf">;
  startTimeoutMs: number;
  /** Where every notebook's kernel is recorded. */
  sessions: KernelSessionStore;
  /** Who a kernel started without a user (a worker connecting, a restart) is recorded as. */
  userId: string;
  /** Other gateway replicas share the rows: what this one read may be stale, and a kernel whose
   * worker is connected elsewhere is theirs (see KernelRouter). */
  shared?: boolean;
  /** Whether another replica runs the notebook's kernel now (shared only). */
  ownedElsewhere?(notebookId: string): Promise<boolean>;
  /** How long a kernel waits for a worker whose connection dropped before it is dead (workers
   * keep their kernels for CELLAR_GATEWAY_GRACE_S and redial within a second). */
  lostWorkerGraceMs?: number;
  /** After a cell on a GPU, whether the next CPU cell moves the kernel back ("return", the
   * default: the GPU is freed) or runs where the kernel is ("stay"). */
  devicePolicyOf?(notebookId: string): "return" | "stay";
}

const DEFAULT_LOST_WORKER_GRACE_MS = 30_000;

export type SendResult = { ok: true } | { ok: false; error: string };

export interface KernelStatusChange {
  notebookId: string;
  status: KernelStatus;
  reason?: string;
  placement?: KernelPlacement;
}

/** A message a notebook's kernel sent, as the browsers get it (`cellId`: the run it belongs to). */
export interface KernelMessageEvent {
  notebookId: string;
  message: JupyterMessage;
  cellId?: string;
}

export class KernelManager {
  private byNotebook = new Map<string, KernelSession>();
  private bySession = new Map<string, KernelSession>();
  /** The worker each notebook's kernel last ran on: its workspace lives there. */
  private lastWorker = new Map<string, string>();
  private readonly statusListeners = new Set<(change: KernelStatusChange) => void>();
  private readonly messageListeners = new Set<(event: KernelMessageEvent) => void>();
  /** Starts under way, so that two opens of one notebook make one kernel. */
  private readonly starting = new Map<string, Promise<KernelSession>>();
  /** Shutting down: its workers' connections close, and that loses no kernel. */
  private closing = false;
  /** Cells waiting for a busy device, first come first served. */
  private deviceWaiters: DeviceWaiter[] = [];

  constructor(private readonly opts: KernelManagerOptions) {}

  /** Calls `listener` with every status change of every notebook's kernel, before the browsers
   * hear of it (the terminal relay ends the kernel's terminals). Returns the unsubscribe. */
  onStatusChange(listener: (change: KernelStatusChange) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Calls `listener` with every message a kernel of this gateway relays to the browsers, for
   * in-process clients (the notebook runner) that watch a run as a page would. Returns the
   * unsubscribe. */
  onKernelMessage(listener: (event: KernelMessageEvent) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  status(notebookId: string): { status: KernelStatus; reason?: string } | undefined {
    const k = this.byNotebook.get(notebookId);
    return k && { status: k.status, reason: k.reason };
  }

  /** Whether this gateway runs the notebook's kernel: it is starting here, or its worker is
   * connected here (or requests for it are held here). Other replicas forward to the one that does. */
  ownsLive(notebookId: string): boolean {
    const k = this.byNotebook.get(notebookId);
    if (this.starting.has(notebookId)) return true;
    if (!k) return false;
    if (k.held.length > 0) return true;
    return k.status !== "dead" && !k.awaitingWorker && k.workerId !== null && this.opts.pool.get(k.workerId) !== undefined;
  }

  /** Whether `op` on the notebook would put a kernel on a worker (start one, or resume a suspended
   * one whose worker is gone): the router then picks the worker cluster-wide first. */
  wouldPlace(notebookId: string, op: "open" | "send" | "restart"): boolean {
    const k = this.byNotebook.get(notebookId);
    if (op === "restart") return true;
    if (!k || (k.status === "disconnected" && !k.awaitingWorker)) return op === "open";
    return op === "send" && k.status === "suspended" && !this.ownsLive(notebookId);
  }

  /** Reads the notebook's row again unless this gateway runs its kernel: another replica may
   * have started, suspended or stopped it since (shared only). */
  async reload(notebookId: string): Promise<void> {
    if (!this.opts.shared || this.ownsLive(notebookId)) return;
    let row: KernelSessionRecord | null;
    try {
      row = await this.opts.sessions.get(notebookId);
    } catch (e) {
      return console.error(`gateway: could not read the kernel of notebook ${notebookId}:`, e);
    }
    if (this.ownsLive(notebookId)) return;
    const k = this.byNotebook.get(notebookId);
    if (k && row && k.sessionId === row.sessionId && storedStatus(k.status) === row.status) return;
    if (k) {
      this.forget(k);
      this.byNotebook.delete(notebookId);
    }
    if (row) this.load(row);
  }

  /** Reads back every notebook's kernel from the database (at start, before any worker or
   * browser connects): suspended kernels stay suspended, dead ones dead, and the others wait for
   * their worker to reconnect and report them. */
  async restore(): Promise<number> {
    const rows = await this.opts.sessions.list();
    for (const row of rows) if (!this.byNotebook.has(row.notebookId)) this.load(row);
    return rows.length;
  }

  /** Starts a kernel for the notebook unless it has a live one. A dead kernel stays dead until
   * the user restarts it, so they can read why it died. */
  async ensureKernel(notebookId: string, startedBy?: string): Promise<KernelStatus> {
    const existing = this.byNotebook.get(notebookId);
    if (existing && !(existing.status === "disconnected" && !existing.awaitingWorker)) return existing.status;
    return (await this.start(notebookId, undefined, startedBy)).status;
  }

  /** Resolves once every status change so far is written and announced. */
  async settled(): Promise<void> {
    await Promise.all([...this.byNotebook.values()].map((k) => k.writes));
  }

  /** The connected worker holding, or last holding, the notebook's kernel (and so its workspace). */
  workerOf(notebookId: string): ConnectedWorker | undefined {
    const id = this.workerIdOf(notebookId);
    return id ? this.opts.pool.get(id) : undefined;
  }

  /** The worker holding, or last holding, the notebook's kernel, connected here or not. */
  workerIdOf(notebookId: string): string | undefined {
    return this.byNotebook.get(notebookId)?.workerId ?? this.lastWorker.get(notebookId);
  }

  send(notebookId: string, msg: JupyterMessage, by?: Requester): SendResult {
    const current = this.byNotebook.get(notebookId);
    if (current?.moving) {
      current.moving.push({ msg, by });
      return { ok: true };
    }
    if (current && hasMsgType(msg, "execute_request") && current.status !== "dead" && this.opts.packages) {
      const pip = pipCell(msg);
      if (pip && "error" in pip) {
        this.failRun(current, msg, by, "UsageError", pip.error);
        return { ok: true };
      }
      const changes = pip?.commands.filter((c): c is Exclude<PipCommand, { op: "list" }> => c.op !== "list") ?? [];
      if (pip && changes.length) {
        current.moving = [{ msg: pip.message, by }];
        void this.changePackages(current, changes);
        return { ok: true };
      }
      // `%pip list` alone: the kernel itself says what it can import.
      if (pip) msg = pip.message;
    }
    if (current && hasMsgType(msg, "execute_request") && current.status !== "dead") {
      const asked = requestedDevice(msg);
      if ("error" in asked) {
        this.failRun(current, msg, by, "UsageError", asked.error);
        return { ok: true };
      }
      msg = asked.message;
      if (this.mustMove(current, asked.device)) {
        current.moving = [{ msg, by }];
        void this.move(current, { device: asked.device });
        return { ok: true };
      }
    }
    const held = this.byNotebook.get(notebookId);
    if (held && this.mustHold(held)) {
      // No worker to resume it on yet (this gateway just restarted, or its worker is leaving and
      // still uploading its checkpoint): the request waits, and resumes the kernel when it can,
      // rather than the click being lost.
      if (held.held.length >= MAX_HELD_REQUESTS)
        return { ok: false, error: "No worker is connected; the suspended kernel resumes once one is." };
      this.noteRequest(held, msg, by);
      held.held.push(msg);
      return { ok: true };
    }
    const target = this.relayTarget(notebookId, "run code");
    if (!target.ok) return target;
    this.noteRequest(target.k, msg, by);
    // A cell on a GPU says where it ran (a CPU cell on a CPU kernel is the ordinary case).
    if (hasMsgType(msg, "execute_request") && target.k.device.kind === "gpu" && target.k.placement)
      this.addOutputs(target.k, placementOutputs(msg, { ...target.k.placement, device: formatPlacementDevice(target.k), skipped: [] }));
    this.relay(target.k, target.worker, msg);
    return { ok: true };
  }

  /** Whether a cell asking for `device` must move the kernel first. */
  private mustMove(k: KernelSession, device: DeviceRequest): boolean {
    if (sameDevice(k.device, device)) return false;
    if (device.kind === "cpu" && this.opts.devicePolicyOf?.(k.notebookId) === "stay") return false;
    return true;
  }

  /** Messages the gateway makes for a run (parented to its request), recorded and relayed as
   * the kernel's own are. */
  private addOutputs(k: KernelSession, messages: JupyterMessage[]): void {
    for (const m of messages) this.onWorkerMessage(k.sessionId, m);
  }

  /** The run fails before reaching any kernel (a bad %%gpu line, a device nobody has). */
  private failRun(k: KernelSession, msg: JupyterMessage, by: Requester | undefined, ename: string, evalue: string): void {
    // A run that began here (a %pip build) keeps what it printed so far.
    if (!k.requests.has(msg.header.msg_id)) this.noteRequest(k, msg, by);
    this.addOutputs(k, failedRun(msg, ename, evalue));
  }

  /** Takes a cell out of the line for a busy device: its run fails as cancelled. A cell that is
   * not waiting (it was placed meanwhile) is left alone. */
  cancelQueued(notebookId: string, cellId: string): SendResult {
    const w = this.deviceWaiters.find((x) => x.notebookId === notebookId && x.cellId === cellId);
    if (!w) return { ok: true };
    this.dropWaiter(w);
    w.reject(new MoveError("Cancelled", `Cancelled while waiting for ${formatDevice(w.device)}.`));
    return { ok: true };
  }

  /** A cell's %pip install/uninstall: its run begins here and shows the build's progress; the
   * kernel then moves onto the new image (variables kept), the notebook records its packages, and
   * the rest of the cell runs there. A failed build leaves the kernel and the packages as they were. */
  private async changePackages(k: KernelSession, commands: Array<Exclude<PipCommand, { op: "list" }>>): Promise<void> {
    const first = k.moving![0]!;
    this.noteRequest(k, first.msg, first.by);
    // Never sent to the kernel: the move must not wait for its reply.
    k.unanswered.delete(first.msg.header.msg_id);
    const say = (line: string) => this.addOutputs(k, [streamOutput(first.msg, `${line}\n`)]);
    try {
      const change = await this.opts.packages!.change(k.notebookId, commands, say);
      say(`moving the kernel onto ${change.image.name}, with its variables…`);
      const moved = await this.move(k, { device: k.device, image: change.image, continues: true });
      if (moved)
        await change.record().catch((error: Error) => {
          // The kernel has the packages; only the notebook does not remember them.
          console.error(`gateway: the packages of notebook ${k.notebookId} were not recorded:`, error);
          const now = this.byNotebook.get(k.notebookId);
          if (now)
            this.addOutputs(now, [
              streamOutput(
                first.msg,
                `The packages were not saved with the notebook (${error.message}); the next session will not have them.\n`,
                "stderr",
              ),
            ]);
        });
    } catch (error) {
      const queue = k.moving?.splice(0) ?? [];
      k.moving = undefined;
      this.failRun(k, first.msg, first.by, "PipError", (error as Error).message);
      for (const r of queue.slice(1)) this.send(k.notebookId, r.msg, r.by);
    }
  }

  /** Moves the notebook's kernel to a worker that has `device` (and onto `image`, for %pip), with
   * its namespace and workspace, then runs what waited for it there. The old kernel is stopped
   * once the new one has the namespace; if anything fails first, the old kernel stays and the
   * cell says why. `continues`: the first request's run began before the move (its outputs so far
   * are kept). Resolves with whether the kernel moved. */
  private async move(k: KernelSession, target: { device: DeviceRequest; image?: KernelImage; continues?: boolean }): Promise<boolean> {
    const { device } = target;
    const first = k.moving![0]!;
    const cellId = typeof first.msg.metadata.cellId === "string" ? first.msg.metadata.cellId : undefined;
    const began = performance.now();
    const nextId = randomUUID();
    let placed: { worker: ConnectedWorker; gpus: number[] } | undefined;
    let next: KernelSession | undefined;
    // The old worker holds the move's files until told it is over, however it ends.
    let movedFrom: { worker: ConnectedWorker; moveId: string } | undefined;
    try {
      if (this.opts.pool.offering(device).length === 0)
        throw new MoveError(
          "DeviceUnavailable",
          noWorkerOffers(
            device,
            this.opts.pool.placeable().map((w) => w.resources),
          ),
        );
      placed = this.opts.pool.pickFor(device);
      if (placed) this.opts.pool.takeGpus(placed.worker, nextId, placed.gpus);
      else placed = await this.waitForDevice({ notebookId: k.notebookId, cellId, device, sessionId: nextId });
      await this.untilIdle(k);
      const from = k.workerId ? this.opts.pool.get(k.workerId) : undefined;
      if (!from) throw new MoveError("KernelMoveError", "The kernel's worker is gone; restart the kernel.");
      const moveId = randomUUID();
      // Lets the new worker, and no one else, fetch the move's files from the old one.
      const token = randomBytes(24).toString("base64url");
      const exported = await this.ask(
        from,
        "session:export-state",
        { sessionId: k.sessionId, moveId, local: placed.worker === from, token },
        "write the kernel's variables out",
      );
      const exportReport = stateExportReportSchema.parse(exported.report);
      // The move's files (listed unless the move is local) come straight from the old worker
      // while the new kernel starts in the rest of the workspace.
      const files = exported.files === undefined ? undefined : z.array(moveFileSchema).parse(exported.files);
      if (files) movedFrom = { worker: from, moveId };
      next = this.trackStandby(k, nextId, device, placed.gpus, target.image ?? k.image);
      const isolation = await this.startCarrying(next, placed.worker, String(exported.workspace), {
        from,
        moveId,
        token,
        files: files ?? [],
      });
      const imported = await this.ask(placed.worker, "session:import-state", { sessionId: next.sessionId, moveId }, "load the variables");
      const importReport = stateImportReportSchema.parse(imported.report);
      await this.swap(k, next, placed.worker, isolation);
      const placement = {
        ...next.placement!,
        device: formatPlacementDevice(next),
        moved: {
          from: from.id,
          names: importReport.names.length,
          bytes: exportReport.bytes,
          seconds: (performance.now() - began) / 1000,
        },
        skipped: leftBehind(exportReport.skipped, importReport.failed),
      };
      const queue = k.moving!.splice(0);
      k.moving = undefined;
      if (target.continues) this.continueRequest(next, first.msg);
      else this.noteRequest(next, first.msg, first.by);
      if (!target.image) this.addOutputs(next, placementOutputs(first.msg, placement));
      else {
        const { names, bytes, seconds } = placement.moved;
        const text = `the kernel is on ${target.image.name}: ${names} ${names === 1 ? "name" : "names"} (${formatBytes(bytes)}) moved in ${seconds.toFixed(1)} s\n`;
        this.addOutputs(next, [streamOutput(first.msg, text)]);
        if (placement.skipped.length)
          this.addOutputs(next, [streamOutput(first.msg, skippedNamesText(placement.skipped, placement.device), "stderr")]);
      }
      this.relay(next, placed.worker, first.msg);
      for (const r of queue.slice(1)) this.send(k.notebookId, r.msg, r.by);
      return true;
    } catch (error) {
      const e =
        error instanceof MoveError ? error : new MoveError("KernelMoveError", `The kernel could not move: ${(error as Error).message}`);
      if (!(error instanceof MoveError)) console.error(`gateway: moving the kernel of notebook ${k.notebookId} failed:`, error);
      if (placed) this.opts.pool.releaseGpus(placed.worker, nextId);
      if (next) {
        this.bySession.delete(next.sessionId);
        placed?.worker.sessions.delete(next.sessionId);
        placed?.worker.socket.emit("session:stop", { sessionId: next.sessionId }, () => {});
      }
      const queue = k.moving?.splice(0) ?? [];
      k.moving = undefined;
      this.failRun(k, first.msg, first.by, e.ename, e.message);
      for (const r of queue.slice(1)) this.send(k.notebookId, r.msg, r.by);
      this.serveWaiters();
      return false;
    } finally {
      if (movedFrom) {
        const { worker, moveId } = movedFrom;
        for (const w of new Set([worker, placed?.worker]))
          w?.socket.timeout(30_000).emit("move:drop", { moveId }, (err: Error | null, r?: { ok: boolean; error?: string }) => {
            // Unanswered: the worker is gone, or drops what it holds when it starts again.
            if (!err && r && !r.ok) console.warn(`gateway: worker ${w.id} could not drop move ${moveId}: ${r.error}`);
          });
      }
    }
  }

  /** Starts the move's kernel on `to` and, meanwhile, has the move's files carried there from the
   * old worker; either failing stops the other. */
  private async startCarrying(next: KernelSession, to: ConnectedWorker, workspace: string, move: CarriedMove): Promise<Isolation> {
    let givenUp = false;
    const giveUp = (err: unknown): never => {
      givenUp = true;
      throw err;
    };
    const [isolation] = await Promise.all([
      this.startStandby(next, to, workspace).catch(giveUp),
      this.carryMove(to, move, () => givenUp).catch(giveUp),
    ]);
    return isolation;
  }

  /** The new worker fetches the move's files from the old one's move server; where it has none,
   * or cannot reach it, this gateway carries them (move-relay.ts). */
  private async carryMove(to: ConnectedWorker, move: CarriedMove, cancelled: () => boolean): Promise<void> {
    const { from, moveId, token, files } = move;
    if (!files.length) return;
    const began = performance.now();
    const done = (how: string, bytes: number) =>
      console.log(
        `gateway: move ${moveId}: ${bytes} bytes from ${from.id} to ${to.id} ${how} in ${(performance.now() - began).toFixed(0)} ms`,
      );
    if (from.moveUrl) {
      const fetched = await answerOf<{ bytes: number }, "move:fetch">(
        to.socket,
        "move:fetch",
        { moveId, url: from.moveUrl, token, files },
        MOVE_STEP_TIMEOUT_MS,
      );
      if (fetched.ok) return done("fetched straight", fetched.bytes);
      if (cancelled()) return;
      // Gone, it cannot take the pieces either.
      if (!to.socket.connected) throw new MoveError("KernelMoveError", `Worker ${to.id} could not fetch the variables: ${fetched.error}`);
      console.warn(`gateway: worker ${to.id} could not fetch move ${moveId} from ${from.id} (${fetched.error}); carrying it here instead`);
    }
    try {
      done("carried by this gateway", await relayMoveFiles(from, to, moveId, files, { pieceTimeoutMs: MOVE_PIECE_TIMEOUT_MS, cancelled }));
    } catch (err) {
      throw err instanceof MoveRelayError
        ? new MoveError("KernelMoveError", `The variables could not be carried over: ${err.message}`)
        : err;
    }
  }

  /** A worker's answer to a move step, or the step's failure as a MoveError. */
  private async ask(
    worker: ConnectedWorker,
    event: "session:export-state" | "session:import-state",
    payload: { sessionId: string; moveId: string; local?: boolean; token?: string },
    doing: string,
  ): Promise<Record<string, unknown>> {
    const res = await answerOf(worker.socket, event, payload, MOVE_STEP_TIMEOUT_MS);
    if (!res.ok) throw new MoveError("KernelMoveError", `Worker ${worker.id} could not ${doing}: ${res.error}`);
    return res;
  }

  /** Waits until the kernel has no cell running (a move carries the state after the cells before
   * it), resuming it if it is suspended. */
  private async untilIdle(k: KernelSession): Promise<void> {
    let woke = false;
    for (;;) {
      if (this.byNotebook.get(k.notebookId) !== k) throw new MoveError("KernelMoveError", "The kernel was restarted meanwhile.");
      if (k.status === "dead") throw new MoveError("KernelDied", k.reason ?? "The kernel died.");
      if (k.status === "idle" && k.unanswered.size === 0) return;
      if (k.status === "suspended" && !woke) {
        woke = true;
        const target = this.relayTarget(k.notebookId, "move it");
        if (!target.ok) throw new MoveError("KernelMoveError", target.error);
        this.relay(k, target.worker, makeMessage("kernel_info_request", {}, { channel: "shell" }));
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** The session a move starts, known by its id (its worker's messages find it) but not yet the
   * notebook's kernel. */
  private trackStandby(k: KernelSession, sessionId: string, device: DeviceRequest, gpus: number[], image?: KernelImage): KernelSession {
    const next: KernelSession = { ...this.newSession(k.notebookId, sessionId), status: "starting", device, gpus, image };
    this.bySession.set(sessionId, next);
    return next;
  }

  /** Starts the standby kernel with the exported workspace; resolves with its isolation once it
   * is idle. */
  private startStandby(next: KernelSession, worker: ConnectedWorker, workspace: string): Promise<Isolation> {
    const image = next.image;
    if (!image) return Promise.reject(new MoveError("KernelMoveError", "The kernel's image is not known; restart the kernel."));
    next.workerId = worker.id;
    worker.sessions.add(next.sessionId);
    return new Promise<Isolation>((resolve, reject) => {
      let isolation: Isolation = "gvisor";
      let up = false;
      // Laying a large workspace out is part of this start: it gets a move step's time too.
      const limitMs = this.opts.startTimeoutMs + MOVE_STEP_TIMEOUT_MS;
      const timer = setTimeout(() => {
        next.standby = undefined;
        reject(new MoveError("KernelMoveError", `The kernel on worker ${worker.id} did not start within ${Math.round(limitMs / 1000)} s.`));
      }, limitMs);
      timer.unref?.();
      const settle = (status: WorkerStatus, reason?: string) => {
        next.status = status;
        if (status === "dead") {
          clearTimeout(timer);
          next.standby = undefined;
          reject(new MoveError("KernelMoveError", `The kernel on worker ${worker.id} failed to start: ${reason ?? "it died"}`));
        } else if (status === "idle" && up) {
          clearTimeout(timer);
          next.standby = undefined;
          resolve(isolation);
        }
      };
      next.standby = settle;
      worker.socket.emit(
        "session:start",
        {
          sessionId: next.sessionId,
          notebookId: next.notebookId,
          image: image.name,
          imageId: image.id,
          limits: this.opts.limits,
          ...this.opts.warmStartOf?.(image.name),
          device: next.device,
          gpus: next.gpus,
          workspace,
        },
        (res) => {
          if (!res.ok) return settle("dead", res.error);
          isolation = res.isolation ?? "gvisor";
          next.placement = { device: next.device, workerId: worker.id, workerClass: workerClassOf(worker.resources), isolation };
          up = true;
          if (next.status === "idle") settle("idle");
        },
      );
    });
  }

  /** The standby kernel becomes the notebook's (its row first, as a start does); the old one stops. */
  private async swap(old: KernelSession, next: KernelSession, worker: ConnectedWorker, isolation: Isolation): Promise<void> {
    if (this.byNotebook.get(old.notebookId) !== old) throw new MoveError("KernelMoveError", "The kernel was restarted meanwhile.");
    const claim = await this.opts.sessions.claim(
      {
        notebookId: old.notebookId,
        sessionId: next.sessionId,
        workerId: worker.id,
        image: next.image!.name,
        imageId: next.image!.id,
        status: "starting",
        startedBy: this.opts.userId,
      },
      old.sessionId,
    );
    if (!claim.won) throw new MoveError("KernelMoveError", "Another gateway took over the kernel meanwhile.");
    next.placement = { device: next.device, workerId: worker.id, workerClass: workerClassOf(worker.resources), isolation };
    this.lastWorker.set(old.notebookId, worker.id);
    next.moving = undefined;
    this.byNotebook.set(old.notebookId, next);
    // Announced as a start that finished: pages and the row hear "idle" on the new worker.
    next.status = "starting";
    this.setStatus(next, "idle");
    const from = old.workerId ? this.opts.pool.get(old.workerId) : undefined;
    this.forget(old);
    await Promise.all([old.recorder.flush(), old.widgets.flush()]);
    from?.socket.emit("session:stop", { sessionId: old.sessionId }, () => {});
    this.serveWaiters();
  }

  /** Waits for a free worker with the device, telling the cell its place in line. */
  private waitForDevice(w: Omit<DeviceWaiter, "resolve" | "reject">): Promise<{ worker: ConnectedWorker; gpus: number[] }> {
    return new Promise((resolve, reject) => {
      this.deviceWaiters.push({ ...w, resolve, reject });
      this.announceQueue();
    });
  }

  private dropWaiter(w: DeviceWaiter): void {
    this.deviceWaiters = this.deviceWaiters.filter((x) => x !== w);
    if (w.cellId)
      this.opts.emit(w.notebookId, "cell:queued", { notebookId: w.notebookId, cellId: w.cellId, device: w.device, position: 0 });
    this.announceQueue();
  }

  /** Every waiting cell hears its place among those waiting for the same device. */
  private announceQueue(): void {
    const ahead = new Map<string, number>();
    for (const w of this.deviceWaiters) {
      const key = formatDevice(w.device).toLowerCase();
      const position = (ahead.get(key) ?? 0) + 1;
      ahead.set(key, position);
      if (w.cellId) this.opts.emit(w.notebookId, "cell:queued", { notebookId: w.notebookId, cellId: w.cellId, device: w.device, position });
    }
  }

  /** A GPU was freed or a worker connected: the first waiters that now fit are placed. */
  private serveWaiters(): void {
    for (const w of [...this.deviceWaiters]) {
      const placed = this.opts.pool.pickFor(w.device);
      if (!placed) {
        if (this.opts.pool.offering(w.device).length === 0) {
          this.dropWaiter(w);
          w.reject(
            new MoveError(
              "DeviceUnavailable",
              noWorkerOffers(
                w.device,
                this.opts.pool.placeable().map((x) => x.resources),
              ),
            ),
          );
        }
        continue;
      }
      this.opts.pool.takeGpus(placed.worker, w.sessionId, placed.gpus);
      this.dropWaiter(w);
      w.resolve(placed);
    }
  }

  /** A run that began on the kernel a move replaced goes on here: its outputs so far are kept
   * (the old kernel's recorder wrote them before the swap). */
  private continueRequest(k: KernelSession, msg: JupyterMessage): void {
    const cellId = typeof msg.metadata.cellId === "string" ? msg.metadata.cellId : undefined;
    k.unanswered.add(msg.header.msg_id);
    if (!cellId) return;
    k.requests.set(msg.header.msg_id, cellId);
    k.recorder.resume(cellId);
  }

  private noteRequest(k: KernelSession, msg: JupyterMessage, by?: Requester): void {
    if (msg.header.msg_type !== "execute_request") return;
    k.unanswered.add(msg.header.msg_id);
    const cellId = typeof msg.metadata.cellId === "string" ? msg.metadata.cellId : undefined;
    if (cellId) {
      k.requests.set(msg.header.msg_id, cellId);
      k.recorder.begin(cellId);
      if (by) this.opts.emit(k.notebookId, "cell:ran", { notebookId: k.notebookId, cellId, by });
    }
    const ran = cellId && by ? { cellId, userId: by.id } : undefined;
    this.opts.store.markRun(k.notebookId, ran).catch((e) => console.error("gateway: markRun failed:", e));
  }

  private relay(k: KernelSession, worker: ConnectedWorker, msg: JupyterMessage): void {
    const echo = k.inputEcho.answer(msg);
    worker.socket.emit("session:send", { sessionId: k.sessionId, message: msg });
    if (echo) this.onWorkerMessage(k.sessionId, echo);
  }

  /** Whether requests for this suspended kernel must wait: its worker is draining (the checkpoint
   * may not be in the CAS yet), or it has none and no worker can take it. */
  private mustHold(k: KernelSession): boolean {
    if (k.status !== "suspended") return false;
    const worker = k.workerId ? this.opts.pool.get(k.workerId) : undefined;
    return worker ? worker.draining : !this.opts.pool.pick();
  }

  /** Requests held while no worker could take the kernel go now (the first resumes it). */
  private releaseHeld(k: KernelSession): void {
    if (!k.held.length || this.mustHold(k)) return;
    const target = this.relayTarget(k.notebookId, "run code");
    const held = k.held.splice(0);
    if (!target.ok) return console.warn(`gateway: dropped ${held.length} held request(s) of notebook ${k.notebookId}: ${target.error}`);
    for (const msg of held) this.relay(target.k, target.worker, msg);
  }

  /** Relays a terminal request to the worker holding the notebook's kernel, as `send` does (so it
   * wakes a suspended kernel). Answers which kernel session got it. */
  sendTerminal(notebookId: string, req: TerminalRequest): { ok: true; sessionId: string } | { ok: false; error: string } {
    const target = this.relayTarget(notebookId, "open a terminal", { explainMissing: true });
    if (!target.ok) return target;
    const { k, worker } = target;
    worker.socket.emit("session:terminal", { sessionId: k.sessionId, request: req });
    return { ok: true, sessionId: k.sessionId };
  }

  /** The browser saved the notebook; outputs of cells that were not saved yet can land now. */
  onNotebookSaved(notebookId: string): void {
    void this.byNotebook.get(notebookId)?.recorder.retryUnsaved();
  }

  /** "Clear outputs" from a browser: the cells' recorded outputs and counts are dropped for good,
   * through the recorder when the notebook has a kernel so a pending write cannot bring them back. */
  async clearOutputs(notebookId: string, cellIds: string[]): Promise<void> {
    const recorder = this.byNotebook.get(notebookId)?.recorder;
    if (!recorder) {
      await Promise.all(cellIds.map((id) => this.opts.store.saveCellOutputs(notebookId, id, [], null)));
      return;
    }
    for (const id of cellIds) recorder.begin(id);
    await recorder.flush();
  }

  interrupt(notebookId: string): SendResult {
    // A cell waiting for a busy device is taken out of the line, as a queued cell is by Jupyter.
    for (const w of this.deviceWaiters.filter((x) => x.notebookId === notebookId)) {
      this.dropWaiter(w);
      w.reject(new MoveError("Cancelled", `Interrupted while waiting for ${formatDevice(w.device)}.`));
    }
    const k = this.byNotebook.get(notebookId);
    const worker = k?.workerId ? this.opts.pool.get(k.workerId) : undefined;
    if (!k || !worker) return { ok: false, error: "No running kernel to interrupt." };
    worker.socket.emit("session:interrupt", { sessionId: k.sessionId });
    return { ok: true };
  }

  async restart(notebookId: string): Promise<SendResult> {
    const old = this.byNotebook.get(notebookId);
    if (old) {
      this.setStatus(old, "restarting");
      await this.stopSession(old);
    }
    await this.start(notebookId, old?.sessionId);
    return { ok: true };
  }

  /** The notebook is gone (deleted): its kernel stops and frees the worker's slot. */
  async stop(notebookId: string): Promise<void> {
    const k = this.byNotebook.get(notebookId);
    if (!k) return;
    this.byNotebook.delete(notebookId);
    await this.stopSession(k);
    await this.opts.sessions.remove(k.sessionId).catch((e) => console.error("gateway: could not forget a kernel session:", e));
  }

  /** A message from the kernel (`meta` from its worker; none for the gateway's own echo). */
  onWorkerMessage(sessionId: string, msg: JupyterMessage, meta?: MessageMeta): void {
    const k = this.bySession.get(sessionId);
    // A move's standby kernel says nothing to the pages until it is the notebook's.
    if (!k || this.byNotebook.get(k.notebookId) !== k) return;
    const stream = meta && streamOf(sessionId, meta.epoch);
    if (meta && stream) {
      // Sent again after a lost connection, and already had.
      if (stream === k.stream && meta.seq <= k.lastSeq) return;
      // Otherwise the same stream goes on, or a new one starts (the kernel was resumed by another
      // worker process, which numbers from 1).
      k.stream = stream;
      k.lastSeq = meta.seq;
      this.scheduleAck(k);
    }
    k.inputEcho.fromKernel(msg);
    k.widgets.record(msg);
    k.captures.follow(msg);
    const parentId = parentIdOf(msg);
    if (parentId && msg.header.msg_type === "execute_reply") k.unanswered.delete(parentId);
    let cellId = parentId ? k.requests.get(parentId) : undefined;
    if (!cellId && parentId && meta?.cellId && msg.header.msg_type !== "execute_reply") {
      // A run this gateway did not start (it restarted meanwhile): its outputs continue the cell's.
      cellId = meta.cellId;
      k.requests.set(parentId, cellId);
      k.recorder.resume(cellId);
    }
    let relay = true;
    // An Output widget's capture (interact's result) goes to the pages, whose widget fills with
    // it, but not into the cell: a reload would show it twice.
    if (cellId && !k.captures.takerOf(msg)) {
      relay = k.recorder.record(cellId, msg, stream && meta ? { stream, seq: meta.seq } : undefined);
      if (msg.header.msg_type === "execute_reply") {
        k.requests.delete(parentId!);
        void k.recorder.flush(cellId);
      }
    }
    if (!relay) return;
    if (meta && stream) {
      k.recent.push({ stream, seq: meta.seq, message: msg, cellId });
      if (k.recent.length > RECENT_MESSAGES) k.recent.splice(0, k.recent.length - RECENT_MESSAGES);
    }
    for (const listener of this.messageListeners) listener({ notebookId: k.notebookId, message: msg, cellId });
    this.opts.emit(k.notebookId, "kernel:message", { notebookId: k.notebookId, message: msg, stream, seq: meta?.seq, cellId });
  }

  /** What a page that reconnects at `from` missed of the notebook's kernel, if this gateway can
   * say: the messages to send it now, or null when it must read the outputs back instead. */
  missedSince(
    notebookId: string,
    from: StreamPosition | undefined,
  ): Array<{ message: JupyterMessage; stream: string; seq: number; cellId?: string }> | null {
    const k = this.byNotebook.get(notebookId);
    if (!k || !from || !from.stream.startsWith(`${k.sessionId}:`)) return null;
    // Nothing from this kernel yet on this gateway (it restarted): its worker sends again what
    // was not recorded, and the page drops what it has had by number.
    if (k.stream === undefined) return [];
    if (from.stream !== k.stream) return null;
    if (from.seq >= k.lastSeq) return [];
    const first = k.recent.find((r) => r.stream === k.stream)?.seq;
    if (first === undefined || first > from.seq + 1) return null;
    return k.recent.filter((r) => r.stream === k.stream && r.seq > from.seq);
  }

  /** The outputs of the notebook's running cells as recorded so far (once the recorded outputs of
   * runs continued from another gateway are read): with the messages after them, a page that
   * cannot be replayed what it missed has the whole of those cells, in order. */
  async liveOutputs(notebookId: string): Promise<Array<{ cellId: string; outputs: Output[]; executionCount: number | null }>> {
    const k = this.byNotebook.get(notebookId);
    if (!k) return [];
    await k.recorder.settled();
    return [...new Set(k.requests.values())].flatMap((cellId) => {
      const state = k.recorder.state(cellId);
      return state ? [{ cellId, outputs: state.outputs, executionCount: state.executionCount }] : [];
    });
  }

  /** Tells the worker, now and then, what is recorded (outputs written), so it can forget it. */
  private scheduleAck(k: KernelSession): void {
    if (k.ackTimer) return;
    k.ackTimer = setTimeout(async () => {
      k.ackTimer = undefined;
      const { seq, stream } = { seq: k.lastSeq, stream: k.stream };
      await k.recorder.flush();
      const worker = k.workerId ? this.opts.pool.get(k.workerId) : undefined;
      const epoch = stream?.slice(k.sessionId.length + 1);
      if (epoch) worker?.socket.emit("session:ack", { sessionId: k.sessionId, epoch, seq });
    }, ACK_EVERY_MS);
    k.ackTimer.unref?.();
  }

  onWorkerStatus(sessionId: string, status: WorkerStatus, reason?: string, suspended?: SuspendedKernelRef): void {
    const k = this.bySession.get(sessionId);
    if (!k) return;
    if (k.standby) return k.standby(status, reason);
    // Restarting: the old session is being stopped and whatever it still says is moot.
    if (k.status === "restarting") return;
    if (!canChangeStatus(k.status, status)) {
      const move = `${k.status}>${status}`;
      k.illegalReports ??= new Set();
      if (!k.illegalReports.has(move)) {
        k.illegalReports.add(move);
        console.warn(`gateway: ignored status ${status} for notebook ${k.notebookId}: a kernel cannot move from ${k.status} to ${status}`);
      }
      return;
    }
    if (status === "suspended") k.suspended = suspended;
    else if (status !== "resuming") k.suspended = undefined;
    if (status !== "starting") clearTimeout(k.startTimer);
    this.setStatus(k, status, reason);
    if (status === "dead") void Promise.all([k.recorder.flush(), k.widgets.flush()]);
  }

  /** A worker's connection dropped. Suspended kernels stay suspended (any worker resumes them from
   * their checkpoint); the others wait for the worker to come back, to this gateway or another
   * replica, for `lostWorkerGraceMs`, and are dead after that. */
  onWorkerLost(sessionIds: string[]): void {
    if (this.closing) return;
    for (const id of sessionIds) {
      const k = this.bySession.get(id);
      if (!k) continue;
      if (k.status === "suspended" && k.suspended) {
        k.workerId = null;
        // Its worker has left, checkpoint uploaded: what waited for that can go elsewhere.
        this.releaseHeld(k);
        continue;
      }
      const workerId = k.workerId;
      if (!workerId || k.status === "dead") continue;
      void this.waitForLostWorker(k, workerId);
    }
    // Cells waiting for a device only this worker had now fail rather than wait for ever.
    this.serveWaiters();
  }

  private async waitForLostWorker(k: KernelSession, workerId: string): Promise<void> {
    // A replica that already adopted it (the worker redialled there first) says so; this one
    // then stays quiet rather than telling every page the kernel is gone.
    if (await this.ownedElsewhere(k.notebookId)) return this.drop(k);
    if (this.byNotebook.get(k.notebookId) !== k || (k.workerId === workerId && this.opts.pool.get(workerId))) return;
    k.awaitingWorker = workerId;
    const graceMs = this.opts.lostWorkerGraceMs ?? DEFAULT_LOST_WORKER_GRACE_MS;
    this.setStatus(k, "disconnected", `The kernel's worker ${workerId} lost its connection; waiting for it to come back.`);
    clearTimeout(k.lostTimer);
    k.lostTimer = setTimeout(async () => {
      if (this.byNotebook.get(k.notebookId) !== k || k.awaitingWorker !== workerId) return;
      if (await this.ownedElsewhere(k.notebookId)) return this.drop(k);
      if (this.byNotebook.get(k.notebookId) !== k || k.awaitingWorker !== workerId) return;
      k.awaitingWorker = undefined;
      this.setStatus(
        k,
        "dead",
        `The worker running this kernel disconnected and did not come back within ${Math.round(graceMs / 1000)} s. Restart to get a new kernel.`,
      );
    }, graceMs);
    k.lostTimer.unref?.();
  }

  private async ownedElsewhere(notebookId: string): Promise<boolean> {
    if (!this.opts.shared || !this.opts.ownedElsewhere) return false;
    return this.opts.ownedElsewhere(notebookId).catch(() => false);
  }

  /** Another replica runs it: this one forgets its copy (it reads the row again when asked). */
  private drop(k: KernelSession): void {
    if (this.byNotebook.get(k.notebookId) !== k) return;
    this.forget(k);
    this.byNotebook.delete(k.notebookId);
  }

  /** A worker connected, saying which kernels it still has. Kernels this gateway (or another
   * replica) knows it runs are adopted as they are; kernels nobody knows are stopped on the worker;
   * kernels waiting for this worker that it no longer has are dead; and kernels that were waiting
   * for any worker start now. */
  async onWorkerConnected(worker: ConnectedWorker, reports: WorkerSessionReport[]): Promise<void> {
    if (this.opts.shared) {
      // Other replicas may have changed these rows since this one read them.
      const stale = [...this.byNotebook.values()].filter(
        (k) => k.awaitingWorker === worker.id || (k.status === "disconnected" && !k.awaitingWorker),
      );
      const ids = new Set([...reports.map((r) => r.notebookId), ...stale.map((k) => k.notebookId)]);
      await Promise.all([...ids].map((id) => this.reload(id)));
    }
    const unknown: WorkerSessionReport[] = [];
    for (const r of reports) {
      const k = this.bySession.get(r.sessionId);
      if (k) this.adoptOrStop(k, worker, r);
      else unknown.push(r);
    }
    for (const k of this.byNotebook.values()) {
      if (k.awaitingWorker !== worker.id || worker.sessions.has(k.sessionId)) continue;
      k.awaitingWorker = undefined;
      this.setStatus(k, "dead", "The kernel's worker came back without it (it restarted); restart to get a new kernel.");
    }
    for (const k of this.byNotebook.values()) if (k.status === "disconnected" && !k.awaitingWorker) void this.start(k.notebookId);
    for (const k of this.byNotebook.values()) this.releaseHeld(k);
    // Started through another replica after this gateway read the database: the row says whose.
    for (const r of unknown) {
      const row = await this.opts.sessions.get(r.notebookId).catch(() => null);
      const known = this.byNotebook.get(r.notebookId);
      if (row?.sessionId === r.sessionId && (!known || known.sessionId === r.sessionId || !this.ownsLive(r.notebookId))) {
        if (known && known.sessionId !== r.sessionId) this.drop(known);
        this.adoptOrStop(this.byNotebook.get(r.notebookId) ?? this.load(row), worker, r);
      } else this.stopOnWorker(worker, r.sessionId, "no notebook's kernel");
    }
  }

  /** Takes over a kernel that `worker` reports, if it is the one the notebook is waiting for;
   * otherwise (a kernel the gateway already gave up on) ends it on the worker. */
  private adoptOrStop(k: KernelSession, worker: ConnectedWorker, r: WorkerSessionReport): void {
    const waiting = k.awaitingWorker === worker.id || (k.status === "suspended" && !k.workerId) || k.workerId === worker.id;
    const fits = k.status === r.status || canChangeStatus(k.status, r.status);
    if (!waiting || !fits || k.status === "dead") return this.stopOnWorker(worker, r.sessionId, `kernel ${k.status}`);
    k.awaitingWorker = undefined;
    clearTimeout(k.lostTimer);
    k.workerId = worker.id;
    worker.sessions.add(k.sessionId);
    this.lastWorker.set(k.notebookId, worker.id);
    if (r.status === "suspended") k.suspended = r.suspended;
    // Relayed by another gateway until now: what that one recorded is where this one's numbering
    // starts, so a page behind it reads back (missedSince) instead of waiting for lines no one
    // sends again.
    if (k.stream === undefined && r.acked && r.acked.seq > 0) {
      k.stream = streamOf(k.sessionId, r.acked.epoch);
      k.lastSeq = r.acked.seq;
    }
    this.setStatus(k, r.status, undefined);
    console.log(`gateway: adopted the ${r.status} kernel of notebook ${k.notebookId} on worker ${worker.id}`);
  }

  private stopOnWorker(worker: ConnectedWorker, sessionId: string, why: string): void {
    console.log(`gateway: worker ${worker.id} still had session ${sessionId} (${why}); stopping it`);
    worker.socket.emit("session:stop", { sessionId }, () => {});
  }

  /** Suspends the notebook's kernel now, if it is idle (the idle timeout does it by itself). */
  async suspend(notebookId: string, timeoutMs = 600_000): Promise<SendResult> {
    const k = this.byNotebook.get(notebookId);
    if (!k) return { ok: false, error: "The notebook has no kernel." };
    if (k.status === "suspended") return { ok: true };
    const worker = k.workerId ? this.opts.pool.get(k.workerId) : undefined;
    if (!worker) return { ok: false, error: "The kernel is not running on any worker." };
    try {
      return await worker.socket.timeout(timeoutMs).emitWithAck("session:suspend", { sessionId: k.sessionId });
    } catch {
      return { ok: false, error: `The worker did not finish suspending the kernel within ${Math.round(timeoutMs / 1000)} s.` };
    }
  }

  /** The gateway is going away: what it recorded is written; the kernels run on (their workers
   * keep them while they reconnect, and this gateway, restarted, or another replica adopts them). */
  async shutdown(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.byNotebook.values()].flatMap((k) => [k.recorder.flush(), k.widgets.flush()]));
    await this.settled();
  }

  /** A kernel known from its row (a restore, or a kernel another replica started). */
  private load(row: KernelSessionRecord): KernelSession {
    const k = this.track(row.notebookId, row.sessionId);
    k.image = { name: row.image, id: row.imageId };
    void k.widgets.resume();
    if (row.workerId) this.lastWorker.set(row.notebookId, row.workerId);
    if (row.status === "suspended" && row.checkpoint) {
      // Any worker may resume it; the one that suspended it still has a local copy, and says so.
      k.status = "suspended";
      k.suspended = { checkpoint: row.checkpoint };
    } else if (row.status === "dead") {
      k.status = "dead";
      k.reason = row.reason ?? undefined;
    } else if (row.workerId) {
      k.awaitingWorker = row.workerId;
      k.reason = `Waiting for worker ${row.workerId}, which runs this kernel, to reconnect.`;
    }
    return k;
  }

  private track(notebookId: string, sessionId: string): KernelSession {
    const k = this.newSession(notebookId, sessionId);
    this.byNotebook.set(notebookId, k);
    this.bySession.set(k.sessionId, k);
    return k;
  }

  /** A session's bookkeeping before anything is known of it: a notebook's kernel (track) and a
   * move's standby kernel (trackStandby) start from the same. */
  private newSession(notebookId: string, sessionId: string): KernelSession {
    return {
      // Starts out "disconnected" so the first real status is always announced.
      sessionId,
      notebookId,
      workerId: null,
      status: "disconnected",
      requests: new Map(),
      unanswered: new Set(),
      recorder: new CellOutputRecorder(notebookId, this.opts.store),
      widgets: new WidgetStateRecorder(notebookId, this.opts.store),
      captures: new OutputCaptures(),
      inputEcho: new InputEcho(),
      writes: Promise.resolve(),
      pendingWrites: 0,
      held: [],
      lastSeq: 0,
      recent: [],
      device: CPU,
      gpus: [],
    };
  }

  private start(notebookId: string, replaces?: string, startedBy?: string): Promise<KernelSession> {
    const pending = this.starting.get(notebookId);
    if (pending) return pending;
    const started = this.startNow(notebookId, replaces, startedBy).finally(() => this.starting.delete(notebookId));
    this.starting.set(notebookId, started);
    return started;
  }

  private async startNow(notebookId: string, replaces?: string, startedBy = this.opts.userId): Promise<KernelSession> {
    const previous = this.byNotebook.get(notebookId);
    if (previous) this.forget(previous);
    const k = this.track(notebookId, randomUUID());
    try {
      k.image = await this.opts.imageFor(notebookId);
    } catch (error) {
      this.setStatus(k, "dead", (error as Error).message);
      return k;
    }
    if (this.byNotebook.get(notebookId) !== k) return this.byNotebook.get(notebookId) ?? k;
    const { name: image, id: imageId } = k.image;
    let worker = this.opts.pool.pick();
    // The row first: a kernel nobody recorded must not run (and two starts race here to one).
    let claim: Awaited<ReturnType<KernelSessionStore["claim"]>>;
    try {
      claim = await this.opts.sessions.claim(
        {
          notebookId,
          sessionId: k.sessionId,
          workerId: worker?.id ?? null,
          image,
          imageId,
          status: worker ? "starting" : "disconnected",
          startedBy,
        },
        replaces ?? previous?.sessionId,
      );
    } catch (error) {
      // Not dead: the next open (or a worker connecting) tries again once the database is back.
      console.error(`gateway: could not record a kernel for notebook ${notebookId}:`, error);
      this.setStatus(k, "disconnected", "The database is unavailable, so the kernel was not started; reopen the notebook to try again.");
      return k;
    }
    if (this.byNotebook.get(notebookId) !== k) return this.byNotebook.get(notebookId) ?? k;
    if (!claim.won) {
      // Another replica started this notebook's kernel first: that one is the kernel.
      this.forget(k);
      this.byNotebook.delete(notebookId);
      return this.load(claim.record);
    }
    if (worker && !this.opts.pool.get(worker.id)) worker = this.opts.pool.pick();
    if (!worker) {
      this.setStatus(k, "disconnected", "No worker is connected; the kernel starts when one connects.");
      return k;
    }
    k.workerId = worker.id;
    this.lastWorker.set(notebookId, worker.id);
    worker.sessions.add(k.sessionId);
    this.setStatus(k, "starting");
    k.startTimer = setTimeout(() => {
      if (k.status === "starting") {
        this.setStatus(k, "dead", `The kernel did not start within ${Math.round(this.opts.startTimeoutMs / 1000)} s.`);
        void this.stopSession(k);
      }
    }, this.opts.startTimeoutMs);
    worker.socket.emit(
      "session:start",
      { sessionId: k.sessionId, notebookId, image, imageId, limits: this.opts.limits, ...this.opts.warmStartOf?.(image) },
      (res) => {
        if (this.bySession.get(k.sessionId) !== k) return;
        if (res.ok) return this.placed(k, worker, res.isolation ?? "gvisor");
        clearTimeout(k.startTimer);
        this.setStatus(k, "dead", `The kernel failed to start: ${res.error}`);
      },
    );
    return k;
  }

  /** The notebook's kernel and the worker to relay a request to, resuming a suspended kernel
   * whose worker left on any worker; or why there is none (`purpose` ends the sentence for a dead
   * kernel; `explainMissing` gives a kernel's own reason, "no worker is connected", when it has
   * no worker). */
  private relayTarget(
    notebookId: string,
    purpose: string,
    { explainMissing = false } = {},
  ): { ok: true; k: KernelSession; worker: ConnectedWorker } | { ok: false; error: string } {
    const k = this.byNotebook.get(notebookId);
    if (k && k.status === "suspended" && !k.workerId) {
      const resumed = this.resumeOnAnyWorker(k);
      if (!resumed.ok) return resumed;
    }
    const noKernel = "The notebook has no kernel; restart it.";
    if (k?.awaitingWorker) return { ok: false, error: k.reason ?? "The kernel's worker is not connected." };
    if (!k || !k.workerId) return { ok: false, error: (explainMissing ? k?.reason : undefined) ?? noKernel };
    if (k.status === "dead") return { ok: false, error: `The kernel is dead; restart it to ${purpose}.` };
    const worker = this.opts.pool.get(k.workerId);
    if (!worker) return { ok: false, error: "The kernel's worker is gone; restart the kernel." };
    if (worker.draining && k.status === "suspended")
      return { ok: false, error: "The kernel's worker is restarting; try again in a moment." };
    return { ok: true, k, worker };
  }

  /** The kernel's worker said it started it: pages hear where it runs. */
  private placed(k: KernelSession, worker: ConnectedWorker, isolation: Isolation): void {
    k.placement = { device: k.device, workerId: worker.id, workerClass: workerClassOf(worker.resources), isolation };
    // Still starting: its "idle" carries the placement. Already up: say it now.
    if (this.byNotebook.get(k.notebookId) === k && k.status !== "starting")
      this.opts.emit(k.notebookId, "kernel:status", {
        notebookId: k.notebookId,
        status: k.status,
        reason: k.reason,
        placement: k.placement,
      });
  }

  /** The suspended kernel's worker is gone: another one takes the session and resumes it from the
   * checkpoint when the request that follows arrives. */
  private resumeOnAnyWorker(k: KernelSession): SendResult {
    const worker = this.opts.pool.pick();
    if (!worker) return { ok: false, error: "No worker is connected; the suspended kernel resumes once one is." };
    if (!k.image || !k.suspended) return { ok: false, error: "The kernel cannot be resumed; restart it." };
    k.workerId = worker.id;
    this.lastWorker.set(k.notebookId, worker.id);
    worker.sessions.add(k.sessionId);
    worker.socket.emit(
      "session:start",
      {
        sessionId: k.sessionId,
        notebookId: k.notebookId,
        image: k.image.name,
        imageId: k.image.id,
        limits: this.opts.limits,
        resume: k.suspended,
      },
      (res) => {
        if (!res.ok && this.bySession.get(k.sessionId) === k)
          this.setStatus(k, "dead", `The suspended kernel could not be resumed: ${res.error}`);
      },
    );
    return { ok: true };
  }

  private async stopSession(k: KernelSession): Promise<void> {
    clearTimeout(k.startTimer);
    await Promise.all([k.recorder.flush(), k.widgets.flush()]);
    const worker = k.workerId ? this.opts.pool.get(k.workerId) : undefined;
    this.bySession.delete(k.sessionId);
    if (!worker) return;
    worker.sessions.delete(k.sessionId);
    if (this.opts.pool.releaseGpus(worker, k.sessionId)) this.serveWaiters();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 10_000);
      worker.socket.emit("session:stop", { sessionId: k.sessionId }, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private forget(k: KernelSession): void {
    // What it last showed is written before a kernel that replaces it can write its own.
    void k.widgets.flush();
    clearTimeout(k.startTimer);
    clearTimeout(k.ackTimer);
    clearTimeout(k.lostTimer);
    this.bySession.delete(k.sessionId);
    const worker = k.workerId ? this.opts.pool.get(k.workerId) : undefined;
    worker?.sessions.delete(k.sessionId);
    if (worker && this.opts.pool.releaseGpus(worker, k.sessionId)) this.serveWaiters();
  }

  /** Changes the kernel's status, records it in its row and then tells the browsers. Running a
   * cell (busy ↔ idle) writes nothing, so it is announced at once unless a write is under way. */
  private setStatus(k: KernelSession, status: KernelStatus, reason?: string): void {
    if (this.byNotebook.get(k.notebookId) !== k) return;
    if (k.status === status && k.reason === reason) return;
    const changed = storedStatus(k.status) !== storedStatus(status) || k.reason !== reason;
    k.status = status;
    k.reason = reason;
    const change: KernelStatusChange = { notebookId: k.notebookId, status, reason, placement: k.placement };
    for (const listener of this.statusListeners) listener(change);
    const announce = () => this.opts.emit(k.notebookId, "kernel:status", change);
    if (!changed && k.pendingWrites === 0) return announce();
    const patch: KernelSessionPatch = changed
      ? {
          status,
          reason: reason ?? null,
          workerId: k.workerId,
          checkpoint: status === "suspended" ? (k.suspended?.checkpoint ?? null) : null,
        }
      : {};
    k.pendingWrites++;
    k.writes = k.writes
      .then(() => (changed ? this.opts.sessions.update(k.sessionId, patch) : undefined))
      .catch((e) => console.error(`gateway: could not record the kernel status of notebook ${k.notebookId}:`, e))
      .then(() => {
        k.pendingWrites--;
        announce();
      });
  }
}

/** The device a kernel runs on, as its cells show it: the model asked for, or (any GPU) the
 * worker's class. */
function formatPlacementDevice(k: KernelSession): string {
  if (k.device.kind === "cpu") return "CPU";
  return k.device.model ? formatDevice(k.device) : (k.placement?.workerClass ?? formatDevice(k.device));
}
