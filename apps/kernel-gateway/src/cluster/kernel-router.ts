// Which gateway replica acts for a notebook's kernel. The replica whose pool holds the kernel's
// worker owns the kernel: it relays requests to the worker, records outputs, and announces
// statuses to the notebook's room, which spans replicas through the Redis adapter. Any other
// replica forwards a browser's request there over the adapter's server-to-server channel
// (`serverSideEmit`). A kernel nobody owns (suspended, dead, waiting for its worker, or none yet)
// is handled by the replica that got the request, from its row, and a kernel that needs a worker
// goes to the least-loaded worker of the whole cluster: this replica's, or through the replica
// that holds it. Without Redis there is one replica and every call is local.
import { randomUUID } from "node:crypto";
import type { JupyterMessage, KernelStatus, StreamPosition, TerminalEvent, TerminalRequest } from "@cellar/protocol";
import type { DocumentReplicaEvents } from "../documents/document-hubs";
import type { FleetReplicaEvents } from "./fleet";
import type { KernelManager, KernelStatusChange, Requester, SendResult } from "../kernels/kernel-manager";
import type { BrowserServer } from "../sockets/browser-sockets";
import { notebookRoom } from "../sockets/rooms";
import type { WorkerPool } from "../workers/worker-pool";

/** What a browser (or the HTTP API) asks of a notebook's kernel. */
export type KernelOp =
  /** `by`: the user opening it, recorded as the kernel's starter if this starts one. `watch`: join
   * the room and catch up, but start nothing (a viewer may not start a kernel). */
  | { op: "open"; socketId: string; resume?: StreamPosition; by?: string; watch?: boolean }
  /** Start a kernel unless the notebook has one (a terminal opens on it). */
  | { op: "ensure" }
  /** `by`: who sent it, recorded as the cell's last runner. */
  | { op: "send"; message: JupyterMessage; by?: Requester }
  | { op: "terminal"; request: TerminalRequest }
  | { op: "interrupt" }
  /** Take the cell out of the line for a busy device. */
  | { op: "cancelQueued"; cellId: string }
  | { op: "restart" }
  | { op: "suspend" }
  | { op: "clearOutputs"; cellIds: string[] }
  | { op: "stop" }
  | { op: "saved" };

export interface OpenResult {
  status: KernelStatus;
  reason?: string;
  replayed: boolean;
}

type OpResult<O extends KernelOp["op"]> = O extends "open"
  ? OpenResult
  : O extends "ensure"
    ? KernelStatus
    : O extends "terminal"
      ? ReturnType<KernelManager["sendTerminal"]>
      : O extends "send" | "interrupt" | "cancelQueued" | "restart" | "suspend"
        ? SendResult
        : undefined;

/** A request from one replica to the others: `target` names the one that must take it (it holds
 * the worker chosen for a new kernel); without it, the replica that owns the kernel takes it.
 * `owns` only asks whether one does. */
export type ReplicaKernelRequest = (KernelOp | { op: "owns" }) & { notebookId: string; target?: string };
export type ReplicaKernelAnswer = { handled: false } | { handled: true; value: unknown };
export interface ReplicaWorkers {
  replica: string;
  workers: Array<{ id: string; sessions: number }>;
}

/** Events between gateway replicas (socket.io's ServerSideEvents). */
export interface ReplicaEvents extends DocumentReplicaEvents, FleetReplicaEvents {
  "cellar:kernel": (req: ReplicaKernelRequest, ack: (answer: ReplicaKernelAnswer) => void) => void;
  "cellar:workers": (ack: (workers: ReplicaWorkers) => void) => void;
  "cellar:workers-changed": () => void;
  /** A kernel's terminal output, for the replica whose page opened the terminal. */
  "cellar:terminal-event": (p: { sessionId: string; event: TerminalEvent }) => void;
  /** A kernel's status changed on the replica that runs it (ends terminals opened elsewhere). */
  "cellar:kernel-status": (change: KernelStatusChange) => void;
  /** Someone's access to the notebook changed: each replica checks its pages' roles again. */
  "cellar:access-changed": (p: { notebookId: string }) => void;
}

/** What reaches this replica from the kernels other replicas run. */
export interface RemoteKernelEvents {
  terminalEvent(sessionId: string, event: TerminalEvent): void;
  kernelStatus(change: KernelStatusChange): void;
}

/** How long a replica waits for the others' answers (the Redis adapter's requestsTimeout): long
 * enough for a forwarded restart, which waits up to 10 s for the old kernel to stop. A replica that
 * died is not waited for: Redis drops its subscription with its connection. */
export const REPLICA_ANSWER_TIMEOUT_MS = 15_000;

/** The other replicas cannot be reached (Redis is down), and the kernel is not this one's. */
export class ClusterUnavailableError extends Error {
  constructor(problem: string) {
    super(`The other gateway replicas cannot be reached, so the kernel cannot be reached; try again shortly. (${problem})`);
  }
}

