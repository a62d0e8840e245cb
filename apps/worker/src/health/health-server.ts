// Only when CELLAR_WORKER_HEALTH_PORT is set: liveness and readiness for Kubernetes
// (deploy/kubernetes/). Besides this the worker dials out, and its move server answers only the
// holder of a move's token (kernel/move-server.ts), so this answers two paths with status only
// and never anything a client could act on.
import http from "node:http";
import type { AddressInfo } from "node:net";

export const WORKER_HEALTH_PATHS = { live: "/healthz", ready: "/readyz" } as const;

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Serves `/healthz` (200 while the process answers) and `/readyz` (200 while `readiness()` says
 * ready, else 503 with the reason); other paths 404, other methods 405. */
export async function startHealthServer(opts: { port: number; host?: string; readiness(): Readiness }): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    const { pathname } = new URL(req.url ?? "/", "http://x");
    const known = pathname === WORKER_HEALTH_PATHS.live || pathname === WORKER_HEALTH_PATHS.ready;
    if (!known) return reply(404, { error: "Not found" });
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, { error: `${req.method} is not allowed here` });
    if (pathname === WORKER_HEALTH_PATHS.live) return reply(200, { ok: true });
    const state = opts.readiness();
    return state.ready ? reply(200, { ok: true }) : reply(503, { error: `Not ready: ${state.reason}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`health server on port ${opts.port}: ${err.message}`, { cause: err })));
    server.listen(opts.port, opts.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
