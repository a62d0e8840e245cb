// Runs Cellar on one machine: the kernel gateway and one worker as child processes, sharing a
// secret. Either one is restarted if it dies, and neither takes the other down: a restarted
// gateway reads its kernels back from the database and the worker, which kept them running,
// reconnects and hands them over. `npm start` ends here after installing.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../apps/kernel-gateway/src/config";
import { loadSecrets } from "../apps/kernel-gateway/src/secrets";

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
const children = new Set<ChildProcess>();

function run(name: string, entry: string, onExit: (code: number | null) => void): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, entry)], { env, stdio: "inherit" });
  children.add(child);
  child.on("exit", (code, signal) => {
    children.delete(child);
    if (!stopping) {
      console.error(`cellar: ${name} exited (${signal ?? code})`);
      onExit(code);
    }
  });
  return child;
}

async function waitForGateway(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${env.CELLAR_GATEWAY_URL}/api/health`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the gateway did not come up");
}

function startWorker(): void {
  run("worker", "apps/worker/src/main.ts", () => setTimeout(() => !stopping && startWorker(), 1000));
}

/** A gateway that cannot come up (its port taken, its database unreadable) is not restarted for
 * ever: five exits in a row before it ever answered /api/health end the launcher with its status.
 * One that dies after it served (killed, say) is always restarted. */
let failedStarts = 0;
function startGateway(): void {
  let exited = false;
  run("gateway", "apps/kernel-gateway/src/main.ts", (code) => {
    exited = true; // ends the health poll below
    failedStarts = upAt ? 0 : failedStarts + 1;
    if (failedStarts >= 5) {
      console.error("cellar: the gateway keeps exiting before it serves; stopping");
      return stop(code ?? 1);
    }
    setTimeout(() => !stopping && startGateway(), 200);
  });
  let upAt = 0;
  void (async () => {
    while (!exited && !stopping) {
      try {
        if ((await fetch(`${env.CELLAR_GATEWAY_URL}/api/health`)).ok) {
          upAt = Date.now();
          return;
        }
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
}

function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill("SIGTERM");
  const force = setTimeout(() => {
    for (const c of children) c.kill("SIGKILL");
    process.exit(code);
  }, 15_000);
  const check = setInterval(() => {
    if (children.size === 0) {
      clearTimeout(force);
      clearInterval(check);
      process.exit(code);
    }
  }, 100);
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
startGateway();
await waitForGateway();
startWorker();
