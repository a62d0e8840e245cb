// A real gateway (createGateway, in this process, so a test can call what it exposes) with the
// real image catalog and a real worker process (apps/worker: gVisor sandboxes, IPython, warm
// snapshots and the kernel pool) connected to it, on a throwaway SQLite database. Needs what the
// e2e suites need: root, runsc and the built images under CELLAR_CACHE (/var/cache/cellar).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase, type Database } from "@cellar/db";
import { openBlobStore } from "@cellar/fs-client";
import type { GatewayConfig } from "../config";
import { createGateway, type Gateway } from "../gateway";
import { loadImageCatalog } from "../images/image-catalog";
import { until } from "./gateway-harness";
import { testGatewayConfig } from "./test-gateway";

const REPO = resolve(fileURLToPath(import.meta.url), "../../../../..");
const CACHE = process.env.CELLAR_CACHE ?? "/var/cache/cellar";

export interface RealStack {
  gateway: Gateway;
  db: Database;
  url: string;
  token: string;
  worker: ChildProcess;
  workerId: string;
  /** What the worker printed, for a failing test's message. */
  workerLog: string[];
  close(): Promise<void>;
}

/** `specsDir`: image specs to offer instead of the repo's images/ (built ones only); `pipIndex`:
 * where the gateway's pip builds resolve. */
export async function startRealStack(opts: { specsDir?: string; pipIndex?: string } = {}): Promise<RealStack> {
  if (process.getuid?.() !== 0) throw new Error("the real stack runs gVisor sandboxes, which need root: run these tests as root");
  const dir = mkdtempSync(join(tmpdir(), "cellar-real-stack-"));
  mkdirSync(join(dir, "web"));
  const db = await openDatabase(`file:${join(dir, "db.sqlite")}`, { log: () => {} });
  const casDir = join(CACHE, "cas");
  const blobStore = openBlobStore({ localDir: casDir });
  // Built images only: building one is the installer's job (and takes minutes).
  const specsDir = opts.specsDir ?? join(REPO, "images");
  const images = await loadImageCatalog({
    cacheDir: CACHE,
    store: blobStore,
    specsDir,
    build: false,
    pipIndex: opts.pipIndex,
    log: () => {},
  });
  if (!images.imageId("base"))
    throw new Error(`the base image is not built under ${CACHE}: run npm run setup (or scripts/build-base-image.sh)`);
  const token = `real-stack-${process.pid}`;
  const workerSecret = `real-stack-worker-${process.pid}`;
  // The test gateways' settings, but the real images and a real sandbox's needs.
  const config: GatewayConfig = {
    ...testGatewayConfig({ home: dir }),
    imagesDir: specsDir,
    cacheDir: CACHE,
    casDir,
    sessionPids: 256,
    kernelStartTimeoutMs: 120_000,
    lostWorkerGraceMs: 2_000,
  };
  const gateway = createGateway({
    config,
    store: db.notebooks,
    sessions: db.kernels,
    accounts: db.accounts,
    accessTokens: db.accessTokens,
    shares: db.shares,
    schedules: db.schedules,
    identities: db.identities,
    documents: db.documents,
    userId: db.localUserId,
    token,
    workerSecret,
    blobStore,
    images,
  });
  const { port } = await gateway.listen();
  const url = `http://127.0.0.1:${port}`;
  const workerId = `real-stack-${process.pid}`;
  const workerLog: string[] = [];
  const worker = spawn(process.execPath, ["--import", "tsx", join(REPO, "apps/worker/src/main.ts")], {
    cwd: REPO,
    env: {
      ...process.env,
      CELLAR_GATEWAY_URL: url,
      CELLAR_WORKER_SECRET: workerSecret,
      CELLAR_WORKER_ID: workerId,
      CELLAR_HOME: dir,
      CELLAR_CACHE: CACHE,
      CELLAR_GATEWAY_GRACE_S: "5",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [worker.stdout!, worker.stderr!]) stream.on("data", (b: Buffer) => workerLog.push(b.toString()));
  const connected = () =>
    fetch(`${url}/api/workers`, { headers: { authorization: `Bearer ${token}` } })
      .then((r) => r.json() as Promise<Array<{ id: string }>>)
      .then((ws) => ws.some((w) => w.id === workerId))
      .catch(() => false);
  try {
    await until(connected, `worker ${workerId} to connect (its log: ${workerLog.join("")})`, 60_000);
  } catch (error) {
    worker.kill("SIGKILL");
    throw error;
  }

  return {
    gateway,
    db,
    url,
    token,
    worker,
    workerId,
    workerLog,
    close: async () => {
      if (worker.exitCode === null && worker.signalCode === null) {
        const exited = new Promise((r) => worker.once("exit", r));
        worker.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
        if (worker.exitCode === null && worker.signalCode === null) worker.kill("SIGKILL");
      }
      await gateway.close().catch(() => {});
      await db.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
