// socket.io event maps. Browser <-> gateway on the default namespace, worker <-> gateway on
// WORKER_NAMESPACE. Every payload crossing a trust boundary is checked with validate.ts.
import type { DeviceRequest, Isolation, MoveFile, StateExportReport, StateImportReport, WorkerResources } from "./devices";
import type { JupyterMessage } from "./jupyter";
import type { KernelStatus, WorkerStatus } from "./kernel-states";
import type { Output } from "./notebook";
import type { NotebookPackages } from "./notebook-packages";
import type { NotebookRole } from "./roles";
import type { WorkspaceFilesEvents } from "./workspace-files";
import type { TerminalBrowserEvents, TerminalFromWorker, TerminalGatewayEvents, TerminalToWorker } from "./terminals";

export const WORKER_NAMESPACE = "/worker";

export type Ack<T = object> = (result: ({ ok: true } & T) | { ok: false; error: string }) => void;

export interface KernelStatusEvent {
  notebookId: string;
  status: KernelStatus;
  /** Why the kernel is dead or disconnected, in words a user can act on. */
  reason?: string;
  /** Where the kernel runs now (absent until placed): the toolbar shows it. */
  placement?: KernelPlacement;
}

/** What device a notebook's kernel is on, on which worker, sandboxed how. */
export interface KernelPlacement {
  device: DeviceRequest;
  workerId: string;
  workerClass: string;
  isolation: Isolation;
}

/** A cell waits for a device that exists but is busy: its place in line (1: next). Sent again as
 * the line moves; `position` 0: it left the line (placed, cancelled or failed). */
export interface CellQueuedEvent {
  notebookId: string;
  cellId: string;
  device: DeviceRequest;
  position: number;
}

/** Where a stream of a kernel's messages stopped. `stream` is `<session id>:<epoch>`: a worker
 * numbers a session's messages from 1 in each of its processes (the epoch), so a kernel resumed
 * by another worker starts a new stream; `seq` is the last number taken from it. */
export interface StreamPosition {
  stream: string;
  seq: number;
}

/** The stream a session's messages from one worker process form. */
export const streamOf = (sessionId: string, epoch: string) => `${sessionId}:${epoch}`;

export interface NotebookOpenRequest {
  notebookId: string;
  /** On a reconnect: the gateway sends what came after it, if it can. */
  resume?: StreamPosition;
  /** A share link's secret (the page was opened from one): its role, if stronger than a grant. */
  link?: string;
}

/** Who ran a cell last, for "last run by" beside it. */
export interface CellRunEvent {
  notebookId: string;
  cellId: string;
  by: { id: string; name: string };
}

/** The caller's role on an open notebook changed (a grant changed, a link was revoked); null:
 * they lost it, and the gateway stopped sending them the notebook's events. */
export interface AccessChangedEvent {
  notebookId: string;
  role: NotebookRole | null;
}

/** A y-protocols sync message (sync step 1, step 2 or an update) of one notebook's shared
 * document (@cellar/notebook-doc), either way. */
export interface DocSyncMessage {
  notebookId: string;
  message: Uint8Array;
}

/** A y-protocols awareness update (who is here: name, colour, cursor), either way. */
export interface DocAwarenessMessage {
  notebookId: string;
  update: Uint8Array;
}

/** Live editing of a notebook the socket opened (notebook:open): any role may sync and send
 * awareness; only an editor's (or owner's) changes are applied, the others' are dropped. */
export interface DocumentBrowserEvents {
  "doc:sync": (p: DocSyncMessage) => void;
  "doc:awareness": (p: DocAwarenessMessage) => void;
  /** Answered once every change this socket sent before it is stored and in the Cell table: what
   * "Saved" means on the page. */
  "doc:flush": (p: { notebookId: string }, ack: Ack) => void;
}

export interface DocumentGatewayEvents {
  "doc:sync": (p: DocSyncMessage) => void;
  "doc:awareness": (p: DocAwarenessMessage) => void;
  /** Said once per notebook and socket: the document was not opened, or this socket's changes
   * are dropped (its role may not edit). */
  "doc:refused": (p: { notebookId: string; reason: string }) => void;
}

