// Gateway settings from the environment, with the embedded single-machine defaults.
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { OidcSettings } from "./auth/single-sign-on";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface GatewayConfig {
  host: string;
  port: number;
  home: string;
  webDir: string;
  /** The output frame's built files (CELLAR_OUTPUT_FRAME_DIR, default packages/ui/dist/output-frame),
   * served at /output-frame/. */
  outputFrameDir: string;
  /** CELLAR_OUTPUT_ORIGIN: a host of its own for output frames (`https://outputs.example.com`,
   * pointing at this gateway or any server of the same files); unset: this gateway's
   * /output-frame/, kept apart by the sandbox's opaque origin. */
  outputOrigin?: string;
  /** Image specs (images/*.json). */
  imagesDir: string;
  /** Built images live under <cacheDir>/images; the content store defaults to <cacheDir>/cas. */
  cacheDir: string;
  casDir: string;
  /** CELLAR_PIP_INDEX_URL: where pip layers resolve (default PyPI). */
  pipIndexUrl?: string;
  /** CELLAR_IMAGE_LAYER_MAX_MB: a bigger pip layer is refused (default 2048). */
  imageLayerMaxMb?: number;
  /** Fixed token (tests, deployments); otherwise one is generated and kept in CELLAR_HOME. */
  token?: string;
  workerSecret?: string;
  /** Default per-sandbox limits handed to workers. */
  sessionMemoryBytes: number;
  sessionPids: number;
  /** How long a kernel may take to start before the notebook is told it failed. */
  kernelStartTimeoutMs: number;
  /** How long a kernel waits for its worker to redial after the worker's connection dropped,
   * before it is dead (CELLAR_WORKER_LOST_GRACE_S, default 30). */
  lostWorkerGraceMs: number;
  /** Redis for socket.io rooms across gateway replicas (CELLAR_REDIS_URL); unset: one gateway. */
  redisUrl?: string;
  /** The address people reach the gateway at, for links sent out (a failed run's webhook):
   * CELLAR_PUBLIC_URL, default http://host:port. */
  publicUrl?: string;
  /** Scheduled runs one gateway executes at once (CELLAR_SCHEDULE_MAX_RUNS, default 2); each holds
   * a kernel on some worker while it runs. */
  scheduleMaxRuns?: number;
  /** How often unreachable blobs are collected from the content store (CELLAR_GC_INTERVAL_S,
   * default 3600; 0 never), and how old they must be (CELLAR_GC_GRACE_S, default 3600; at least
   * 600: scheduleCasGc raises a shorter one, with a warning). */
  gcIntervalMs: number;
  gcGraceMs: number;
  /** Single sign-on through an OpenID Connect provider (CELLAR_OIDC_ISSUER, _CLIENT_ID,
   * _CLIENT_SECRET, _NAME, _ALLOW_SIGNUP); unset: password sign-in only. */
  oidc?: OidcSettings;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return {
    host: env.CELLAR_HOST ?? "127.0.0.1",
    port: Number(env.CELLAR_PORT ?? 8800),
    home: path.resolve(env.CELLAR_HOME ?? path.join(repoRoot, ".cellar")),
    webDir: path.resolve(env.CELLAR_WEB_DIR ?? path.join(repoRoot, "apps/web/out")),
    outputFrameDir: path.resolve(env.CELLAR_OUTPUT_FRAME_DIR ?? path.join(repoRoot, "packages/ui/dist/output-frame")),
    outputOrigin: outputOrigin(env.CELLAR_OUTPUT_ORIGIN),
    imagesDir: path.resolve(env.CELLAR_IMAGES_DIR ?? path.join(repoRoot, "images")),
    cacheDir: path.resolve(env.CELLAR_CACHE ?? "/var/cache/cellar"),
    casDir: path.resolve(env.CELLAR_CAS_DIR ?? path.join(env.CELLAR_CACHE ?? "/var/cache/cellar", "cas")),
    pipIndexUrl: env.CELLAR_PIP_INDEX_URL || undefined,
    imageLayerMaxMb: env.CELLAR_IMAGE_LAYER_MAX_MB ? Number(env.CELLAR_IMAGE_LAYER_MAX_MB) : undefined,
    token: env.CELLAR_TOKEN || undefined,
    workerSecret: env.CELLAR_WORKER_SECRET || undefined,
    sessionMemoryBytes: Number(env.CELLAR_SESSION_MEMORY_MB ?? 4096) * 1024 * 1024,
    sessionPids: Number(env.CELLAR_SESSION_PIDS ?? 512),
    kernelStartTimeoutMs: Number(env.CELLAR_KERNEL_START_TIMEOUT_MS ?? 60_000),
    lostWorkerGraceMs: Number(env.CELLAR_WORKER_LOST_GRACE_S ?? 30) * 1000,
    redisUrl: env.CELLAR_REDIS_URL || undefined,
    scheduleMaxRuns: Number(env.CELLAR_SCHEDULE_MAX_RUNS ?? 2),
    publicUrl: env.CELLAR_PUBLIC_URL?.replace(/\/+$/, "") || undefined,
    gcIntervalMs: Number(env.CELLAR_GC_INTERVAL_S ?? 3600) * 1000,
    gcGraceMs: Number(env.CELLAR_GC_GRACE_S ?? 3600) * 1000,
    oidc: oidcSettings(env),
  };
}

function outputOrigin(value: string | undefined): string | undefined {
  if (!value) return undefined;
  // An origin, not a URL with a path: the CSP's frame-src and the redirect take it as one.
  if (!URL.canParse(value)) throw new Error(`CELLAR_OUTPUT_ORIGIN is not a URL: ${value}`);
  const url = new URL(value);
  if (url.origin === "null" || url.pathname !== "/" || url.search)
    throw new Error(`CELLAR_OUTPUT_ORIGIN must be an origin (scheme://host[:port]): ${value}`);
  return url.origin;
}

function oidcSettings(env: NodeJS.ProcessEnv): OidcSettings | undefined {
  const issuer = env.CELLAR_OIDC_ISSUER;
  if (!issuer) return undefined;
  // A half-configured sign-on is a mistake to hear about at start, not at the first sign-in.
  if (!URL.canParse(issuer)) throw new Error(`CELLAR_OIDC_ISSUER is not a URL: ${issuer}`);
  if (!env.CELLAR_OIDC_CLIENT_ID) throw new Error("CELLAR_OIDC_ISSUER is set but CELLAR_OIDC_CLIENT_ID is not");
  return {
    issuer,
    clientId: env.CELLAR_OIDC_CLIENT_ID,
    clientSecret: env.CELLAR_OIDC_CLIENT_SECRET || undefined,
    name: env.CELLAR_OIDC_NAME || "Single sign-on",
    allowSignup: env.CELLAR_OIDC_ALLOW_SIGNUP === "true" || env.CELLAR_OIDC_ALLOW_SIGNUP === "1",
  };
}
