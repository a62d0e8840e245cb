// The workers connected right now, which kernel sessions each holds and which of its GPUs they
// use. Placement: a worker that offers the device with enough free GPUs, fewest sessions first;
// CPU kernels go to GPU machines only when no other worker can take them.
import type { Socket } from "socket.io";
import {
  CPU,
  freeGpusFor,
  workerOffers,
  type DeviceRequest,
  type GatewayToWorker,
  type WorkerResources,
  type WorkerToGateway,
} from "@cellar/protocol";

export type WorkerSocket = Socket<WorkerToGateway, GatewayToWorker>;

export interface ConnectedWorker {
  id: string;
  socket: WorkerSocket;
  resources: WorkerResources;
  sessions: Set<string>;
  /** GPU index -> the session using it. */
  gpusInUse: Map<number, string>;
  /** Told to stop (SIGTERM): it is suspending its kernels and leaves; nothing new goes to it. */
  draining: boolean;
  /** Its move server (WorkerAuth.moveUrl): where another worker fetches a move's files from it. */
  moveUrl?: string;
}

/** A worker as the fleet listing shows it. */
export interface WorkerListing {
  id: string;
  resources: WorkerResources;
  sessions: number;
  freeGpus: number[];
  draining: boolean;
}

export class WorkerPool {
  private workers = new Map<string, ConnectedWorker>();

  add(id: string, socket: WorkerSocket, resources: WorkerResources, moveUrl?: string): ConnectedWorker {
    const worker: ConnectedWorker = { id, socket, resources, sessions: new Set(), gpusInUse: new Map(), draining: false, moveUrl };
    this.workers.set(id, worker);
    return worker;
  }

  /** Removes the worker if `socket` is still the one registered under its id (a reconnect may
   * already have replaced it). Returns the sessions it held, now lost. */
  remove(id: string, socket: WorkerSocket): string[] {
    const w = this.workers.get(id);
    if (!w || w.socket !== socket) return [];
    this.workers.delete(id);
    return [...w.sessions];
  }

  get(id: string): ConnectedWorker | undefined {
    return this.workers.get(id);
  }

  /** The worker a new or resumed CPU kernel goes to: the one with the fewest kernels, never one
   * that is draining. */
  pick(): ConnectedWorker | undefined {
    return this.pickFor(CPU)?.worker;
  }

  /** The worker a kernel on `device` goes to and the GPUs it would take there, or undefined when
   * none is free (see `offering` for whether any worker has the device at all). */
  pickFor(device: DeviceRequest, except?: string): { worker: ConnectedWorker; gpus: number[] } | undefined {
    let best: { worker: ConnectedWorker; gpus: number[]; rank: number } | undefined;
    for (const w of this.placeable()) {
      if (w.id === except) continue;
      const gpus = freeGpusFor(w.resources, device, new Set(w.gpusInUse.keys()));
      if (!gpus) continue;
      // A CPU kernel on a GPU machine would keep a GPU kernel from its memory: last resort.
      const rank = (device.kind === "cpu" && w.resources.gpus.length > 0 ? 1e6 : 0) + w.sessions.size;
      if (!best || rank < best.rank) best = { worker: w, gpus, rank };
    }
    return best && { worker: best.worker, gpus: best.gpus };
  }

  /** The connected workers that have the device at all, busy or not. */
  offering(device: DeviceRequest): ConnectedWorker[] {
    return this.placeable().filter((w) => workerOffers(w.resources, device));
  }

  /** Marks the GPUs as used by the session (placement calls it with what pickFor chose). */
  takeGpus(worker: ConnectedWorker, sessionId: string, gpus: number[]): void {
    for (const g of gpus) worker.gpusInUse.set(g, sessionId);
  }

  /** The session ended or left the worker: its GPUs are free again. Returns whether any were. */
  releaseGpus(worker: ConnectedWorker, sessionId: string): boolean {
    let freed = false;
    for (const [g, s] of worker.gpusInUse) if (s === sessionId) freed = worker.gpusInUse.delete(g);
    return freed;
  }

  /** The workers that take new kernels (connected and not draining). */
  placeable(): ConnectedWorker[] {
    return [...this.workers.values()].filter((w) => !w.draining);
  }

  get count(): number {
    return this.workers.size;
  }

  /** Asks every worker to drop its image cache; resolves with each one's answer. */
  async dropCaches(timeoutMs = 30_000): Promise<Array<{ id: string; ok: boolean; droppedBytes?: number; error?: string }>> {
    return Promise.all(
      [...this.workers.values()].map(async (w) => {
        try {
          const r = await w.socket.timeout(timeoutMs).emitWithAck("cache:drop", {});
          return r.ok ? { id: w.id, ok: true, droppedBytes: r.droppedBytes } : { id: w.id, ok: false, error: r.error };
        } catch {
          return { id: w.id, ok: false, error: `no answer in ${timeoutMs / 1000} s` };
        }
      }),
    );
  }

  /** Every connected worker, draining ones too, with the GPUs no kernel of it holds. */
  list(): WorkerListing[] {
    return [...this.workers.values()].map((w) => ({
      id: w.id,
      resources: w.resources,
      sessions: w.sessions.size,
      freeGpus: w.resources.gpus.map((g) => g.index).filter((i) => !w.gpusInUse.has(i)),
      draining: w.draining,
    }));
  }
}
