import { createServer, type Server, type Socket } from "node:net";
import { rm } from "node:fs/promises";

const HASH = /^[0-9a-f]{64}$/;

/** A chunk that lives inside a pack file of the cache: `size` bytes at `offset` of `packs/<pack>`. */
export interface PackedChunk {
  pack: string;
  offset: number;
  size: number;
}

export interface FetchHandlers {
  /**
   * Must leave the chunk in the cache, verified, before resolving: as the file
   * `<cacheDir>/<hash[0:2]>/<hash>`, or inside a pack file, whose place it then resolves with.
   */
  fetchChunk: (hash: string) => Promise<void | PackedChunk | { pack?: undefined }>;
  /** Called for every FETCH line, before fetching: the first-boot profile records these. */
  onFetch?: (hash: string) => void;
}

export interface FetchServer {
  path: string;
  close(): Promise<void>;
}

/**
 * Listens on a unix socket for the daemon's "FETCH <hash>" lines and answers each with
 * "OK <hash>" or "ERR <hash> <reason>" once fetchChunk settles. Replies go out in completion
 * order, so one slow chunk never holds back another.
 */
export async function startFetchServer(path: string, handlers: FetchHandlers): Promise<FetchServer> {
  await rm(path, { force: true });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setEncoding("utf8");
    let pending = "";
    socket.on("data", (data: string) => {
      pending += data;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        handleLine(socket, line, handlers);
      }
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    path,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(path, { force: true });
    },
  };
}

function handleLine(socket: Socket, line: string, handlers: FetchHandlers): void {
  const [verb, hash] = line.split(" ");
  if (verb !== "FETCH" || !hash || !HASH.test(hash)) return;
  try {
    handlers.onFetch?.(hash);
  } catch {
    // recording the profile must never fail a read
  }
  let fetching: Promise<unknown>;
  try {
    fetching = Promise.resolve(handlers.fetchChunk(hash));
  } catch (err) {
    fetching = Promise.reject(err);
  }
  fetching.then(
    (where) => {
      const p = where as Partial<PackedChunk> | undefined;
      if (p?.pack && HASH.test(p.pack)) reply(socket, `AT ${hash} ${p.offset} ${p.size} packs/${p.pack}\n`);
      else reply(socket, `OK ${hash}\n`);
    },
    (err: unknown) => {
      const reason = (err instanceof Error ? err.message : String(err)).replace(/[\r\n]+/g, " ").slice(0, 500);
      reply(socket, `ERR ${hash} ${reason || "fetch failed"}\n`);
    },
  );
}

function reply(socket: Socket, line: string): void {
  if (!socket.destroyed) socket.write(line);
}
