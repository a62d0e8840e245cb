// The worker's attach path against a real blob server and the real FUSE daemon: the first boot
// of an image is recorded and published as boot packs; another worker's cold attach pulls the
// packs instead of one blob per file; dropping the cache leaves mounts working.
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOB_ROUTE_PREFIX, LocalDirStore, bootProfileRef, buildDaemon, createBlobHandler, ingestDirectory } from "@cellar/fs-client";
import { ImageAttacher } from "./image-attacher";

const SECRET = "attacher-test";

describe("ImageAttacher", () => {
  let work: string;
  let store: LocalDirStore;
  let server: http.Server;
  let url: string;
  let imageId: string;
  const blobGets: string[] = [];
  const attachers: ImageAttacher[] = [];

  beforeAll(async () => {
    await buildDaemon();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-attacher-"));
    const src = path.join(work, "src");
    fs.mkdirSync(path.join(src, "usr/lib/py"), { recursive: true });
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(src, `usr/lib/py/mod${i}.py`), `x = ${i}\n`.repeat(50));
    store = new LocalDirStore(path.join(work, "cas"));
    ({ imageId } = await ingestDirectory(src, store));
    const authorize = (req: http.IncomingMessage) => req.headers.authorization === `Bearer ${SECRET}`;
    const handle = createBlobHandler(store, { authorize, authorizeWrite: authorize });
    server = http.createServer((req, res) => {
      if (req.method === "GET" && req.url?.startsWith(BLOB_ROUTE_PREFIX)) blobGets.push(req.url.slice(BLOB_ROUTE_PREFIX.length));
      void handle(req, res).then((done) => done || res.writeHead(404).end());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    for (const a of attachers) await a.detachAll();
    server?.close();
    server?.closeAllConnections();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  function worker(name: string, profileWindowMs?: number): ImageAttacher {
    const a = new ImageAttacher({
      gatewayUrl: url,
      secret: SECRET,
      home: path.join(work, name, "home"),
      cacheDir: path.join(work, name, "cache"),
      cacheMaxBytes: 1 << 30,
      profileWindowMs,
    });
    attachers.push(a);
    return a;
  }

  /**
   * What a kernel's boot does: read some of the image's files. One at a time and async: this
   * process also serves the mount's fetches, which need the thread pool a blocked read holds.
   */
  async function boot(root: string): Promise<string[]> {
    const out: string[] = [];
    for (const i of [3, 14, 15, 9]) out.push(await fs.promises.readFile(path.join(root, `usr/lib/py/mod${i}.py`), "utf8"));
    return out;
  }
  const expected = [3, 14, 15, 9].map((i) => `x = ${i}\n`.repeat(50));

  it("publishes the first boot, and the next worker's cold attach fetches packs, not files", async () => {
    const first = worker("first", 300);
    expect(await boot(await first.attach(imageId))).toEqual(expected);
    expect(first.lastAttach.get(imageId)).toMatchObject({ recording: true, packs: 0 });
    for (let i = 0; i < 100 && !(await store.getRef(bootProfileRef(imageId))); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await store.getRef(bootProfileRef(imageId))).not.toBeNull();

    const second = worker("second");
    blobGets.length = 0;
    const root = await second.attach(imageId);
    expect(await boot(root)).toEqual(expected);
    expect(second.lastAttach.get(imageId)).toMatchObject({ recording: false, packs: 1 });
    // the manifest, the profile document and one pack: 3 blobs for 4 files
    expect(blobGets.length).toBe(3);
    expect(fs.readdirSync(path.join(second.cacheDir, "packs")).length).toBe(1);
  });

  it("an attach for a restore pulls no boot packs and records nothing; reads are fetched as asked", async () => {
    expect(await store.getRef(bootProfileRef(imageId))).not.toBeNull(); // published by the test above
    const restoring = worker("restoring", 300);
    blobGets.length = 0;
    const root = await restoring.attach(imageId, { forRestore: true });
    expect(restoring.lastAttach.get(imageId)).toMatchObject({ recording: false, packs: 0 });
    // only the manifest: neither the boot profile nor its pack
    expect(blobGets.length).toBe(1);
    expect(await fs.promises.readFile(path.join(root, "usr/lib/py/mod14.py"), "utf8")).toBe("x = 14\n".repeat(50));
    expect(blobGets.length).toBe(2);
    expect(fs.existsSync(path.join(restoring.cacheDir, "packs"))).toBe(false);
  });

  it("drops its whole cache; mounted images keep reading, and a new attach fetches again", async () => {
    const a = worker("dropper");
    const root = await a.attach(imageId);
    expect(await boot(root)).toEqual(expected);
    await a.dropCache();
    expect(fs.readdirSync(a.cacheDir)).toEqual([]);
    blobGets.length = 0;
    expect(await fs.promises.readFile(path.join(root, "usr/lib/py/mod20.py"), "utf8")).toBe("x = 20\n".repeat(50));
    expect(blobGets.length).toBe(1);
    await a.detachAll();
    const again = await a.attach(imageId);
    expect(await boot(again)).toEqual(expected);
    expect(fs.readdirSync(a.cacheDir).length).toBeGreaterThan(0);
  });
});