/** Why a viewer sees no kernel: only someone who may run the notebook starts one. */
export const NO_KERNEL_TO_WATCH = "No kernel is running; it starts when someone who may run this notebook opens it.";

export class KernelRouter {
  readonly replicaId = randomUUID();
  /** Closing: nothing more is sent to the other replicas (Redis is about to be let go, and a
   * command sent after that fails where nobody can catch it, inside the adapter). */
  private closed = false;

  constructor(
    private readonly io: BrowserServer,
    private readonly kernels: KernelManager,
    private readonly pool: WorkerPool,
    /** Other replicas may exist (CELLAR_REDIS_URL is set). */
    private readonly shared: boolean,
    remote?: RemoteKernelEvents,
    /** Why the other replicas cannot be reached now (Redis down), or null. */
    private readonly unreachable: () => string | null = () => null,
  ) {
    if (!shared) return;
    if (remote) {
      io.on("cellar:terminal-event", (p) => remote.terminalEvent(p.sessionId, p.event));
      io.on("cellar:kernel-status", (change) => remote.kernelStatus(change));
    }
    // A closing replica answers nothing: its Redis connection is being let go, and an answer
    // sent on it would fail inside the adapter where nobody can catch it.
    io.on("cellar:kernel", (req, ack) => {
      if (this.closed) return;
      void this.answer(req).then(ack, (error) => {
        console.error(`gateway: a forwarded ${req.op} of notebook ${req.notebookId} failed:`, error);
        ack({ handled: false });
      });
    });
    io.on("cellar:workers", (ack) => {
      if (!this.closed) ack(this.localWorkers());
    });
    io.on("cellar:workers-changed", () => void this.announceWorkerCount(false));
  }

  /** Carries out `op` on the notebook's kernel wherever it runs. Throws ClusterUnavailableError
   * at once, rather than waiting, while Redis is down and the kernel is not this replica's. */
  async route<O extends KernelOp>(notebookId: string, op: O): Promise<OpResult<O["op"]>> {
    if (!this.shared || this.kernels.ownsLive(notebookId)) return this.run(notebookId, op);
    this.assertReachable();
    const owner = await this.forward({ ...op, notebookId });
    if (owner) return owner.value as OpResult<O["op"]>;
    await this.kernels.reload(notebookId);
    const placing = op.op === "ensure" ? "open" : op.op === "terminal" ? "send" : op.op;
    const watching = op.op === "open" && op.watch;
    if ((placing === "open" || placing === "send" || placing === "restart") && !watching && this.kernels.wouldPlace(notebookId, placing)) {
      const best = await this.bestReplica();
      if (best && best !== this.replicaId) {
        const placed = await this.forward({ ...op, notebookId, target: best });
        if (placed) return placed.value as OpResult<O["op"]>;
      }
    }
    return this.run(notebookId, op);
  }

  close(): void {
    this.closed = true;
  }

  /** Terminal output no page on this replica asked for: the others may have its terminal. */
  shareTerminalEvent(sessionId: string, event: TerminalEvent): void {
    if (this.shared && !this.closed) this.io.serverSideEmit("cellar:terminal-event", { sessionId, event });
  }

  /** A status change of a kernel this replica runs, for the others' terminals. */
  shareKernelStatus(change: KernelStatusChange): void {
    if (this.shared && !this.closed) this.io.serverSideEmit("cellar:kernel-status", change);
  }

  /** Whether another replica runs the notebook's kernel now. */
  async ownedElsewhere(notebookId: string): Promise<boolean> {
    if (!this.shared) return false;
    return (await this.ask({ op: "owns", notebookId })).some((a) => a.handled);
  }

  /** The worker that has the notebook's workspace (the one that runs or last ran its kernel), or
   * for a notebook that never had one, the least-loaded; undefined when none is connected. */
  async workspaceWorker(notebookId: string): Promise<string | undefined> {
    const local = this.kernels.workerOf(notebookId);
    if (local) return local.id;
    this.assertReachable();
    await this.kernels.reload(notebookId);
    const cluster = await this.clusterWorkers();
    const held = this.kernels.workerIdOf(notebookId);
    if (held && cluster.some((r) => r.workers.some((w) => w.id === held))) return held;
    return leastLoaded(cluster)?.worker;
  }

  /** Every connected worker in the cluster, by replica (this one first). */
  async clusterWorkers(): Promise<ReplicaWorkers[]> {
    const local = this.localWorkers();
    // While Redis is down the others cannot answer: count what is here rather than wait.
    if (!this.shared || this.closed || this.unreachable()) return [local];
    const remote = await new Promise<ReplicaWorkers[]>((resolve) =>
      this.io.serverSideEmit("cellar:workers", (_error: Error | null, answers: ReplicaWorkers[]) => resolve(answers ?? [])),
    );
    return [local, ...remote];
  }

  async workerCount(): Promise<number> {
    return (await this.clusterWorkers()).reduce((n, r) => n + r.workers.length, 0);
  }

