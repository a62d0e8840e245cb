// The worker's only link to the world: it dials the gateway's /worker namespace with its secret
// and serves session requests. Losing the gateway stops this worker's kernels, because the
// gateway has already told their notebooks that they are gone.
import path from "node:path";
import fs from "node:fs";
import { io, type Socket } from "socket.io-client";
import { WORKER_NAMESPACE, type GatewayToWorker, type StartSession, type WorkerToGateway } from "@cellar/protocol";
import type { WorkerConfig } from "../config";
import { detectResources } from "../resources";
import { ImageAttacher } from "../images/image-attacher";
import { KernelSession } from "../kernel/kernel-session";
import { startKernelSandbox } from "../sandbox/kernel-sandbox";
import { serveWorkspaceFiles } from "../files/files-handler";
import { BlobFetcher } from "@cellar/fs-client";
import { DEFAULT_WARMUP, WarmSnapshots } from "../snapshots";

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
  const socket: GatewaySocket = io(new URL(WORKER_NAMESPACE, config.gatewayUrl).toString(), {
    auth: { secret: config.secret, workerId: config.workerId, resources: detectResources() },
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  });

  socket.on("connect", () => console.log(`worker ${config.workerId}: connected to ${config.gatewayUrl}`));
  socket.on("connect_error", (err) => console.warn(`worker ${config.workerId}: cannot reach gateway: ${err.message}`));
  socket.on("disconnect", async (why) => {
    console.warn(`worker ${config.workerId}: disconnected from gateway (${why}); stopping ${sessions.size} kernel(s)`);
    await Promise.all([...sessions.values()].map((s) => s.stop()));
    sessions.clear();
  });

  socket.on("session:start", async (p: StartSession, ack) => {
    if (sessions.has(p.sessionId)) return ack({ ok: false, error: "session already exists" });
    const session = new KernelSession(p.sessionId, {
      onMessage: (message) => socket.emit("session:message", { sessionId: p.sessionId, message }),
      onStatus: (status, reason) => socket.emit("session:status", { sessionId: p.sessionId, status, reason }),
    });
    sessions.set(p.sessionId, session);
    try {
      const imageRootfs = await images.attach(p.imageId);
      const workspaceDir = path.join(config.home, "workspaces", p.notebookId);
      fs.mkdirSync(workspaceDir, { recursive: true });
      await session.start(async () => {
        if (!config.warmSnapshots) {
          return startKernelSandbox({
            sessionId: p.sessionId, imageRootfs, workspaceDir, stateRoot: config.stateRoot, limits: p.limits, platform: config.platform,
          });
        }
        // Restores the image's warm snapshot, or boots cold (and makes the snapshot afterwards,
        // in the background, so this user is not slowed).
        const t0 = performance.now();
        const spec = { imageId: p.imageId, limits: p.limits, warmup: p.warmup ?? DEFAULT_WARMUP };
        const started = await snapshots.start(spec, imageRootfs, { sessionId: p.sessionId, workspaceDir });
        const ms = (performance.now() - t0).toFixed(0);
        console.log(`worker: session ${p.sessionId} ${started.source === "snapshot" ? `restored from a warm snapshot (lookup ${started.timings?.lookupMs} ms, restore ${started.timings?.restoreMs} ms)` : `booted cold (${started.reason})`} in ${ms} ms`);
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
      socket.close();
      await Promise.all([...sessions.values()].map((s) => s.stop()));
      sessions.clear();
      await images.detachAll();
      snapshotCas.close();
    },
  };
}
