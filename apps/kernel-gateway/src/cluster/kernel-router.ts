// Which gateway replica acts for a notebook's kernel. The replica whose pool holds the kernel's
// worker owns the kernel: it relays requests to the worker, records outputs, and announces
// statuses to the notebook's room, which spans replicas through the Redis adapter. Any other
// replica forwards a browser's request there over the adapter's server-to-server channel
// (`serverSideEmit`). A kernel nobody owns (suspended, dead, waiting for its worker, or none yet)
// is handled by the replica that got the request, from its row, and a kernel that needs a worker
// goes to the least-loaded worker of the whole cluster: this replica's, or through the replica
// that holds it. Without Redis there is one replica and every call is local.
import { randomUUID } from "node:crypto";
import type { JupyterMessage, KernelStatus, StreamPosition } from "@cellar/protocol";
import type { KernelManager, SendResult } from "../kernels/kernel-manager";
import type { BrowserServer } from "../sockets/browser-sockets";
import { notebookRoom } from "../sockets/rooms";
import type { WorkerPool } from "../workers/worker-pool";

/** What a browser (or the HTTP API) asks of a notebook's kernel. */
export type KernelOp =
  | { op: "open"; socketId: string; resume?: StreamPosition }
  | { op: "send"; message: JupyterMessage }
  | { op: "interrupt" }
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
  : O extends "send" | "interrupt" | "restart" | "suspend"
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
export interface ReplicaEvents {
  "cellar:kernel": (req: ReplicaKernelRequest, ack: (answer: ReplicaKernelAnswer) => void) => void;
  "cellar:workers": (ack: (workers: ReplicaWorkers) => void) => void;
  "cellar:workers-changed": () => void;
}

/** How long a replica waits for the others' answers (the Redis adapter's requestsTimeout): long
 * enough for a forwarded restart, which waits up to 10 s for the old kernel to stop. A replica that
 * died is not waited for: Redis drops its subscription with its connection. */
export const REPLICA_ANSWER_TIMEOUT_MS = 15_000;

export class KernelRouter {
  readonly replicaId = randomUUID();

  constructor(
    private readonly io: BrowserServer,
    private readonly kernels: KernelManager,
    private readonly pool: WorkerPool,
    /** Other replicas may exist (CELLAR_REDIS_URL is set). */
    private readonly shared: boolean,
  ) {
    if (!shared) return;
    io.on("cellar:kernel", (req, ack) => {
      void this.answer(req).then(ack, (error) => {
        console.error(`gateway: a forwarded ${req.op} of notebook ${req.notebookId} failed:`, error);
        ack({ handled: false });
      });
    });
    io.on("cellar:workers", (ack) => ack(this.localWorkers()));
    io.on("cellar:workers-changed", () => void this.announceWorkerCount(false));
  }

  /** Carries out `op` on the notebook's kernel wherever it runs. */
  async route<O extends KernelOp>(notebookId: string, op: O): Promise<OpResult<O["op"]>> {
    if (!this.shared || this.kernels.ownsLive(notebookId)) return this.run(notebookId, op);
    const owner = await this.forward({ ...op, notebookId });
    if (owner) return owner.value as OpResult<O["op"]>;
    await this.kernels.reload(notebookId);
    if ((op.op === "open" || op.op === "send" || op.op === "restart") && this.kernels.wouldPlace(notebookId, op.op)) {
      const best = await this.bestReplica();
      if (best && best !== this.replicaId) {
        const placed = await this.forward({ ...op, notebookId, target: best });
        if (placed) return placed.value as OpResult<O["op"]>;
      }
    }
    return this.run(notebookId, op);
  }

  /** Whether another replica runs the notebook's kernel now. */
  async ownedElsewhere(notebookId: string): Promise<boolean> {
    if (!this.shared) return false;
    return (await this.ask({ op: "owns", notebookId })).some((a) => a.handled);
  }

  /** The worker that has the notebook's workspace (the one that runs or last ran its kernel), or
   * for a notebook that never had one, the least-loaded; undefined when none is connected. */
  async workspaceWorker(notebookId: string): Promise<string | undefined> {
    await this.kernels.reload(notebookId);
    const cluster = await this.clusterWorkers();
    const held = this.kernels.workerIdOf(notebookId);
    if (held && cluster.some((r) => r.workers.some((w) => w.id === held))) return held;
    return leastLoaded(cluster)?.worker;
  }

  /** Every connected worker in the cluster, by replica (this one first). */
  async clusterWorkers(): Promise<ReplicaWorkers[]> {
    const local = this.localWorkers();
    if (!this.shared) return [local];
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
    if (this.shared && tellOthers) this.io.serverSideEmit("cellar:workers-changed");
    const connected = await this.workerCount();
    // Each replica tells its own pages: io.emit would reach every replica's, with Redis.
    this.io.local.emit("workers:count", { connected });
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
    return new Promise((resolve) =>
      this.io.serverSideEmit("cellar:kernel", req, (_error: Error | null, answers: ReplicaKernelAnswer[]) => resolve(answers ?? [])),
    );
  }

  /** The replica holding the cluster's least-loaded worker. */
  private async bestReplica(): Promise<string | undefined> {
    return leastLoaded(await this.clusterWorkers())?.replica;
  }

  private localWorkers(): ReplicaWorkers {
    return { replica: this.replicaId, workers: this.pool.list().map((w) => ({ id: w.id, sessions: w.sessions })) };
  }

  /** `op` on this replica's KernelManager. */
  private async run<O extends KernelOp>(notebookId: string, op: O): Promise<OpResult<O["op"]>> {
    const k = this.kernels;
    type R = OpResult<O["op"]>;
    switch (op.op) {
      case "open": {
        const status = await k.ensureKernel(notebookId);
        const missed = k.missedSince(notebookId, op.resume);
        // What it missed, then the room for what comes next, in one go from the replica that
        // relays the kernel: the adapter keeps one publisher's messages in order, so nothing
        // slips between the two even when the page is on another replica.
        for (const m of missed ?? []) this.io.to(op.socketId).emit("kernel:message", { notebookId, ...m });
        this.io.in(op.socketId).socketsJoin(notebookRoom(notebookId));
        return { status, reason: k.status(notebookId)?.reason, replayed: missed !== null } as R;
      }
      case "send":
        return k.send(notebookId, op.message) as R;
      case "interrupt":
        return k.interrupt(notebookId) as R;
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
