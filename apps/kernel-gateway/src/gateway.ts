// Composes the gateway: HTTP (login, API, web app), socket.io beside it, kernels, terminals and
// workers. Only wiring: each part keeps its own state.
import type http from "node:http";
import { createHmac } from "node:crypto";
import type {
  AccessTokenStore,
  AccountStore,
  DocumentStore,
  IdentityStore,
  KernelSessionStore,
  ScheduleStore,
  NotebookStore,
  ShareStore,
} from "@cellar/db";
import { Identity } from "./auth/identity";
import { SingleSignOn } from "./auth/single-sign-on";
import { userRoom } from "./sockets/rooms";
import { CPU, deviceOfCell } from "@cellar/protocol";
import type { BlobStore } from "@cellar/fs-client";
import { buildImageRequest, imageReply } from "./images/build-request";
import { saveNotebookImage } from "./images/save-notebook-image";
import type { ImageCatalog } from "./images/image-catalog";
import type { GatewayConfig } from "./config";
import { createHttpApp } from "./http/http-app";
import type { NotebookApiStore } from "./http/notebooks-api";
import type { NotebookFileStore } from "./http/notebook-files-api";
import { roomFilesWorker, socketFilesWorker } from "./http/workspace-files-api";
import { KernelRouter } from "./cluster/kernel-router";
import { Fleet } from "./cluster/fleet";
import { KernelManager, type RunRecorder } from "./kernels/kernel-manager";
import { NotebookImages } from "./notebooks/notebook-images";
import { NotebookPackagesService } from "./notebooks/notebook-packages";
import { attachBrowserSockets, notebookEmitter } from "./sockets/browser-sockets";
import { DocumentHubs } from "./documents/document-hubs";
import { attachDocumentSockets } from "./sockets/document-sockets";
import { createSocketServer } from "./sockets/socket-server";
import { attachWorkerSockets } from "./sockets/worker-sockets";
import { WorkerPool } from "./workers/worker-pool";
import { TerminalRelay } from "./terminals/terminal-relay";
import { NotebookRunner } from "./runs/notebook-runner";
import { runPagePath } from "./http/schedules-api";
import { Scheduler, type SchedulerOptions } from "./schedules/scheduler";
import { WebhookSender } from "./schedules/webhook-sender";

/** How long a shutdown waits for the live documents to be stored. */
const DOCUMENTS_CLOSE_MS = 15_000;

export interface GatewayStore
  extends NotebookApiStore,
    NotebookFileStore,
    RunRecorder,
    Pick<NotebookStore, "createExecutedCopy" | "runMetadata" | "setPackages"> {
  cellSource(notebookId: string, cellId: string): Promise<string | null>;
}

export interface Gateway {
  server: http.Server;
  kernels: KernelManager;
  /** Headless runs of notebooks (schedules, "run now"), on this gateway's workers. */
  runs: NotebookRunner;
  /** Turns schedules' fire times into runs and runs them (tests tick it themselves). */
  scheduler: Scheduler;
  listen(): Promise<{ port: number }>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  config: GatewayConfig;
  store: GatewayStore;
  /** Every notebook's kernel, recorded so that a restarted gateway or another replica knows it. */
  sessions: KernelSessionStore;
  /** Users, their sessions and invites. */
  accounts: AccountStore;
  accessTokens: AccessTokenStore;
  /** Who else may open each notebook: grants and share links, and every caller's role. */
  shares: ShareStore;
  /** OpenID Connect sign-ins linked to users (used when config.oidc is set). */
  identities: IdentityStore;
  /** The notebooks' live-editing documents. */
  documents: DocumentStore;
  /** Schedules, their runs, notifications and notices. */
  schedules: ScheduleStore;
  /** The scheduler's pace (tickMs 0: it does not tick by itself, for tests that drive it). */
  scheduler?: Pick<SchedulerOptions, "tickMs" | "leaseMs" | "maxRuns" | "now">;
  /** The instance's first owner: whom the instance token signs in. */
  userId: string;
  token: string;
  workerSecret: string;
  blobStore: BlobStore;
  images: ImageCatalog;
  /** GET /api/ready: resolves while the database answers. */
  pingDatabase?: () => Promise<void>;
}

