// The scaled-out layout on one machine, with real engines: PostgreSQL for state, Redis joining
// the gateway replicas' socket.io rooms, an S3-compatible server for the content store, N gateway
// replicas behind HAProxy, and M workers dialing HAProxy. What `npm run cluster` runs, and what
// an end-to-end test or a benchmark starts programmatically.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openBlobStore, storeSettingsFromEnv } from "@cellar/fs-client";
import { loadConfig } from "../../apps/kernel-gateway/src/config";
import { loadImageCatalog } from "../../apps/kernel-gateway/src/images/image-catalog";
import { loadSecrets } from "../../apps/kernel-gateway/src/secrets";
import { startHaproxy, startPostgres, startRedis, startS3, freePort } from "../engines/index";
import type { HaproxyEngine, PostgresEngine, RedisEngine, S3Engine } from "../engines/index";
import { httpOk } from "../engines/wait-until";
import { type Service, Supervisor } from "../supervisor";
import { copyImages } from "./copy-images";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ClusterOptions {
  /** Where everything lives (databases, bucket, homes, logs); default <repo>/.cellar/cluster.
   * Kept between runs: notebooks and kernels' checkpoints are there the next time. */
  dir?: string;
  /** Gateway replicas (default 3). */
  replicas?: number;
  /** Workers (default 2). */
  workers?: number;
  /** HAProxy's port, the one URL (default 8900, beside npm start's 8800). */
  port?: number;
  /** Browser token and worker secret; default: kept in <dir>/secrets.json. */
  token?: string;
  workerSecret?: string;
  /** Added to every gateway's and worker's environment (CELLAR_SESSION_MEMORY_MB, …). */
  env?: NodeJS.ProcessEnv;
  /** Prefix each process's output lines with its name (default true); false: inherited as is. */
  prefixOutput?: boolean;
  log?: (line: string) => void;
  /** How long to wait for everything to come up (default 180 s; the first run copies the
   * images into the bucket before this starts counting). */
  timeoutMs?: number;
}

/** A gateway replica or a worker: the supervised process (kill() is a crash: it is restarted). */
export type ClusterGateway = Service & { port: number; url: string };
export type ClusterWorker = Service & { id: string; healthPort: number };

