// The worker's only link to the world: it dials the gateway's /worker namespace with its secret,
// builds the worker's parts and turns the gateway's events into calls on them (sessions:
// kernel/session-manager.ts). Losing the gateway does not stop the kernels: the worker redials
// (any replica behind the same URL will do) and says on every connect which kernels it has, so a
// restarted gateway adopts them; what they print waits, numbered, in each session's outbox until
// the gateway acknowledges it, and what was not acknowledged is sent again on reconnect. Only
// when no gateway answers for CELLAR_GATEWAY_GRACE_S are running kernels stopped (suspended ones
// are only forgotten: the gateway keeps their checkpoint, and any worker may resume them).
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import {
  moveIdSchema,
  moveTokenSchema,
  validateTerminalRequest,
  WORKER_NAMESPACE,
  type GatewayToWorker,
  type WorkerResources,
  type WorkerToGateway,
} from "@cellar/protocol";
import type { WorkerConfig } from "../config";
import { ImageAttacher } from "../images/image-attacher";
import { MoveFiles } from "../kernel/move-files";
import { startMoveServer } from "../kernel/move-server";
import { SessionManager } from "../kernel/session-manager";
import { SuspendedKernels } from "../kernel/suspended-kernels";
import { serveMoveFiles } from "./move-files-handler";
import { SessionOutbox } from "./session-outbox";
import { suspendForShutdown } from "../kernel/shutdown";
import { serveWorkspaceFiles } from "../files/files-handler";
import { SANDBOX_GID, SANDBOX_UID } from "../sandbox/bundle";
import { layOutWorkspace, storeWorkspace } from "../files/workspace-transfer";
import { BlobFetcher } from "@cellar/fs-client";
import { KernelPool, WarmSnapshots } from "../snapshots";

type GatewaySocket = Socket<GatewayToWorker, WorkerToGateway>;

const validMoveId = (id: unknown): id is string => moveIdSchema.safeParse(id).success;

