// The worker's only link to the world: it dials the gateway's /worker namespace with its secret
// and serves session requests. Losing the gateway stops this worker's running kernels, because
// the gateway has already told their notebooks that they are gone; suspended ones are only
// forgotten here (the gateway keeps their checkpoint, and any worker may resume them).
import path from "node:path";
import fs from "node:fs";
import { io, type Socket } from "socket.io-client";
import { validateTerminalRequest, WORKER_NAMESPACE, type GatewayToWorker, type StartSession, type WorkerToGateway } from "@cellar/protocol";
import type { WorkerConfig } from "../config";
import { detectResources } from "../resources";
import { ImageAttacher } from "../images/image-attacher";
import { KernelSession } from "../kernel/kernel-session";
import { SuspendedKernels } from "../kernel/suspended-kernels";
import { suspendForShutdown } from "../kernel/shutdown";
import { startKernelSandbox } from "../sandbox/kernel-sandbox";
import { sandboxMemoryCap } from "../sandbox/sandbox-cgroup";
import { serveWorkspaceFiles } from "../files/files-handler";
import { BlobFetcher } from "@cellar/fs-client";
import { DEFAULT_WARMUP, KernelPool, WarmSnapshots } from "../snapshots";

type GatewaySocket = Socket<GatewayToWorker, WorkerToGateway>;

