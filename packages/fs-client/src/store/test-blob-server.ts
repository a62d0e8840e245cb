// Test helper: a real HTTP blob server on a random local port, with request counting.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBlobHandler } from "./blob-handler";
import { compressChunk } from "./codec";
import { LocalDirStore } from "./local-dir-store";

export const TEST_TOKEN = "Bearer test-token";

export interface TestBlobServer {
  baseUrl: string;
  store: LocalDirStore;
  dir: string;
  /** Requests per hash, and the most handled at once. */
  requests: Map<string, number>;
  maxConcurrent: number;
  /** Delay before each response, to make overlap observable. */
  delayMs: number;
  /** Stores data as a blob and returns its hash. */
  add(data: Buffer | string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestBlobServer(): Promise<TestBlobServer> {
  const dir = await mkdtemp(join(tmpdir(), "cellar-blobsrv-"));
  const store = new LocalDirStore(dir);
  const authorize = (req: { headers: { authorization?: string } }) => req.headers.authorization === TEST_TOKEN;
  const handle = createBlobHandler(store, { authorize, authorizeWrite: authorize });
  let concurrent = 0;
  const srv: TestBlobServer = {
    baseUrl: "",
    store,
    dir,
    requests: new Map(),
    maxConcurrent: 0,
    delayMs: 0,
    async add(data) {
      const buf = Buffer.from(data);
      const hash = createHash("sha256").update(buf).digest("hex");
      await store.put(hash, await compressChunk(buf));
      return hash;
    },
    async close() {
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
  const server = createServer(async (req, res) => {
    const hash = (req.url ?? "").split("/").pop() ?? "";
    srv.requests.set(hash, (srv.requests.get(hash) ?? 0) + 1);
    concurrent++;
    srv.maxConcurrent = Math.max(srv.maxConcurrent, concurrent);
    if (srv.delayMs) await new Promise((r) => setTimeout(r, srv.delayMs));
    res.on("close", () => concurrent--);
    if (!(await handle(req, res))) {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  srv.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return srv;
}