export interface BrowserToGateway extends TerminalBrowserEvents, DocumentBrowserEvents {
  /** `replayed`: everything after `resume` was sent (before this answer) or is still to come from
   * the worker; otherwise the page must read the notebook's outputs back. `role`: the caller's. A
   * viewer's open never starts a kernel: they watch the one that runs, if any. */
  "notebook:open": (p: NotebookOpenRequest, ack: Ack<{ status: KernelStatus; replayed: boolean; role: NotebookRole }>) => void;
  "kernel:send": (p: { notebookId: string; message: JupyterMessage }, ack: Ack) => void;
  "kernel:interrupt": (p: { notebookId: string }, ack: Ack) => void;
  "kernel:restart": (p: { notebookId: string }, ack: Ack) => void;
  /** "Clear outputs": the gateway owns outputs, so it forgets them (and the counts) for good. */
  "outputs:clear": (p: ClearOutputsRequest, ack: Ack) => void;
  /** Takes a cell out of the line for a busy device (CellQueuedEvent): it does not run. */
  "cell:cancel-queued": (p: { notebookId: string; cellId: string }, ack: Ack) => void;
}

export interface ClearOutputsRequest {
  notebookId: string;
  cellIds: string[];
}

/** A kernel message for a notebook's pages. `cellId`: the cell whose run it belongs to, so every
 * page shows the run live, whoever started it. */
export interface KernelMessageEvent {
  notebookId: string;
  message: JupyterMessage;
  stream?: string;
  seq?: number;
  cellId?: string;
}

export interface GatewayToBrowser extends TerminalGatewayEvents, DocumentGatewayEvents {
  /** `stream` and `seq` (StreamPosition) are absent on messages the gateway makes itself (the
   * echo of an input() answer). */
  "kernel:message": (p: KernelMessageEvent) => void;
  "kernel:status": (p: KernelStatusEvent) => void;
  "workers:count": (p: { connected: number }) => void;
  /** Someone ran a cell (to every page with the notebook open). */
  "cell:ran": (p: CellRunEvent) => void;
  "cell:queued": (p: CellQueuedEvent) => void;
  "access:changed": (p: AccessChangedEvent) => void;
  /** A cell's %pip changed the notebook's packages (null: none left) and the image it runs on. */
  "notebook:packages": (p: { notebookId: string; image: string; packages: NotebookPackages | null }) => void;
  /** On a reopen whose missed messages the gateway cannot replay: the outputs of the cells still
   * running as it holds them, ahead of their next messages (a page that read them from the
   * database instead could miss lines recorded meanwhile). */
  "kernel:outputs": (p: { notebookId: string; cells: Array<{ cellId: string; outputs: Output[]; executionCount: number | null }> }) => void;
}

export interface WorkerAuth {
  secret: string;
  workerId: string;
  resources: WorkerResources;
  /** The kernels this worker still runs (or holds suspended), sent on every connect: a gateway
   * that restarted, or another replica, adopts them instead of starting new ones. */
  sessions?: WorkerSessionReport[];
  /** Where other workers fetch the files of a state move this worker exported (its move server:
   * `GET <moveUrl><moveId>/<name>` with the move's token); absent, the gateway carries them. */
  moveUrl?: string;
}

export interface WorkerSessionReport {
  sessionId: string;
  notebookId: string;
  status: WorkerStatus;
  /** With status "suspended": what resuming needs. */
  suspended?: SuspendedKernelRef;
  /** The numbering of the kernel's messages (SessionMessageEvent.epoch) and the last one a gateway
   * acknowledged: those are recorded, and are not sent again. */
  acked?: { epoch: string; seq: number };
}

export interface SessionLimits {
  memoryBytes: number;
  pids: number;
}

export interface StartSession {
  sessionId: string;
  notebookId: string;
  /** The image's name, for messages, and its id (hash of its manifest) in the content store. */
  image: string;
  imageId: string;
  limits: SessionLimits;
  /** Modules the image's warm-up imports before its warm snapshot is taken. */
  warmup?: string[];
  /** The parent image whose warm snapshot may restore onto this image while it has none of its
   * own: set for pip layers, which only add files the parent's kernel finds on sys.path. */
  snapshotOf?: { imageId: string; warmup?: string[] };
  /** Resume this suspended kernel instead of starting a fresh one (same session id). */
  resume?: SuspendedKernelRef;
  /** What the kernel runs on; absent: CPU. `gpus`: the indices (GpuInfo.index) it is given. */
  device?: DeviceRequest;
  gpus?: number[];
  /** The notebook's workspace as another worker left it (a manifest id in the content store, from
   * `session:export-state`): laid out in this worker's workspace before the kernel starts, so
   * files follow the kernel. */
  workspace?: string;
}

/** Where a suspended kernel's checkpoint is: the manifest hash of the checkpoint directory in the
 * content store. Any worker can resume the kernel from it. */
