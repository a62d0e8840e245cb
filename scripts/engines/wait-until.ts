// Polling for readiness: engines say they are up by answering, not by a log line.
import net from "node:net";

/** Resolves once `check` resolves true; rejects with `what` after `timeoutMs`, or at once when
 * `gone()` says the process being waited for has exited. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs?: number; intervalMs?: number; gone?: () => string | null } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const gone = opts.gone?.();
    if (gone) throw new Error(`${what}: ${gone}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${((opts.timeoutMs ?? 30_000) / 1000).toFixed(0)} s`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** Sends `request` over a fresh TCP connection and resolves with what came back before the first
 * newline (or the close), e.g. "+PONG" for Redis' PING. */
export function tcpExchange(port: number, request: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    const done = (error?: Error) => {
      socket.destroy();
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(data.split("\r\n")[0] ?? "");
    };
    const timer = setTimeout(() => done(new Error(`no answer on port ${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8");
      if (data.includes("\n")) done();
    });
    socket.on("error", done);
    socket.on("end", () => done());
  });
}

/** True while an HTTP GET of `url` answers 2xx. */
export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await res.body?.cancel();
  return res.ok;
}
