// A real gateway (createGateway, in this process, so a test can call what it exposes) with the
// real image catalog and real worker processes (apps/worker: gVisor sandboxes, IPython, warm
// snapshots and the kernel pool; one by default) connected to it, on a throwaway SQLite database.
// Needs what the e2e suites need: root, runsc and the built images under CELLAR_CACHE (/var/cache/cellar).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase, type Database } from "@cellar/db";
import { openBlobStore } from "@cellar/fs-client";
import type { GatewayConfig } from "../config";
import { createGateway, type Gateway } from "../gateway";
import { gatewayStores } from "../gateway-stores";
import { loadImageCatalog } from "../images/image-catalog";
import { until } from "./gateway-harness";
import { testGatewayConfig } from "./test-gateway";

export const REPO = resolve(fileURLToPath(import.meta.url), "../../../../..");
export const CACHE = process.env.CELLAR_CACHE ?? "/var/cache/cellar";
/** The machine's local wheel index (DESIGN.md), which the pip-layer tests install from. */
export const LOCAL_PIP_INDEX = "/opt/pypi/simple";

/** Why a real stack that builds pip layers cannot run here, or null when it can. */
export function pipStackUnavailable(): string | null {
  if (!existsSync(LOCAL_PIP_INDEX)) return `no local wheel index at ${LOCAL_PIP_INDEX}`;
  if (process.getuid?.() !== 0) return "building a layer mounts an overlay and sandboxes need root";
  if (!existsSync(join(CACHE, "images/base/rootfs/etc/cellar/image-stamp"))) return `the base image is not built under ${CACHE}`;
  return null;
}

/** One real worker process connected to the stack's gateway. */
export interface RealWorker {
  id: string;
  process: ChildProcess;
  /** What it printed, for a failing test's message. */
  log: string[];
}

export interface RealStack {
  gateway: Gateway;
  db: Database;
  url: string;
  token: string;
  /** The first worker's process, id and log (of `workers`). */
  worker: ChildProcess;
  workerId: string;
  workerLog: string[];
  workers: RealWorker[];
  close(): Promise<void>;
}

export interface RealStackOptions {
  /** Worker processes to connect (default 1), each with a home of its own. */
  workers?: number;
  /** How long a kernel waits for its lost worker before it is dead (default 2 s). */
  lostWorkerGraceMs?: number;
  /** The scheduler's pace (default: the gateway's own). */
  scheduler?: { tickMs?: number; leaseMs?: number };
  /** Image specs to offer instead of the repo's images/ (built ones only). */
  specsDir?: string;
  /** Where the gateway's pip builds resolve. */
  pipIndex?: string;
}

export async function startRealStack(opts: RealStackOptions = {}): Promise<RealStack> {
  if (process.getuid?.() !== 0) throw new Error("the real stack runs gVisor sandboxes, which need root: run these tests as root");
  const dir = mkdtempSync(join(tmpdir(), "cellar-real-stack-"));
  mkdirSync(join(dir, "web"));
  mkdirSync(join(dir, "output-frame"));
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
    lostWorkerGraceMs: opts.lostWorkerGraceMs ?? 2_000,
  };
  const gateway = createGateway({
    config,
    ...gatewayStores(db),
    token,
    workerSecret,
    blobStore,
    images,
    scheduler: opts.scheduler,
  });
  const { port } = await gateway.listen();
  const url = `http://127.0.0.1:${port}`;
  const workers: RealWorker[] = [];

  const connected = (workerId: string) =>
    fetch(`${url}/api/workers`, { headers: { authorization: `Bearer ${token}` } })
      .then((r) => r.json() as Promise<Array<{ id: string }>>)
      .then((ws) => ws.some((w) => w.id === workerId))
      .catch(() => false);
  const startWorker = (id: string): RealWorker => {
    const home = join(dir, `worker-${workers.length + 1}`);
    mkdirSync(home);
    const log: string[] = [];
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "apps/worker/src/main.ts")], {
      cwd: REPO,
      env: {
        ...process.env,
        CELLAR_GATEWAY_URL: url,
        CELLAR_WORKER_SECRET: workerSecret,
        CELLAR_WORKER_ID: id,
        CELLAR_HOME: home,
        CELLAR_CACHE: CACHE,
        CELLAR_GATEWAY_GRACE_S: "5",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [child.stdout!, child.stderr!]) stream.on("data", (b: Buffer) => log.push(b.toString()));
    const worker = { id, process: child, log };
    workers.push(worker);
    return worker;
  };
  const stopWorker = async ({ process: child }: RealWorker) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  try {
    for (let i = 0; i < (opts.workers ?? 1); i++) startWorker(i === 0 ? `real-stack-${process.pid}` : `real-stack-${process.pid}-${i + 1}`);
    for (const w of workers) await until(() => connected(w.id), `worker ${w.id} to connect (its log: ${w.log.join("")})`, 60_000);
  } catch (error) {
    for (const w of workers) w.process.kill("SIGKILL");
    throw error;
  }

  const [first] = workers as [RealWorker];
  return {
    gateway,
    db,
    url,
    token,
    worker: first.process,
    workerId: first.id,
    workerLog: first.log,
    workers,
    close: async () => {
      await Promise.all(workers.map(stopWorker));
      await gateway.close().catch(() => {});
      await db.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
