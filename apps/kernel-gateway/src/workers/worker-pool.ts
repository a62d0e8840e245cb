// The workers connected right now and which kernel sessions each holds. Placement is "fewest
// sessions first"; GPU- and image-aware placement comes with the issues that need it.
import type { Socket } from "socket.io";
import type { GatewayToWorker, WorkerResources, WorkerToGateway } from "@cellar/protocol";

export type WorkerSocket = Socket<WorkerToGateway, GatewayToWorker>;

export interface ConnectedWorker {
  id: string;
  socket: WorkerSocket;
  resources: WorkerResources;
  sessions: Set<string>;
  /** Told to stop (SIGTERM): it is suspending its kernels and leaves; nothing new goes to it. */
  draining: boolean;
}

export class WorkerPool {
  private workers = new Map<string, ConnectedWorker>();

  add(id: string, socket: WorkerSocket, resources: WorkerResources): ConnectedWorker {
    const worker: ConnectedWorker = { id, socket, resources, sessions: new Set(), draining: false };
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

  /** The worker a new or resumed kernel goes to: the one with the fewest kernels, never one that
   * is draining. */
  pick(): ConnectedWorker | undefined {
    let best: ConnectedWorker | undefined;
    for (const w of this.placeable()) if (!best || w.sessions.size < best.sessions.size) best = w;
    return best;
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

  list(): Array<{ id: string; resources: WorkerResources; sessions: number }> {
    return [...this.workers.values()].map((w) => ({ id: w.id, resources: w.resources, sessions: w.sessions.size }));
  }
}
