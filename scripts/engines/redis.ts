// A redis-server (Debian's) on a free localhost port, its data in `dir`. Append-only file on, so
// a cluster restarted in the same directory keeps what Redis held; nothing in Cellar depends on
// that (socket.io's adapter uses pub/sub only).
import { spawnEngine } from "./engine-process";
import { startWithFreePort } from "./free-port";
import { tcpExchange, waitUntil } from "./wait-until";

export interface RedisEngine {
  port: number;
  /** redis://127.0.0.1:PORT, what CELLAR_REDIS_URL takes. */
  url: string;
  stop(): Promise<void>;
}

export interface RedisOptions {
  dir: string;
  /** Default: `redis-server` on PATH. */
  binary?: string;
  timeoutMs?: number;
}

export function startRedis(opts: RedisOptions): Promise<RedisEngine> {
  const binary = opts.binary ?? "redis-server";
  return startWithFreePort(async (port) => {
    const proc = spawnEngine(
      binary,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        opts.dir,
        "--appendonly",
        "yes",
        "--save",
        "",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
      ],
      { dir: opts.dir, name: "redis" },
    );
    try {
      await waitUntil(`starting redis-server on port ${port}`, async () => (await tcpExchange(port, "PING\r\n")) === "+PONG", {
        timeoutMs: opts.timeoutMs,
        gone: proc.exited,
      });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return { port, url: `redis://127.0.0.1:${port}`, stop: () => proc.stop() };
  });
}
