// Entry point: clean up sandboxes a crashed predecessor left, read what this machine offers,
// then serve the gateway.
import { loadConfig } from "./config";
import { connectToGateway } from "./gateway/gateway-connection";
import { gatewayReadiness } from "./health/gateway-readiness";
import { startHealthServer } from "./health/health-server";
import { reapOrphanSandboxes } from "./sandbox/kernel-sandbox";
import { detectResources } from "./resources";
import { workerClassOf } from "@cellar/protocol";

const config = loadConfig();
await reapOrphanSandboxes(config.stateRoot);
const resources = await detectResources(config.labels);
console.log(
  `worker ${config.workerId}: ${resources.cpus} CPUs, class ${workerClassOf(resources)}${resources.gpuIsolationNote ? ` (${resources.gpuIsolationNote})` : ""}`,
);
const conn = connectToGateway(config, resources);
const health =
  config.healthPort === undefined
    ? undefined
    : await startHealthServer({ port: config.healthPort, readiness: gatewayReadiness(conn.socket, config.gatewayUrl) });

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`worker: ${signal}, suspending idle kernels and stopping`);
  await conn.close().catch((e) => console.error(e));
  await health?.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
