// Runs Cellar on one machine: the kernel gateway and one worker as child processes, sharing a
// secret. Either one is restarted if it dies, and neither takes the other down: a restarted
// gateway reads its kernels back from the database and the worker, which kept them running,
// reconnects and hands them over. `npm start` ends here after installing.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../apps/kernel-gateway/src/config";
import { loadSecrets } from "../apps/kernel-gateway/src/secrets";
import { Supervisor } from "./supervisor";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const config = loadConfig();
const secrets = loadSecrets(config.home, { token: config.token, workerSecret: config.workerSecret });
const env = {
  ...process.env,
  CELLAR_HOME: config.home,
  CELLAR_TOKEN: secrets.token,
  CELLAR_WORKER_SECRET: secrets.workerSecret,
  CELLAR_GATEWAY_URL: `http://127.0.0.1:${config.port}`,
};

let stopping = false;
// The children share our process group: whoever kills it outright (the e2e runner) kills them too.
const supervisor = new Supervisor({
  root,
  onGiveUp: (service, code) => {
    console.error(`cellar: the ${service.name} keeps exiting before it serves; stopping`);
    void stop(code ?? 1);
  },
});

async function stop(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  await supervisor.stopAll(15_000);
  process.exit(code);
}

process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
const gateway = supervisor.start({
  name: "gateway",
  entry: "apps/kernel-gateway/src/main.ts",
  env,
  healthUrl: `${env.CELLAR_GATEWAY_URL}/api/health`,
  restartDelayMs: 200,
  maxFailedStarts: 5,
});
try {
  await gateway.whenHealthy(60_000);
} catch (error) {
  if (!stopping) console.error(`cellar: ${(error as Error).message}`);
  await stop(1);
}
if (!stopping) supervisor.start({ name: "worker", entry: "apps/worker/src/main.ts", env, restartDelayMs: 1000 });
