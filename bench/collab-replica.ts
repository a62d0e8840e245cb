// One gateway replica for the collab bench, in its own process so its CPU time is its own:
// createGateway on a shared PostgreSQL and Redis (the scaled-out layout), serving the built web app, with a scripted
// worker (acks kernel starts, runs nothing) so that pages can open notebooks without gVisor.
// argv: port home databaseUrl redisUrl token. Prints "ready" when it listens.
import path from "node:path";
import { openDatabase } from "@cellar/db";
import { openBlobStore } from "@cellar/fs-client";
import { WORKER_NAMESPACE } from "@cellar/protocol";
import { io as connect } from "socket.io-client";
import type { GatewayConfig } from "../apps/kernel-gateway/src/config";
import { createGateway } from "../apps/kernel-gateway/src/gateway";
import { repoRoot } from "./stack";

const [port, home, databaseUrl, redisUrl, token] = process.argv.slice(2);
const SECRET = "collab-bench-secret";
const IMAGE_ID = "a".repeat(64);
const db = await openDatabase(databaseUrl, { log: () => {} });
const config: GatewayConfig = {
  host: "127.0.0.1",
  port: Number(port),
  home,
  webDir: path.join(repoRoot, "apps/web/out"),
  imagesDir: path.join(home, "images"),
  cacheDir: home,
  casDir: path.join(home, "cas"),
  sessionMemoryBytes: 1 << 30,
  sessionPids: 100,
  kernelStartTimeoutMs: 30_000,
  lostWorkerGraceMs: 30_000,
  redisUrl,
  gcIntervalMs: 0,
  gcGraceMs: 3_600_000,
};
const image = { name: "base", description: "", imageId: IMAGE_ID, specHash: "", warmup: [] };
const gateway = createGateway({
  config,
  store: db.notebooks,
  sessions: db.kernels,
  accounts: db.accounts,
  accessTokens: db.accessTokens,
  documents: db.documents,
  shares: db.shares,
  schedules: db.schedules,
  identities: db.identities,
  userId: db.localUserId,
  token,
  workerSecret: SECRET,
  blobStore: openBlobStore({ localDir: config.casDir }),
  images: { imageId: () => IMAGE_ID, get: () => image, list: () => [image] },
});
const { port: listening } = await gateway.listen();
const worker = connect(`http://127.0.0.1:${listening}${WORKER_NAMESPACE}`, {
  auth: { secret: SECRET, workerId: `bench-${port}`, resources: { cpus: 1, memoryBytes: 1, gpus: [] } },
  transports: ["websocket"],
});
worker.on("session:start", (p: { sessionId: string }, ack: (r: { ok: true }) => void) => {
  ack({ ok: true });
  worker.emit("session:status", { sessionId: p.sessionId, status: "idle" });
});
await new Promise<void>((r) => worker.once("connect", () => r()));
console.log("ready");
const stop = async () => {
  worker.close();
  await gateway.close();
  await db.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
