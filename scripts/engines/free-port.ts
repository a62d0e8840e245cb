// A localhost port nobody listens on right now. Another process may take it before the caller
// binds it, so engines that use it retry their start a few times (see startWithFreePort).
import net from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs `start` on a fresh free port until it succeeds, at most `attempts` times; the last
 * failure is the one reported. */
export async function startWithFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await start(await freePort());
    } catch (error) {
      last = error;
    }
  }
  throw last;
}
