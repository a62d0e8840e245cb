// Worker connections on their own namespace, authenticated by the worker secret. Workers dial
// out to the gateway, so they can sit behind NAT; they never see browser traffic directly.
import type { Namespace } from "socket.io";
import {
  validateJupyterMessage,
  validateMessageMeta,
  validateSessionReports,
  validateSessionStatus,
  validateTerminalEvent,
  workerClassOf,
  type TerminalEvent,
  type GatewayToWorker,
  type WorkerAuth,
  type WorkerToGateway,
  workerResourcesSchema,
  moveUrlSchema,
} from "@cellar/protocol";
import { secretMatches } from "../secrets";
import type { KernelManager } from "../kernels/kernel-manager";
import type { TerminalRelay } from "../terminals/terminal-relay";
import type { WorkerPool, WorkerSocket } from "../workers/worker-pool";
import { workerRoom } from "./rooms";

export function attachWorkerSockets(
  nsp: Namespace<WorkerToGateway, GatewayToWorker>,
  deps: {
    pool: WorkerPool;
    kernels: KernelManager;
    terminals: TerminalRelay;
    workerSecret: string;
    onCountChange(): void;
    /** Terminal output for a terminal not opened here (another replica's page may have it). */
    shareTerminalEvent?(sessionId: string, event: TerminalEvent): void;
  },
): void {
  nsp.use((socket, next) => {
    const auth = socket.handshake.auth as Partial<WorkerAuth>;
    if (!secretMatches(auth.secret, deps.workerSecret)) return next(new Error("unauthorized worker"));
    if (typeof auth.workerId !== "string" || !auth.workerId) return next(new Error("workerId required"));
    next();
  });

  nsp.on("connection", (socket: WorkerSocket) => {
    const auth = socket.handshake.auth as WorkerAuth;
    const resources = workerResourcesSchema.safeParse(auth.resources);
    if (!resources.success) console.warn(`gateway: worker ${auth.workerId} sent no readable resources; it is taken as a CPU worker`);
    const moveUrl = moveUrlSchema.safeParse(auth.moveUrl);
    if (auth.moveUrl !== undefined && !moveUrl.success)
      console.warn(`gateway: worker ${auth.workerId} sent an unreadable move server URL; its moves go through this gateway`);
    const worker = deps.pool.add(
      auth.workerId,
      socket,
      resources.success ? resources.data : { cpus: 0, memoryBytes: 0, gpus: [], labels: {} },
      moveUrl.success ? moveUrl.data : undefined,
    );
    // Any replica can reach it through its room (workspace files, with Redis).
    void socket.join(workerRoom(worker.id));
    console.log(`gateway: worker ${worker.id} connected (${workerClassOf(worker.resources)}, ${worker.resources.cpus} CPUs)`);
    deps.onCountChange();
    const reports = validateSessionReports(auth.sessions);
    if (!reports.ok) console.warn(`gateway: ignored worker ${worker.id}'s list of kernels: ${reports.error}`);
    // What the worker sends again at once (output buffered while it had no gateway) waits until
    // its kernels are adopted; otherwise it would be dropped as coming from a session it does not hold.
    let waiting: Array<() => void> | null = [];
    const inOrder = (handle: () => void) => (waiting ? waiting.push(handle) : handle());
    void deps.kernels
      .onWorkerConnected(worker, reports.ok ? reports.value : [])
      .catch((error) => console.error(`gateway: adopting worker ${worker.id}'s kernels failed:`, error))
      .finally(() => {
        const queued = waiting ?? [];
        waiting = null;
        for (const handle of queued) handle();
      });

    socket.on("session:message", (p) =>
      inOrder(() => {
        if (!worker.sessions.has(p?.sessionId)) return;
        const msg = validateJupyterMessage(p.message);
        if (!msg.ok) return console.warn(`gateway: dropped message from worker ${worker.id}: ${msg.error}`);
        const meta = validateMessageMeta({ seq: p.seq, epoch: p.epoch, cellId: p.cellId });
        if (!meta.ok) return console.warn(`gateway: dropped message from worker ${worker.id}: ${meta.error}`);
        deps.kernels.onWorkerMessage(p.sessionId, msg.value, meta.value);
      }),
    );

    socket.on("session:terminal", (p) =>
      inOrder(() => {
        if (!worker.sessions.has(p?.sessionId)) return;
        const event = validateTerminalEvent(p.event);
        if (!event.ok) return console.warn(`gateway: dropped terminal event from worker ${worker.id}: ${event.error}`);
        if (!deps.terminals.onWorkerEvent(p.sessionId, event.value)) deps.shareTerminalEvent?.(p.sessionId, event.value);
      }),
    );

    socket.on("session:status", (p) =>
      inOrder(() => {
        const status = validateSessionStatus(p);
        if (!status.ok) return console.warn(`gateway: dropped status from worker ${worker.id}: ${status.error}`);
        const { sessionId, reason, suspended } = status.value;
        if (!worker.sessions.has(sessionId)) return;
        deps.kernels.onWorkerStatus(sessionId, status.value.status, reason, suspended);
      }),
    );

    socket.on("worker:draining", () => {
      console.log(`gateway: worker ${worker.id} is draining (suspending its kernels to leave)`);
      worker.draining = true;
      deps.onCountChange();
    });

    // Everything the worker sent before this (its kernels' "suspended") has arrived.
    socket.on("worker:leaving", (_p, ack) => {
      console.log(`gateway: worker ${worker.id} is shutting down`);
      if (typeof ack === "function") ack({ ok: true });
    });

    socket.on("disconnect", (why) => {
      const lost = deps.pool.remove(worker.id, socket);
      console.warn(`gateway: worker ${worker.id} disconnected (${why}); ${lost.length} kernel(s) lost`);
      deps.kernels.onWorkerLost(lost);
      deps.onCountChange();
    });
  });
}
