// The whole cluster's workers, for the Machines panel (GET /api/workers). Each replica knows only
// the workers connected to it; with Redis, the replica asked collects the others' over the
// adapter's server-to-server channel, as KernelRouter counts workers. While Redis is down the
// others cannot answer, and the listing is this replica's alone (it says so in the log, once per
// outage, rather than waiting for answers that cannot come).
import type { z } from "zod";
import { workerClassOf, type workerReplySchema } from "@cellar/protocol";
import type { BrowserServer } from "../sockets/browser-sockets";
import type { WorkerListing, WorkerPool } from "../workers/worker-pool";

export type FleetWorker = z.output<typeof workerReplySchema>;

/** Events between replicas for the listing (part of socket.io's ServerSideEvents). */
export interface FleetReplicaEvents {
  "cellar:fleet": (ack: (workers: WorkerListing[]) => void) => void;
}

export class Fleet {
  private closed = false;
  private warned = false;

  constructor(
    private readonly io: BrowserServer,
    private readonly pool: WorkerPool,
    /** Other replicas may exist (CELLAR_REDIS_URL is set). */
    private readonly shared: boolean,
    /** Why the other replicas cannot be reached now (Redis down), or null. */
    private readonly unreachable: () => string | null = () => null,
  ) {
    // A closing replica answers nothing: its Redis connection is being let go.
    if (shared) io.on("cellar:fleet", (ack) => !this.closed && ack(this.pool.list()));
  }

  close(): void {
    this.closed = true;
  }

  /** Every worker of the cluster, this replica's first; a worker two replicas list (it is moving
   * between them) once, as this replica sees it if it is here. */
  async list(): Promise<FleetWorker[]> {
    const local = this.pool.list().map((w) => entry(w, true));
    const problem = this.shared ? this.unreachable() : null;
    if (problem && !this.warned) console.warn(`gateway: the fleet listing shows this replica's workers only: ${problem}`);
    this.warned = problem !== null;
    if (!this.shared || this.closed || problem) return local;
    const answers = await new Promise<WorkerListing[][]>((resolve) =>
      this.io.serverSideEmit("cellar:fleet", (_error: Error | null, replies: WorkerListing[][]) => resolve(replies ?? [])),
    );
    const listed = new Map(local.map((w) => [w.id, w]));
    for (const w of answers.flat()) if (!listed.has(w.id)) listed.set(w.id, entry(w, false));
    return [...listed.values()];
  }
}

function entry(w: WorkerListing, local: boolean): FleetWorker {
  return { ...w, workerClass: workerClassOf(w.resources), local };
}