export function createGateway(opts: GatewayOptions): Gateway {
  const { config, store } = opts;
  const pool = new WorkerPool();
  const images = new NotebookImages(store);
  const packages = new NotebookPackagesService({
    catalog: opts.images,
    cacheDir: config.cacheDir,
    notebooks: {
      get: (id) => store.get(id),
      setPackages: async (id, image, pip) => {
        if (!(await store.setPackages(id, image, pip))) throw new Error("The notebook is gone.");
      },
    },
    readWorkspaceFile: async (id, file) => {
      const worker = await workspaceWorker(id);
      if (!worker) throw new Error("no worker holding them is connected");
      const res = await worker.ask("files:read", { notebookId: id, path: file, maxBytes: 1 << 20 }, 30_000);
      if (!res.ok) throw new Error(res.error);
      return Buffer.from(res.content).toString("utf8");
    },
  });

  const identity = new Identity({ accounts: opts.accounts, accessTokens: opts.accessTokens, token: opts.token, ownerId: opts.userId });
  // The flow cookie's key comes from the instance token, so every replica (which shares it) can
  // read a flow another one started.
  const singleSignOn =
    config.oidc && new SingleSignOn(config.oidc, createHmac("sha256", opts.token).update("cellar oidc flow").digest("hex"));
  // Discovered now rather than at the first sign-in; a provider that is down is retried later.
  void singleSignOn?.reachable();
  const app = createHttpApp({
    identity,
    accounts: opts.accounts,
    accessTokens: opts.accessTokens,
    identities: opts.identities,
    singleSignOn,
    disconnectUser: (userId) => io.in(userRoom(userId)).disconnectSockets(true),
    webDir: config.webDir,
    outputFrames: {
      dir: config.outputFrameDir,
      origin: config.outputOrigin,
      appOrigin: config.publicUrl && new URL(config.publicUrl).origin,
    },
    store,
    shares: opts.shares,
    schedules: opts.schedules,
    // A grant changed or went, or a link was revoked: the pages it concerns are asked again.
    onAccessChanged: (change) => accessChanged(change.notebookId),
    workers: () => fleet.list(),
    dropWorkerCaches: () => pool.dropCaches(),
    onNotebookSaved: (id, nb, update) => {
      images.saved(id, nb);
      documents.saved(id, update, nb).catch((e) => console.error(`gateway: the save of ${id} did not reach its live document:`, e));
      router.route(id, { op: "saved" }).catch((e) => console.warn(`gateway: ${e.message}`));
    },
    images: () => opts.images.list().map(imageReply),
    buildImage: (body) => buildImageRequest(opts.images, config.cacheDir, body),
    imageBuildLog: (name) => opts.images.buildLog(name) ?? null,
    saveNotebookImage: (request) => saveNotebookImage(opts.images, config.cacheDir, request),
    onNotebookDeleted: (id) =>
      void router.route(id, { op: "stop" }).catch((e) => console.error(`gateway: the deleted notebook ${id}'s kernel was not stopped:`, e)),
    blobs: { store: opts.blobStore, workerSecret: opts.workerSecret },
    pingDatabase: opts.pingDatabase,
    redisProblem: () => redis?.problem() ?? null,
    kernels: { suspendKernel: (id) => router.route(id, { op: "suspend" }) },
    workspaceFiles: {
      notebookExists: async (id) => (await store.get(id)) !== null,
      workerFor: (id) => workspaceWorker(id),
    },
  });
  const { io, workers, redis } = createSocketServer(
    app.server,
    identity,
    { roleOf: (notebookId, link) => opts.shares.roleOf(null, notebookId, link) },
    config.redisUrl,
  );

  // A notebook that never had a kernel has an empty workspace on any worker.
  const workspaceWorker = async (id: string) => {
    const workerId = await router.workspaceWorker(id);
    const local = workerId ? pool.get(workerId) : undefined;
    if (local) return socketFilesWorker(local.socket);
    return workerId ? roomFilesWorker(workers, workerId) : undefined;
  };
  const kernels: KernelManager = new KernelManager({
    pool,
    store,
    emit: notebookEmitter(io),
    limits: { memoryBytes: config.sessionMemoryBytes, pids: config.sessionPids },
    imageFor: async (id) => {
      const { image, packages: pip } = await images.of(id);
      return packages.imageFor(image, pip);
    },
    packages: {
      change: async (id, commands, say) => {
        const change = await packages.change(id, commands, say);
        return {
          image: change.image,
          record: async () => {
            await packages.record(id, change);
            images.saved(id, (await store.get(id)) ?? undefined);
            notebookEmitter(io)(id, "notebook:packages", { notebookId: id, image: change.image.name, packages: change.packages });
          },
        };
      },
    },
    warmStartOf: (name) => {
      const image = opts.images.get(name);
      const parent = image?.pip && image.parent ? opts.images.get(image.parent) : undefined;
      return { warmup: image?.warmup, snapshotOf: parent && { imageId: parent.imageId, warmup: parent.warmup } };
    },
    startTimeoutMs: config.kernelStartTimeoutMs,
    sessions: opts.sessions,
    userId: opts.userId,
    shared: redis !== null,
    ownedElsewhere: (id: string): Promise<boolean> => router.ownedElsewhere(id),
    lostWorkerGraceMs: config.lostWorkerGraceMs,
  });
  const terminals = new TerminalRelay(
    (notebookId, req) => router.route(notebookId, { op: "terminal", request: req }),
    (notebookId) => router.route(notebookId, { op: "ensure" }),
  );
  const router = new KernelRouter(
    io,
    kernels,
    pool,
    redis !== null,
    {
      terminalEvent: (sessionId, event) => terminals.onWorkerEvent(sessionId, event),
      kernelStatus: ({ notebookId, status }) => terminals.onKernelStatus(notebookId, status),
    },
    () => redis?.problem() ?? null,
  );
  const fleet = new Fleet(io, pool, redis !== null, () => redis?.problem() ?? null);
  kernels.onStatusChange((change) => {
    terminals.onKernelStatus(change.notebookId, change.status);
    router.shareKernelStatus(change);
  });

  const browsers = attachBrowserSockets(io, {
    kernels: router,
    terminals,
    roleOn: async (userId, id, link) => {
      const role = await opts.shares.roleOf(userId, id, link);
      return role && (await images.open(id)) ? role : null;
    },
    // The live document when a page has it open here (the Cell table lags it by a second).
    cellSource: async (id, cellId) => {
      const live = await documents.liveCellSource(id, cellId);
      return live === undefined ? store.cellSource(id, cellId) : live;
    },
    cellDevice: async (id, cellId) => {
      const stored = await store.runMetadata(id, cellId);
      const live = await documents.liveCellDevice(id, cellId, stored.notebook);
      return live === undefined ? deviceOfCell(stored.cell ?? undefined, stored.notebook) : (live ?? CPU);
    },
  });
  // Someone's access to a notebook changed: every replica asks its pages' roles again.
  io.on("cellar:access-changed", ({ notebookId }) => void browsers.recheckAccess(notebookId));
  const accessChanged = (notebookId: string) => {
    void browsers.recheckAccess(notebookId);
    if (redis) io.serverSideEmit("cellar:access-changed", { notebookId });
  };
  const documents = new DocumentHubs({
    documents: opts.documents,
    notebooks: store,
    writeBack: async (id, cells) => {
      const saved = await store.update(id, { cells });
      // Like a save: outputs of cells that did not exist in the table yet can land now.
      if (saved) await router.route(id, { op: "saved" });
    },
    replicas: redis ? io : null,
    log: (line) => console.warn(line),
  });
  attachDocumentSockets(io, documents);
  redis?.onConnected(() => documents.resync());
  attachWorkerSockets(workers, {
    pool,
    kernels,
    terminals,
    workerSecret: opts.workerSecret,
    onCountChange: () => void router.announceWorkerCount(),
    shareTerminalEvent: (sessionId, event) => router.shareTerminalEvent(sessionId, event),
  });

  const runs = new NotebookRunner({
    kernels,
    notebooks: store,
    useImage: (id, copy) => images.saved(id, copy),
    kernelStartTimeoutMs: config.kernelStartTimeoutMs,
    userName: async (id) => (await opts.accounts.getUser(id))?.name ?? null,
  });
  // Every replica ticks; the database decides which one runs each fire time.
  const scheduler = new Scheduler({
    store: opts.schedules,
    run: (request) => runs.run(request),
    owner: `gateway-${router.replicaId}`,
    // The runner starts kernels on this replica's own workers.
    canRun: () => pool.placeable().length > 0,
    maxRuns: config.scheduleMaxRuns,
    ...opts.scheduler,
  });
  const publicUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
  const webhooks = new WebhookSender({ store: opts.schedules, runUrl: (id) => `${publicUrl}${runPagePath(id)}` });
  let webhookTimer: NodeJS.Timeout | undefined;

  let closed: Promise<void> | undefined;
  return {
    server: app.server,
    kernels,
    runs,
    scheduler,
    listen: async () => {
      // Before any worker or browser connects: they find the kernels as the last gateway left them.
      const restored = await kernels.restore();
      if (restored) console.log(`gateway: read back ${restored} kernel session(s) from the database`);
      // Redis down at start: serve anyway (503s say why) rather than hang; it catches up later.
      const wait = new Promise<"late">((r) => setTimeout(() => r("late"), 5_000).unref());
      if (redis && (await Promise.race([redis.subscribed(), wait])) === "late")
        console.warn("gateway: Redis is not up yet; serving without it");
      await app.listen({ port: config.port, host: config.host });
      if (opts.scheduler?.tickMs !== 0) {
        scheduler.start();
        const send = () =>
          void webhooks
            .sendDue()
            .catch((e) => console.warn(`gateway: webhook deliveries failed: ${e.message}`))
            .finally(() => {
              webhookTimer = setTimeout(send, 10_000).unref();
            });
        send();
      }
      const addr = app.server.address();
      return { port: typeof addr === "object" && addr ? addr.port : config.port };
    },
    close: () => {
      // Once, however often it is called (a signal during a shutdown).
      closed ??= (async () => {
        clearTimeout(webhookTimer);
        // Its runs' leases lapse, and another replica (or this one restarted) retries them.
        await scheduler.stop();
        router.close();
        fleet.close();
        // Bounded: with the database down the hubs would wait for it forever. What they could not
        // store is still in the pages (and their IndexedDB), which merge it back on reconnect.
        const stored = await Promise.race([
          documents.closeAll().then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), DOCUMENTS_CLOSE_MS).unref()),
        ]);
        if (!stored) console.warn(`gateway: live documents were not all stored within ${DOCUMENTS_CLOSE_MS / 1000} s; stopping anyway`);
        await kernels.shutdown();
        // Closes the HTTP server too.
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await redis?.close();
      })();
      return closed;
    },
  };
}
