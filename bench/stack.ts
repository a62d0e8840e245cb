// Starts the real single-machine stack (the same launcher as `npm start`) in a throwaway home.
// BENCH_STACK_STDOUT=1 passes the gateway's and workers' stdout through (the worker logs each
// state move's steps with their times: export, store, layout, import).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GatewayClient } from "@cellar/kernel-client";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface Stack {
  base: string;
  token: string;
  home: string;
  stop(): Promise<void>;
}

export async function startStack(port: number): Promise<Stack> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-bench-"));
  const token = "bench-" + Math.random().toString(36).slice(2);
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts/cellar-local.ts")], {
    env: { ...process.env, CELLAR_HOME: home, CELLAR_PORT: String(port), CELLAR_TOKEN: token, CELLAR_WORKER_ID: "bench" },
    stdio: ["ignore", process.env.BENCH_STACK_STDOUT ? "inherit" : "ignore", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  const gateway = new GatewayClient({ baseUrl: base, token });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error("stack did not start");
    try {
      if ((await gateway.workers.list()).length > 0) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    base,
    token,
    home,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Another worker process on the stack's gateway, with its own home (workspaces, sandboxes) and
 * `labels` (CELLAR_WORKER_LABELS), as a second machine of another class would be. */
export async function startExtraWorker(
  stack: Stack,
  workerId: string,
  labels: string,
  env: Record<string, string> = {},
): Promise<() => Promise<void>> {
  const { workerSecret } = JSON.parse(fs.readFileSync(path.join(stack.home, "secrets.json"), "utf8")) as { workerSecret: string };
  const home = path.join(stack.home, "workers", workerId);
  fs.mkdirSync(home, { recursive: true });
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "apps/worker/src/main.ts")], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...env,
      CELLAR_HOME: home,
      CELLAR_WORKER_ID: workerId,
      CELLAR_WORKER_LABELS: labels,
      CELLAR_WORKER_SECRET: workerSecret,
      CELLAR_GATEWAY_URL: stack.base,
    },
    stdio: ["ignore", process.env.BENCH_STACK_STDOUT ? "inherit" : "ignore", "inherit"],
  });
  const gateway = new GatewayClient({ baseUrl: stack.base, token: stack.token });
  const deadline = Date.now() + 120_000;
  while (!(await gateway.workers.list()).some((w) => w.id === workerId)) {
    if (Date.now() > deadline) throw new Error(`worker ${workerId} did not connect`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
}