  /** Tells every page how many workers the cluster has; `tellOthers` when this replica's pool
   * changed, so the other replicas count again too. */
  async announceWorkerCount(tellOthers = true): Promise<void> {
    if (this.closed) return;
    if (this.shared && tellOthers) this.io.serverSideEmit("cellar:workers-changed");
    const connected = await this.workerCount();
    // Each replica tells its own pages: io.emit would reach every replica's, with Redis.
    this.io.local.emit("workers:count", { connected });
  }

  private assertReachable(): void {
    const problem = this.shared ? this.unreachable() : null;
    if (problem) throw new ClusterUnavailableError(problem);
  }

  /** A request from another replica: taken if it names this replica, or this one owns the kernel. */
  private async answer(req: ReplicaKernelRequest): Promise<ReplicaKernelAnswer> {
    const { notebookId, target, ...op } = req;
    if (op.op === "owns") return this.kernels.ownsLive(notebookId) ? { handled: true, value: true } : { handled: false };
    const mine = target ? target === this.replicaId : this.kernels.ownsLive(notebookId);
    if (!mine) return { handled: false };
    // Chosen for its worker: what this replica read of the kernel may be stale.
    if (target) await this.kernels.reload(notebookId);
    return { handled: true, value: await this.run(notebookId, op) };
  }

  private async forward(req: ReplicaKernelRequest): Promise<{ value: unknown } | undefined> {
    const answers = await this.ask(req);
    const taken = answers.find((a): a is { handled: true; value: unknown } => a.handled);
    return taken && { value: taken.value };
  }

  /** Asks every other replica; the answers of those that answered within REPLICA_ANSWER_TIMEOUT_MS. */
  private ask(req: ReplicaKernelRequest): Promise<ReplicaKernelAnswer[]> {
    if (this.closed) return Promise.resolve([]);
    return new Promise((resolve) =>
      this.io.serverSideEmit("cellar:kernel", req, (_error: Error | null, answers: ReplicaKernelAnswer[]) => resolve(answers ?? [])),
    );
  }

  /** The replica holding the cluster's least-loaded worker. */
  private async bestReplica(): Promise<string | undefined> {
    return leastLoaded(await this.clusterWorkers())?.replica;
  }

  private localWorkers(): ReplicaWorkers {
    return { replica: this.replicaId, workers: this.pool.placeable().map((w) => ({ id: w.id, sessions: w.sessions.size })) };
  }

  /** `op` on this replica's KernelManager. */
  private async run<O extends KernelOp>(notebookId: string, op: O): Promise<OpResult<O["op"]>> {
    const k = this.kernels;
    type R = OpResult<O["op"]>;
    switch (op.op) {
      case "open": {
        const watched = op.watch ? (k.status(notebookId) ?? { status: "disconnected" as const, reason: NO_KERNEL_TO_WATCH }) : undefined;
        const status = watched ? watched.status : await k.ensureKernel(notebookId, op.by);
        const missed = k.missedSince(notebookId, op.resume);
        // Nothing to replay from: the running cells as recorded, ahead of what comes next, so the
        // page's read-back of the notebook need not (and must not) replace them. Read before
        // anything is sent: what is relayed meanwhile is recorded in them.
        const live = missed === null && op.resume ? await k.liveOutputs(notebookId) : [];
        // What it missed, then the room for what comes next, in one go from the replica that
        // relays the kernel: the adapter keeps one publisher's messages in order, so nothing
        // slips between the two even when the page is on another replica.
        for (const m of missed ?? []) this.io.to(op.socketId).emit("kernel:message", { notebookId, ...m });
        if (live.length) this.io.to(op.socketId).emit("kernel:outputs", { notebookId, cells: live });
        this.io.in(op.socketId).socketsJoin(notebookRoom(notebookId));
        return { status, reason: watched ? watched.reason : k.status(notebookId)?.reason, replayed: missed !== null } as R;
      }
      case "ensure":
        return (await k.ensureKernel(notebookId)) as R;
      case "send":
        return k.send(notebookId, op.message, op.by) as R;
      case "terminal":
        return k.sendTerminal(notebookId, op.request) as R;
      case "interrupt":
        return k.interrupt(notebookId) as R;
      case "cancelQueued":
        return k.cancelQueued(notebookId, op.cellId) as R;
      case "restart":
        return (await k.restart(notebookId)) as R;
      case "suspend":
        return (await k.suspend(notebookId)) as R;
      case "clearOutputs":
        return (await k.clearOutputs(notebookId, op.cellIds)) as R;
      case "stop":
        return (await k.stop(notebookId)) as R;
      case "saved":
        return k.onNotebookSaved(notebookId) as R;
    }
  }
}

/** The worker with the fewest kernels, and its replica (the first listed on a tie: this one). */
export function leastLoaded(cluster: ReplicaWorkers[]): { replica: string; worker: string } | undefined {
  let best: { replica: string; worker: string; sessions: number } | undefined;
  for (const r of cluster)
    for (const w of r.workers) if (!best || w.sessions < best.sessions) best = { replica: r.replica, worker: w.id, sessions: w.sessions };
  return best && { replica: best.replica, worker: best.worker };
}
