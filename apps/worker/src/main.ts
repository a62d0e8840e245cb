// Entry point: clean up sandboxes a crashed predecessor left, then serve the gateway.
import { loadConfig } from "./config";
import { connectToGateway } from "./gateway/gateway-connection";
import { reapOrphanSandboxes } from "./sandbox/kernel-sandbox";

const config = loadConfig();
await reapOrphanSandboxes(config.stateRoot);
const conn = connectToGateway(config);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`worker: ${signal}, suspending idle kernels and stopping`);
  await conn.close().catch((e) => console.error(e));
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
