// This worker's move server: another worker starting a kernel whose state moves from here fetches
// the move's files (`GET /moves/<moveId>/<name>`, with the move's token the gateway gave both), in
// a few ranges at once, the gateway out of the way. Only the files of a move taken out for that token
// are served (MoveFiles.servedFile); anything else is a 404, a wrong token too.
import { createReadStream } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import type { MoveFiles } from "./move-files";

export interface MoveServer {
  /** The base other workers fetch from: `http://<host>:<port>/moves/`. */
  url: string;
  close(): Promise<void>;
}

export async function startMoveServer(moves: MoveFiles, opts: { port: number; advertiseHost: string }): Promise<MoveServer> {
  const server = http.createServer((req, res) => {
    const m = /^\/moves\/([^/]+)\/([^/]+)$/.exec(req.url ?? "");
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const file = req.method === "GET" && m && token ? moves.servedFile(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), token) : null;
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    // One range of the file (`bytes=<first>-<last>`, what MoveFiles.fetch asks for), or all of it.
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    const [start, end] = range ? [Number(range[1]), Number(range[2])] : [0, Number.POSITIVE_INFINITY];
    if (range && end < start) {
      res.writeHead(416).end();
      return;
    }
    const stream = createReadStream(file, { highWaterMark: 1 << 20, start, end });
    stream.once("open", () => res.writeHead(range ? 206 : 200, { "content-type": "application/octet-stream" }));
    pipeline(stream, res).catch((err: NodeJS.ErrnoException) => {
      if (!res.headersSent) res.writeHead(err.code === "ENOENT" ? 404 : 500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.advertiseHost.includes(":") ? `[${opts.advertiseHost}]` : opts.advertiseHost;
  return {
    url: `http://${host}:${port}/moves/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
