// HAProxy (Debian's) on a localhost port in front of N HTTP backends: the cluster's one URL.
//
// - Websockets: HTTP mode passes the Upgrade through; `timeout tunnel` then keeps an idle
//   socket.io connection open (its pings keep it busy anyway).
// - Stickiness by cookie: `cookie cellar-replica insert indirect nocache`. A browser's socket.io
//   starts with HTTP long-polling and upgrades to a websocket; the polling requests of one
//   engine.io session must reach the replica that holds it, or it answers "Session ID unknown".
//   The first reply sets cellar-replica=<server>, later requests carry it back to that server.
//   Workers use websocket-only transport and need none of this. Not `balance source`: every
//   client here is 127.0.0.1, so all of them would land on one replica.
// - Health: every backend is checked with GET `checkPath` (the gateway's /api/ready: database and
//   Redis reachable) each second; two failures take it out, one success puts it back. A request
//   that cannot connect (a replica just killed) goes to another one (`option redispatch`), and a
//   cookie naming a dead replica is rewritten to the one that answered.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { spawnEngine } from "./engine-process";
import { startWithFreePort } from "./free-port";
import { httpOk, waitUntil } from "./wait-until";

const exec = promisify(execFile);

export const STICKY_COOKIE = "cellar-replica";
/** Answered by HAProxy itself (200 while it runs), never passed to a backend. */
export const HAPROXY_MONITOR_PATH = "/haproxy/health";

export interface HaproxyBackend {
  /** Also the cookie value that sticks a client to it: letters, digits, - and _. */
  name: string;
  port: number;
}

export interface HaproxyOptions {
  dir: string;
  backends: HaproxyBackend[];
  /** Where to listen; default a free port. */
  port?: number;
  /** Health check of each backend; default /api/ready. */
  checkPath?: string;
  /** Default: `haproxy` on PATH, else /usr/sbin/haproxy. */
  binary?: string;
  timeoutMs?: number;
}

export interface HaproxyEngine {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  configFile: string;
  stop(): Promise<void>;
}

export function haproxyConfig(port: number, backends: HaproxyBackend[], checkPath = "/api/ready"): string {
  for (const b of backends)
    if (!/^[A-Za-z0-9_-]+$/.test(b.name)) throw new Error(`haproxy backend name ${JSON.stringify(b.name)}: letters, digits, - and _ only`);
  if (!/^\/[\x21-\x7e]*$/.test(checkPath)) throw new Error(`haproxy check path ${JSON.stringify(checkPath)} is not a URL path`);
  return `# Written by scripts/engines/haproxy.ts; rewritten at every start.
global
  maxconn 4096
  log stderr format raw local0 notice

defaults
  mode http
  log global
  option forwardfor
  option redispatch
  retries 3
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-request 10s
  timeout tunnel 1h

frontend cellar
  bind 127.0.0.1:${port}
  monitor-uri ${HAPROXY_MONITOR_PATH}
  default_backend gateways

backend gateways
  balance roundrobin
  cookie ${STICKY_COOKIE} insert indirect nocache httponly
  option httpchk GET ${checkPath}
  http-check expect status 200
  default-server check inter 1s fall 2 rise 1
${backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} cookie ${b.name}`).join("\n")}
`;
}

export async function startHaproxy(opts: HaproxyOptions): Promise<HaproxyEngine> {
  if (opts.backends.length === 0) throw new Error("haproxy: no backends");
  const binary = opts.binary ?? (fs.existsSync("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy");
  fs.mkdirSync(opts.dir, { recursive: true });
  const configFile = path.join(opts.dir, "haproxy.cfg");
  const start = async (port: number): Promise<HaproxyEngine> => {
    fs.writeFileSync(configFile, haproxyConfig(port, opts.backends, opts.checkPath));
    // A bad configuration is reported as HAProxy words it, before anything runs.
    await exec(binary, ["-c", "-q", "-f", configFile]).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`haproxy: ${configFile} is invalid: ${(error.stderr || error.message).trim()}`);
    });
    const proc = spawnEngine(binary, ["-db", "-f", configFile], { dir: opts.dir, name: "haproxy" });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntil(`starting haproxy on port ${port}`, () => httpOk(url + HAPROXY_MONITOR_PATH), {
        timeoutMs: opts.timeoutMs,
        gone: proc.exited,
      });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return { port, url, configFile, stop: () => proc.stop() };
  };
  return opts.port === undefined ? startWithFreePort(start) : start(opts.port);
}