export interface SuspendedKernelRef {
  checkpoint: string;
}

/** A kernel message from a worker. `seq` counts the session's messages from 1, so a gateway can
 * drop what it has already had when the worker sends again what was not acknowledged; `cellId`
 * (with `epoch`) names the cell whose run it belongs to, so a gateway that did not see the request (it restarted)
 * still records it in the right cell. */
export interface SessionMessageEvent {
  sessionId: string;
  message: JupyterMessage;
  seq: number;
  /** This worker process's numbering of the session (a random id per outbox). */
  epoch: string;
  cellId?: string;
}

export interface SessionStatusEvent {
  sessionId: string;
  status: WorkerStatus;
  reason?: string;
  /** With status "suspended": what resuming needs. */
  suspended?: SuspendedKernelRef;
}

export interface GatewayToWorker extends WorkspaceFilesEvents, TerminalToWorker {
  /** `isolation`: how the kernel is sandboxed (absent from older workers: gVisor). */
  "session:start": (p: StartSession, ack: Ack<{ isolation?: Isolation }>) => void;
  "session:send": (p: { sessionId: string; message: JupyterMessage }) => void;
  /** Messages up to `seq` are recorded: the worker may forget them. */
  "session:ack": (p: { sessionId: string; epoch: string; seq: number }) => void;
  "session:interrupt": (p: { sessionId: string }) => void;
  "session:stop": (p: { sessionId: string }, ack: Ack) => void;
  /** Suspend the kernel now (if it is idle) rather than after the idle timeout. */
  "session:suspend": (p: { sessionId: string }, ack: Ack) => void;
  /** Writes the kernel's namespace (name by name, dill then cloudpickle) into the workspace under
   * `.cellar/moves/<moveId>`, then stores the workspace in the content store: `workspace` is its
   * manifest id, for the next kernel's `session:start`. The kernel keeps running. `local`: the
   * next kernel starts on this worker, in this very workspace (a %pip move): the move's files stay
   * there for its import, which removes them. Otherwise they are taken out of the workspace before
   * it is stored and listed in `files`, for the new worker to fetch from this one's move server with
   * `token` (`move:fetch`), or for the gateway to carry (`move:read` here, `move:write` there),
   * until `move:drop`. */
  "session:export-state": (
    p: { sessionId: string; moveId: string; local?: boolean; token?: string },
    ack: Ack<{ report: StateExportReport; workspace: string; files?: MoveFile[] }>,
  ) => void;
  /** Loads the move into this kernel's namespace: the files `move:write` brought, else those laid
   * out with `StartSession.workspace` (a local move). The move's files go afterwards. */
  "session:import-state": (p: { sessionId: string; moveId: string }, ack: Ack<{ report: StateImportReport }>) => void;
  /** Up to `length` bytes (at most 8 MiB) of a file of a move this worker exported, from `offset`. */
  "move:read": (p: { moveId: string; name: string; offset: number; length: number }, ack: Ack<{ data: Uint8Array }>) => void;
  /** A piece of a move's file for a kernel this worker is starting; pieces may come in any order. */
  "move:write": (p: { moveId: string; name: string; offset: number; data: Uint8Array }, ack: Ack) => void;
  /** Fetch a move's files from the old worker's move server (`url`: its WorkerAuth.moveUrl) for a
   * kernel this worker is starting; `bytes`: what came. */
  "move:fetch": (p: { moveId: string; url: string; token: string; files: MoveFile[] }, ack: Ack<{ bytes: number }>) => void;
  /** The move is over (imported or given up): this worker forgets its files. */
  "move:drop": (p: { moveId: string }, ack: Ack) => void;
  /** Drop every cached image chunk; mounted images and running kernels carry on, fetching again. */
  "cache:drop": (p: Record<string, never>, ack: Ack<{ droppedBytes: number }>) => void;
}

export interface WorkerToGateway extends TerminalFromWorker {
  "session:message": (p: SessionMessageEvent) => void;
  "session:status": (p: SessionStatusEvent) => void;
  /** The worker is shutting down; sent after its kernels were suspended, and acknowledged, so
   * every status before it has reached the gateway. */
  /** Told to stop: it suspends its kernels now and will leave; place nothing new on it, and let its
   * suspended kernels wait until it has left (their checkpoints are uploaded by then). */
  "worker:draining": (p: Record<string, never>) => void;
  "worker:leaving": (p: Record<string, never>, ack: Ack) => void;
}
