// One gateway replica for the collab bench, in its own process so its CPU time is its own:
// createGateway on a shared PostgreSQL and Redis (the scaled-out layout), serving the built web app, with a scripted
// worker (acks kernel starts, runs nothing) so that pages can open notebooks without gVisor.
// argv: port home databaseUrl redisUrl token. Prints "ready" when it listens.
import path from "node:path";
import { openDatabase } from "@cellar/db";
import { WORKER_NAMESPACE } from "@cellar/protocol";
import { io as connect } from "socket.io-client";
import { createTestGateway, testGatewayConfig } from "../apps/kernel-gateway/src/testing/test-gateway";
import { repoRoot } from "./stack";

const [port, home, databaseUrl, redisUrl, token] = process.argv.slice(2);
const SECRET = "collab-bench-secret";
const db = await openDatabase(databaseUrl, { log: () => {} });
const config = testGatewayConfig({ home, port: Number(port), redisUrl, webDir: path.join(repoRoot, "apps/web/out") });
const gateway = createTestGateway({ db, config, token, workerSecret: SECRET });
const { port: listening } = await gateway.listen();
const worker = connect(`http://127.0.0.1:${listening}${WORKER_NAMESPACE}`, {
  auth: { secret: SECRET, workerId: `bench-${port}`, resources: { cpus: 1, memoryBytes: 1, gpus: [], labels: {} } },
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
