// Composes the gateway: HTTP (login, API, web app), browser sockets, worker sockets, kernels.
import type http from "node:http";
import { Server } from "socket.io";
import { WORKER_NAMESPACE, type GatewayToWorker, type KernelStatus, type WorkerToGateway } from "@cellar/protocol";
import type { BlobStore } from "@cellar/fs-client";
import type { ImageCatalog } from "./images/image-catalog";
import type { GatewayConfig } from "./config";
import { createHttpServer } from "./http/http-server";
import type { NotebookApiStore } from "./http/notebooks-api";
import type { NotebookFileStore } from "./http/notebook-files-api";
import { isAuthorized } from "./http/auth";
import { KernelManager, type RunRecorder } from "./kernels/kernel-manager";
import { attachBrowserSockets, notebookRoom, type BrowserServer } from "./sockets/browser-sockets";
import { attachWorkerSockets } from "./sockets/worker-sockets";
import { WorkerPool } from "./workers/worker-pool";
import { TerminalRelay } from "./terminals/terminal-relay";

export interface GatewayStore extends NotebookApiStore, NotebookFileStore, RunRecorder {}

export interface Gateway {
  server: http.Server;
  kernels: KernelManager;
  listen(): Promise<{ port: number }>;
  close(): Promise<void>;
}

export function createGateway(opts: {
  config: GatewayConfig; store: GatewayStore; userId: string; token: string; workerSecret: string;
  blobStore: BlobStore; images: ImageCatalog;
}): Gateway {
  const { config, store } = opts;
  const pool = new WorkerPool();
  // Each open notebook's chosen image, learnt when it is opened or saved, so a kernel start needs no query.
  const notebookImages = new Map<string, string>();
  const server = createHttpServer({
    token: opts.token, webDir: config.webDir, store, userId: opts.userId, workers: () => pool.list(),
    dropWorkerCaches: () => pool.dropCaches(),
    onNotebookSaved: (id, nb) => {
      if (nb?.image) notebookImages.set(id, nb.image);
      kernels.onNotebookSaved(id);
    },
    images: () => opts.images.list().map(({ name, description }) => ({ name, description })),
    onNotebookDeleted: (id) => void kernels.stop(id),
    blobs: { store: opts.blobStore, workerSecret: opts.workerSecret },
    kernels: { suspendKernel: (id) => kernels.suspend(id) },
    workspaceFiles: {
      notebookExists: async (id) => (await store.get(id)) !== null,
      // A notebook that never had a kernel has an empty workspace on any worker.
      workerFor: (id) => {
        const worker = kernels.workerOf(id) ?? pool.pick();
        return worker && { ask: (event, payload, ms) => (worker.socket.timeout(ms).emitWithAck as any)(event, payload) };
      },
    },
  });
  // Short ping so a vanished worker is noticed within seconds, not the default ~45 s.
  const io: BrowserServer = new Server(server, { pingInterval: 2000, pingTimeout: 3000, maxHttpBufferSize: 64 * 1024 * 1024 });
  io.use((socket, next) => (isAuthorized(socket.request, opts.token) ? next() : next(new Error("unauthorized"))));

  const kernels = new KernelManager({
    pool, store,
    emit: (notebookId, event, payload) => {
      if (event === "kernel:status") terminals.onKernelStatus(notebookId, (payload as { status: KernelStatus }).status);
      (io.to(notebookRoom(notebookId)).emit as any)(event, payload);
    },
    limits: { memoryBytes: config.sessionMemoryBytes, pids: config.sessionPids },
    resolveImage: (name) => opts.images.imageId(name),
    imageOf: (id) => notebookImages.get(id) ?? "base",
    warmupOf: (name) => opts.images.get(name)?.warmup,
    startTimeoutMs: config.kernelStartTimeoutMs,
  });
  const terminals = new TerminalRelay((notebookId, req) => kernels.sendTerminal(notebookId, req));
  attachBrowserSockets(io, { kernels, pool, terminals, notebookExists: async (id) => {
    const nb = await store.get(id);
    if (nb) notebookImages.set(id, nb.image ?? "base");
    return nb !== null;
  } });
  attachWorkerSockets(io.of(WORKER_NAMESPACE) as any as import("socket.io").Namespace<WorkerToGateway, GatewayToWorker>, {
    pool, kernels, terminals, workerSecret: opts.workerSecret,
    onCountChange: () => io.emit("workers:count", { connected: pool.count }),
  });

  return {
    server,
    kernels,
    listen: () => new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => {
        const addr = server.address();
        resolve({ port: typeof addr === "object" && addr ? addr.port : config.port });
      });
    }),
    close: async () => {
      await kernels.shutdown();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}