export interface Cluster {
  /** HAProxy's URL: what browsers, the CLI and workers use. */
  url: string;
  token: string;
  dir: string;
  gateways: ClusterGateway[];
  workers: ClusterWorker[];
  engines: { postgres: PostgresEngine; redis: RedisEngine; s3: S3Engine; haproxy: HaproxyEngine };
  /** Workers first (they suspend their idle kernels through a gateway), then the gateways,
   * HAProxy and the engines; FUSE mounts left under `dir` are detached. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? ((line: string) => console.log(`cluster: ${line}`));
  const dir = path.resolve(opts.dir ?? path.join(root, ".cellar/cluster"));
  const replicas = opts.replicas ?? 3;
  const workerCount = opts.workers ?? 2;
  const timeoutMs = opts.timeoutMs ?? 180_000;
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`replicas must be 1 or more, not ${replicas}`);
  if (!Number.isInteger(workerCount) || workerCount < 0) throw new Error(`workers must be 0 or more, not ${workerCount}`);
  fs.mkdirSync(dir, { recursive: true });
  // A launcher killed outright leaves its gateways and workers running, and their image mounts.
  reapLeftoverServices(dir, log);
  detachMounts(dir);
  const secrets = loadSecrets(dir, { token: opts.token, workerSecret: opts.workerSecret });

  const cleanups: Array<() => Promise<void>> = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => log(`stopping: ${(e as Error).message}`));
    detachMounts(dir);
  };
  try {
    log(`engines in ${dir}`);
    const [postgres, redis, s3] = await Promise.all([
      startPostgres({ dir: path.join(dir, "postgres") }).then(remember),
      startRedis({ dir: path.join(dir, "redis") }).then(remember),
      startS3({ dir: path.join(dir, "s3"), bucket: "cellar" }).then(remember),
    ]);
    function remember<T extends { stop(): Promise<void> }>(engine: T): T {
      cleanups.push(() => engine.stop());
      return engine;
    }
    log(`postgresql ${postgres.url}, redis ${redis.url}, s3 ${s3.endpoint}/${s3.bucket}`);

    // The gateways' catalog finds its images in the store they use: the bucket.
    const base = { ...process.env, ...opts.env };
    const gatewayConfig = loadConfig(base);
    const s3Env = s3.env("cas/");
    const catalog = await loadImageCatalog({
      cacheDir: gatewayConfig.cacheDir,
      store: openBlobStore(storeSettingsFromEnv({}, gatewayConfig.casDir)),
      specsDir: gatewayConfig.imagesDir,
      log,
    });
    await withS3Credentials(s3Env, () =>
      copyImages({
        from: openBlobStore(storeSettingsFromEnv({}, gatewayConfig.casDir)),
        to: openBlobStore(storeSettingsFromEnv(s3Env, gatewayConfig.casDir)),
        imageIds: catalog.list().map((i) => i.imageId),
        log,
      }),
    );

    const shared = { ...base, CELLAR_TOKEN: secrets.token, CELLAR_WORKER_SECRET: secrets.workerSecret };
    const supervisor = new Supervisor({ root, ownProcessGroups: true, prefixOutput: opts.prefixOutput ?? true, log });
    const gatewayPorts = await distinctFreePorts(replicas);
    const gateways: ClusterGateway[] = gatewayPorts.map((port, i) => {
      const name = `gateway-${i + 1}`;
      const url = `http://127.0.0.1:${port}`;
      const service = supervisor.start({
        name,
        entry: "apps/kernel-gateway/src/main.ts",
        env: {
          ...shared,
          ...s3Env,
          CELLAR_HOST: "127.0.0.1",
          CELLAR_PORT: String(port),
          CELLAR_HOME: path.join(dir, name),
          DATABASE_URL: postgres.url,
          CELLAR_REDIS_URL: redis.url,
        },
        healthUrl: `${url}/api/health`,
        restartDelayMs: 200,
        maxFailedStarts: 5,
      });
      return withFields(service, { port, url });
    });
    cleanups.push(() => Promise.all(gateways.map((g) => g.stop(15_000))).then(() => {}));
    // Every replica up and ready (database and Redis reachable) before anyone is sent to it.
    await Promise.all(gateways.map((g) => g.whenHealthy(timeoutMs)));
    await Promise.all(gateways.map((g) => until(`${g.name} /api/ready`, () => httpOk(`${g.url}/api/ready`), timeoutMs)));

    const haproxy = remember(
      await startHaproxy({
        dir: path.join(dir, "haproxy"),
        backends: gateways.map((g) => ({ name: g.name, port: g.port })),
        port: opts.port ?? 8900,
      }),
    );
    // HAProxy counts a backend in after its first passing check.
    await until("HAProxy → a gateway", () => httpOk(`${haproxy.url}/api/ready`), timeoutMs);
    log(`haproxy ${haproxy.url} → ${gateways.map((g) => g.port).join(", ")}`);

    const healthPorts = await distinctFreePorts(workerCount, new Set(gatewayPorts));
    const workers: ClusterWorker[] = healthPorts.map((healthPort, i) => {
      const id = `cluster-worker-${i + 1}`;
      const home = path.join(dir, `worker-${i + 1}`);
      const service = supervisor.start({
        name: `worker-${i + 1}`,
        entry: "apps/worker/src/main.ts",
        env: {
          ...shared,
          CELLAR_GATEWAY_URL: haproxy.url,
          CELLAR_WORKER_ID: id,
          CELLAR_HOME: home,
          // Its own chunk cache and snapshots, as a worker on its own machine has.
          CELLAR_CACHE: path.join(home, "cache"),
          CELLAR_WORKER_HEALTH_PORT: String(healthPort),
        },
        healthUrl: `http://127.0.0.1:${healthPort}/healthz`,
        restartDelayMs: 1000,
      });
      return withFields(service, { id, healthPort });
    });
    // Before the gateways: a worker told to stop suspends its idle kernels through them.
    cleanups.push(() => Promise.all(workers.map((w) => w.stop(30_000))).then(() => {}));
    await Promise.all(workers.map((w) => until(`${w.name} connected`, () => httpOk(`http://127.0.0.1:${w.healthPort}/readyz`), timeoutMs)));
    return { url: haproxy.url, token: secrets.token, dir, gateways, workers, engines: { postgres, redis, s3, haproxy }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function withFields<T extends object>(service: Service, fields: T): Service & T {
  return {
    ...fields,
    name: service.name,
    get pid() {
      return service.pid;
    },
    get starts() {
      return service.starts;
    },
    whenHealthy: (timeoutMs) => service.whenHealthy(timeoutMs),
    kill: (signal) => service.kill(signal),
    restart: (graceMs) => service.restart(graceMs),
    stop: (graceMs) => service.stop(graceMs),
  };
}

async function distinctFreePorts(n: number, taken = new Set<number>()): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const port = await freePort();
    if (!taken.has(port)) {
      taken.add(port);
      ports.push(port);
    }
  }
  return ports;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The AWS SDK reads credentials from the process environment; the copy runs in this process. */
async function withS3Credentials<T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const keys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const;
  const saved = keys.map((k) => process.env[k]);
  for (const k of keys) process.env[k] = env[k];
  try {
    return await work();
  } finally {
    keys.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    });
  }
}

/** Gateways and workers of an earlier run in `dir` (their CELLAR_HOME says so) whose launcher
 * was killed before it could stop them: each with its process group. Nobody else's processes. */
function reapLeftoverServices(dir: string, log: (line: string) => void): void {
  const entries = ["apps/kernel-gateway/src/main.ts", "apps/worker/src/main.ts"];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!entries.some((e) => cmdline.includes(e))) continue;
      const home = fs
        .readFileSync(`/proc/${pid}/environ`, "utf8")
        .split("\0")
        .find((v) => v.startsWith("CELLAR_HOME="));
      if (!home?.startsWith(`CELLAR_HOME=${dir}/`)) continue;
      // stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so count from its ')'.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      log(`stopping a leftover ${home.slice("CELLAR_HOME=".length + dir.length + 1)} (pid ${pid}) of an earlier run`);
      process.kill(pgrp === Number(pid) ? -pgrp : Number(pid), "SIGKILL");
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
}

/** Lazily unmounts every mount under `dir` (image mounts of workers that were killed). */
function detachMounts(dir: string): void {
  let mounts: string[];
  try {
    mounts = fs
      .readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[1]?.replace(/\\040/g, " "))
      .filter((m): m is string => !!m && m.startsWith(`${dir}/`));
  } catch {
    return;
  }
  // Deepest first, so a mount inside another goes before it.
  for (const m of mounts.sort((a, b) => b.length - a.length)) spawnSync("umount", ["-l", m], { stdio: "ignore" });
}