export function connectToGateway(config: WorkerConfig): { socket: GatewaySocket; close(): Promise<void> } {
  const sessions = new Map<string, KernelSession>();
  const images = new ImageAttacher({
    gatewayUrl: config.gatewayUrl, secret: config.secret, home: config.home,
    cacheDir: config.cacheDir, cacheMaxBytes: config.chunkCacheBytes,
  });
  const snapshotCas = new BlobFetcher({ baseUrl: config.gatewayUrl, authorization: `Bearer ${config.secret}` });
  const snapshots = new WarmSnapshots({
    dir: path.join(config.cacheDir, "snapshots"), remote: snapshotCas, stateRoot: config.stateRoot, platform: config.platform,
  });
  const suspendedKernels = new SuspendedKernels({ dir: path.join(config.home, "suspended-kernels"), remote: snapshotCas });
  // What each session asked for: the pool's memory budget and workspace checks read it. Entries
  // of sessions that have ended are dropped whenever it is read.
  const requested = new Map<string, StartSession>();
  const liveRequests = () => {
    for (const id of requested.keys()) if (!sessions.has(id)) requested.delete(id);
    return [...requested.values()];
  };
  const pool = new KernelPool({
    snapshots, size: config.warmSnapshots ? config.kernelPoolSize : 0,
    workspacesDir: path.join(config.home, "workspaces"), memoryBytes: detectResources().memoryBytes,
    liveSessionsMemory: () => liveRequests().reduce((n, p) => n + sandboxMemoryCap(p.limits.memoryBytes), 0),
  });
  const socket: GatewaySocket = io(new URL(WORKER_NAMESPACE, config.gatewayUrl).toString(), {
    auth: { secret: config.secret, workerId: config.workerId, resources: detectResources() },
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  });

  socket.on("connect", () => console.log(`worker ${config.workerId}: connected to ${config.gatewayUrl}`));
  socket.on("connect_error", (err) => console.warn(`worker ${config.workerId}: cannot reach gateway: ${err.message}`));
  let closing = false;
  socket.on("disconnect", async (why) => {
    // While closing, close() is suspending these kernels: stopping them here would lose them.
    if (closing) return console.warn(`worker ${config.workerId}: disconnected from gateway (${why}) while closing`);
    console.warn(`worker ${config.workerId}: disconnected from gateway (${why}); stopping ${sessions.size} kernel(s)`);
    await Promise.all([...sessions.values()].map((s) => (s.state === "suspended" ? s.release() : s.stop())));
    sessions.clear();
  });

  socket.on("session:start", async (p: StartSession, ack) => {
    if (sessions.has(p.sessionId)) return ack({ ok: false, error: "session already exists" });
    const workspaceDir = path.join(config.home, "workspaces", p.notebookId);
    const sandboxOptions = (imageRootfs: string) => ({
      sessionId: p.sessionId, imageRootfs, workspaceDir, stateRoot: config.stateRoot, limits: p.limits, platform: config.platform,
    });
    const resumeOptions = async () => sandboxOptions(await images.attach(p.imageId));
    const session = new KernelSession(p.sessionId, {
      onMessage: (message) => socket.emit("session:message", { sessionId: p.sessionId, message }),
      onTerminal: (event) => socket.emit("session:terminal", { sessionId: p.sessionId, event }),
      onStatus: (status, reason, suspended) => socket.emit("session:status", { sessionId: p.sessionId, status, reason, suspended }),
    }, { suspendAfterMs: config.suspendAfterMs, suspender: suspendedKernels.for(p.sessionId, resumeOptions) });
    sessions.set(p.sessionId, session);
    requested.set(p.sessionId, p);
    if (p.resume) {
      // A kernel suspended by another worker (or this one before a restart): it resumes on its
      // first request, which the gateway sends right behind this.
      session.adoptSuspended(p.resume);
      return ack({ ok: true });
    }
    try {
      const spec = { imageId: p.imageId, limits: p.limits, warmup: p.warmup ?? DEFAULT_WARMUP };
      // On a worker that has never seen the image, its snapshot comes while the image mounts,
      // and the mount skips the boot packs that only a boot would read.
      const forRestore = config.warmSnapshots && (await snapshots.prefetch(spec));
      const imageRootfs = await images.attach(p.imageId, { forRestore });
      fs.mkdirSync(workspaceDir, { recursive: true });
      await session.start(async () => {
        if (!config.warmSnapshots) {
          return startKernelSandbox(sandboxOptions(imageRootfs));
        }
        // Claims a kernel the pool restored ahead of time, else restores the image's warm
        // snapshot, or boots cold (and makes the snapshot afterwards, in the background, so
        // this user is not slowed).
        const t0 = performance.now();
        const workspaceInUse = liveRequests().some((o) => o.notebookId === p.notebookId && o.sessionId !== p.sessionId);
        const started = await pool.start(spec, imageRootfs, { sessionId: p.sessionId, workspaceDir }, { claim: !workspaceInUse });
        const ms = (performance.now() - t0).toFixed(0);
        const how = started.source === "pool" ? `claimed a pool kernel (${started.claimMs} ms)`
          : started.source === "snapshot" ? `restored from a warm snapshot (lookup ${started.timings?.lookupMs} ms, restore ${started.timings?.restoreMs} ms)`
          : `booted cold (${started.reason})`;
        console.log(`worker: session ${p.sessionId} ${how} in ${ms} ms`);
        return started.sandbox;
      });
      ack({ ok: true });
    } catch (err) {
      sessions.delete(p.sessionId);
      console.error(`worker: session ${p.sessionId} failed to start:`, err);
      ack({ ok: false, error: (err as Error).message });
    }
  });

  socket.on("session:send", (p) => sessions.get(p.sessionId)?.send(p.message));
  socket.on("session:interrupt", (p) => sessions.get(p.sessionId)?.interrupt());
  socket.on("session:terminal", (p) => {
    const req = validateTerminalRequest(p?.request);
    if (!req.ok) return console.warn(`worker: dropped terminal request: ${req.error}`);
    sessions.get(p.sessionId)?.terminal(req.value);
  });
  socket.on("session:suspend", async (p, ack) => {
    const s = sessions.get(p?.sessionId);
    if (!s) return ack({ ok: false, error: "No such kernel on this worker." });
    if (await s.suspend()) return ack({ ok: true });
    ack({ ok: false, error: s.suspendFailure ? `The kernel could not be suspended and keeps running: ${s.suspendFailure}` : `The kernel is ${s.status}; only an idle kernel can be suspended.` });
  });
  socket.on("session:stop", async (p, ack) => {
    const s = sessions.get(p.sessionId);
    sessions.delete(p.sessionId);
    await s?.stop();
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
      if (socket.connected) {
        await suspendForShutdown([...sessions.values()].reverse(), config.shutdownGraceMs);
        // Another worker can only resume them once their checkpoints are in the CAS.
        await suspendedKernels.settle();
        await socket.timeout(5_000).emitWithAck("worker:leaving", {}).catch(() => {});
      }
      socket.close();
      await Promise.all([...sessions.values()].map((s) => (s.state === "suspended" ? s.release() : s.stop())));
      sessions.clear();
      await pool.stop();
      await images.detachAll();
      snapshotCas.close();
    },
  };
}