/** `resources`: what this machine offers (resources.ts), told to the gateway on every connect. */
export function connectToGateway(config: WorkerConfig, resources: WorkerResources): { socket: GatewaySocket; close(): Promise<void> } {
  const images = new ImageAttacher({
    gatewayUrl: config.gatewayUrl,
    secret: config.secret,
    home: config.home,
    cacheDir: config.cacheDir,
    cacheMaxBytes: config.chunkCacheBytes,
  });
  const snapshotCas = new BlobFetcher({ baseUrl: config.gatewayUrl, authorization: `Bearer ${config.secret}` });
  const snapshots = new WarmSnapshots({
    dir: path.join(config.cacheDir, "snapshots"),
    remote: snapshotCas,
    stateRoot: config.stateRoot,
    platform: config.platform,
  });
  const suspendedKernels = new SuspendedKernels({ dir: path.join(config.home, "suspended-kernels"), remote: snapshotCas });
  const moves = new MoveFiles(config.home, process.getuid?.() === 0 ? { uid: SANDBOX_UID, gid: SANDBOX_GID } : undefined);
  // Told to the gateway in every handshake; without it (the port taken) moves go through the gateway.
  const moveServer = startMoveServer(moves, { port: config.movePort, advertiseHost: config.advertiseHost }).catch((err) => {
    console.warn(`worker: no move server (${(err as Error).message}); kernel state moves will go through the gateway`);
    return null;
  });
  const socket: GatewaySocket = io(new URL(WORKER_NAMESPACE, config.gatewayUrl).toString(), {
    // A function, so each reconnect sends the kernels as they are then.
    auth: (send) =>
      void moveServer.then((server) =>
        send({ secret: config.secret, workerId: config.workerId, resources, sessions: reports(), moveUrl: server?.url }),
      ),
    // One long-lived TCP connection: behind a load balancer with several gateways it needs no
    // sticky sessions, which HTTP long-polling would.
    transports: ["websocket"],
    // A restarted gateway is back in about a second: the worker, which every kernel's output
    // waits on, tries twice a second.
    reconnectionDelay: 200,
    reconnectionDelayMax: 500,
  });
  const outboxes = new Map<string, SessionOutbox>();
  // Each kernel with how far a gateway recorded its messages: one that adopts it starts there, and
  // tells a page that saw less to read back (what a gateway that died recorded may never have
  // reached that page, and is not sent again).
  const reports = () =>
    sessions.report().map((r) => {
      const box = outboxes.get(r.sessionId);
      return box ? { ...r, acked: box.acked } : r;
    });
  const outbox = (sessionId: string) => {
    let box = outboxes.get(sessionId);
    if (!box) outboxes.set(sessionId, (box = new SessionOutbox(sessionId)));
    return box;
  };
  const sessions: SessionManager = new SessionManager({
    config,
    images,
    snapshots,
    suspendedKernels,
    workspaces: {
      store: (dir) => storeWorkspace(dir, snapshotCas),
      layOut: (id, dir) => layOutWorkspace(id, dir, snapshotCas),
    },
    moves,
    pool: () => pool,
    resources,
    events: (sessionId) => ({
      onMessage: (message) => {
        const event = outbox(sessionId).add(message);
        // Not into socket.io's own buffer while disconnected: the outbox sends it on reconnect.
        if (socket.connected) socket.emit("session:message", event);
      },
      onTerminal: (event) => socket.emit("session:terminal", { sessionId, event }),
      onStatus: (status, reason, suspended) => socket.emit("session:status", { sessionId, status, reason, suspended }),
    }),
  });
  const pool = new KernelPool({
    snapshots,
    size: config.warmSnapshots ? config.kernelPoolSize : 0,
    workspacesDir: path.join(config.home, "workspaces"),
    memoryBytes: resources.memoryBytes,
    liveSessionsMemory: () => sessions.liveSessionsMemory(),
  });

  let closing = false;
  let orphaned: NodeJS.Timeout | null = null;
  // Checkpoints of kernels suspended here and never resumed would otherwise stay for ever.
  const reap = () =>
    void suspendedKernels
      .reapLocalCopies(
        sessions.all().map((s) => s.sessionId),
        config.localCheckpointTtlMs,
      )
      .then((n) => n && console.log(`worker ${config.workerId}: reaped ${n} old local checkpoint copies`))
      .catch((e) => console.warn(`worker ${config.workerId}: reaping local checkpoint copies failed:`, e));
  reap();
  const reaper = setInterval(reap, 6 * 3600_000);
  reaper.unref();
  socket.on("connect", () => {
    if (orphaned) clearTimeout(orphaned);
    orphaned = null;
    for (const [id, box] of outboxes) {
      if (!sessions.get(id) && !box.pending().length) outboxes.delete(id);
      for (const event of box.pending()) socket.emit("session:message", event);
    }
    console.log(`worker ${config.workerId}: connected to ${config.gatewayUrl} with ${sessions.size} kernel(s)`);
  });
  socket.on("connect_error", (err) => console.warn(`worker ${config.workerId}: cannot reach gateway: ${err.message}`));
  socket.on("disconnect", (why) => {
    // While closing, close() is suspending these kernels: stopping them here would lose them.
    if (closing) return console.warn(`worker ${config.workerId}: disconnected from gateway (${why}) while closing`);
    const graceS = Math.round(config.gatewayGraceMs / 1000);
    console.warn(`worker ${config.workerId}: disconnected from gateway (${why}); keeping ${sessions.size} kernel(s) for ${graceS} s`);
    // A gateway shutting down says goodbye, and socket.io does not redial after that by itself.
    if (why === "io server disconnect") setTimeout(() => !closing && socket.connect(), 500);
    if (orphaned) clearTimeout(orphaned);
    orphaned = setTimeout(() => {
      orphaned = null;
      if (socket.connected || closing) return;
      console.warn(`worker ${config.workerId}: no gateway for ${graceS} s; stopping ${sessions.size} kernel(s)`);
      void sessions.dropAll();
    }, config.gatewayGraceMs);
  });

  socket.on("session:start", async (p, ack) =>
    // Leaving: a kernel started now would be lost with this process (the gateway places it elsewhere).
    ack(closing ? { ok: false, error: "The worker is shutting down." } : await sessions.start(p)),
  );
  socket.on("session:send", (p) => {
    const session = sessions.get(p.sessionId);
    if (!session) return;
    outbox(p.sessionId).noteRequest(p.message);
    session.send(p.message);
  });
  socket.on("session:ack", (p) => {
    const box = outboxes.get(p?.sessionId);
    // An ack of another process's numbering (this session was resumed here) says nothing.
    if (box && p.epoch === box.epoch) box.ack(Number(p.seq));
  });
  socket.on("session:interrupt", (p) => sessions.get(p.sessionId)?.interrupt());
  socket.on("session:terminal", (p) => {
    const req = validateTerminalRequest(p?.request);
    if (!req.ok) return console.warn(`worker: dropped terminal request: ${req.error}`);
    sessions.get(p.sessionId)?.terminal(req.value);
  });
  socket.on("session:suspend", async (p, ack) => ack(await sessions.suspend(p?.sessionId)));
  socket.on("session:export-state", async (p, ack) =>
    ack(
      validMoveId(p?.moveId) && (p.token === undefined || moveTokenSchema.safeParse(p.token).success)
        ? await sessions.exportState(p.sessionId, p.moveId, p.local === true, p.token)
        : { ok: false, error: "bad move id or token" },
    ),
  );
  socket.on("session:import-state", async (p, ack) =>
    ack(validMoveId(p?.moveId) ? await sessions.importState(p.sessionId, p.moveId) : { ok: false, error: "bad move id" }),
  );
  serveMoveFiles(socket, moves);
  socket.on("session:stop", async (p, ack) => {
    await sessions.stop(p.sessionId);
    outboxes.delete(p.sessionId);
    ack({ ok: true });
  });

  serveWorkspaceFiles(socket, { workspacesDir: path.join(config.home, "workspaces") });

  socket.on("cache:drop", async (_p, ack) => {
    try {
      const droppedBytes = images.cachedBytes;
      await images.dropCache();
      console.log(`worker ${config.workerId}: dropped ${droppedBytes} bytes of image cache`);
      ack({ ok: true, droppedBytes });
    } catch (err) {
      ack({ ok: false, error: (err as Error).message });
    }
  });

  return {
    socket,
    close: async () => {
      // Idle kernels are suspended, so their notebooks carry on with another worker process.
      closing = true;
      void moveServer.then((server) => server?.close());
      clearInterval(reaper);
      if (orphaned) clearTimeout(orphaned);
      if (socket.connected) {
        socket.emit("worker:draining", {});
        await suspendForShutdown(sessions.all(), config.shutdownGraceMs);
        // Another worker can only resume them once their checkpoints are in the CAS.
        await suspendedKernels.settle();
        await socket
          .timeout(5_000)
          .emitWithAck("worker:leaving", {})
          .catch(() => {});
      }
      socket.close();
      await sessions.dropAll();
      await pool.stop();
      await images.detachAll();
      snapshotCas.close();
    },
  };
}
