import { createHash } from "node:crypto";
import { mkdtemp, rm, utimes } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobFetcher } from "../fetch/blob-fetcher";
import { compressChunk, createBlobHandler, LocalDirStore, parseRange } from "./index";

describe("blob HTTP handler on a real server", () => {
  let dir: string;
  let server: Server;
  let base: string;
  const blob = Buffer.from("abcdefghijklmnopqrstuvwxyz");
  const hash = createHash("sha256").update("anything").digest("hex");
  const auth = { authorization: "Bearer s3cret" };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cellar-handler-"));
    const store = new LocalDirStore(dir);
    await store.put(hash, blob);
    const handle = createBlobHandler(store, { authorize: (req) => req.headers.authorization === "Bearer s3cret" });
    server = createServer(async (req, res) => {
      if (!(await handle(req, res))) {
        res.statusCode = 418;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the whole blob with its hash as ETag", async () => {
    const res = await fetch(`${base}/cas/blobs/${hash}`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe(`"${hash}"`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(Buffer.from(await res.arrayBuffer())).toEqual(blob);
    const again = await fetch(`${base}/cas/blobs/${hash}`, { headers: { ...auth, "if-none-match": `"${hash}"` } });
    expect(again.status).toBe(304);
  });

  it("answers ranges with 206 and unsatisfiable ranges with 416", async () => {
    const mid = await fetch(`${base}/cas/blobs/${hash}`, { headers: { ...auth, range: "bytes=2-5" } });
    expect(mid.status).toBe(206);
    expect(mid.headers.get("content-range")).toBe(`bytes 2-5/${blob.length}`);
    expect(await mid.text()).toBe("cdef");
    const tail = await fetch(`${base}/cas/blobs/${hash}`, { headers: { ...auth, range: "bytes=-3" } });
    expect(await tail.text()).toBe("xyz");
    const open = await fetch(`${base}/cas/blobs/${hash}`, { headers: { ...auth, range: "bytes=24-" } });
    expect(await open.text()).toBe("yz");
    const beyond = await fetch(`${base}/cas/blobs/${hash}`, { headers: { ...auth, range: "bytes=100-" } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${blob.length}`);
  });

  it("answers 401 without credentials, 400 for a bad hash, 404 for a missing blob", async () => {
    expect((await fetch(`${base}/cas/blobs/${hash}`)).status).toBe(401);
    expect((await fetch(`${base}/cas/blobs/${hash}`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(`${base}/cas/blobs/not-a-hash`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${base}/cas/blobs/${"0".repeat(64)}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/cas/blobs/${hash}`, { method: "POST", headers: auth })).status).toBe(405);
    expect((await fetch(`${base}/elsewhere`)).status).toBe(418); // falls through to the host app
  });

  it("parses ranges as RFC 9110 says", () => {
    expect(parseRange("bytes=0-0", 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange("bytes=5-100", 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange("bytes=0-1,4-5", 10)).toBeNull();
    expect(parseRange("bytes=-0", 10)).toBe("unsatisfiable");
  });
});

describe("blob HTTP handler and the collector's ages", () => {
  it("a HEAD (BlobFetcher.hasBlob) and a PUT of a blob it holds are reuses that refresh its age; a GET is not", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cellar-handler-"));
    const store = new LocalDirStore(dir);
    const handle = createBlobHandler(store, { authorizeWrite: () => true });
    const server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const fetcher = new BlobFetcher({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    try {
      const twoHoursAgo = new Date(Date.now() - 7_200_000);
      const blobs: Record<string, { hash: string; compressed: Buffer }> = {};
      for (const name of ["read", "asked", "uploaded again"]) {
        const data = Buffer.from(`${name} chunk`);
        const hash = createHash("sha256").update(data).digest("hex");
        const compressed = await compressChunk(data);
        await store.put(hash, compressed);
        await utimes(store.pathOf(hash), twoHoursAgo, twoHoursAgo);
        blobs[name] = { hash, compressed };
      }
      const ageOf = async (name: string) => Date.now() - (await store.statBlob(blobs[name]!.hash))!.writtenAt.getTime();
      await fetcher.fetchChunk(blobs.read!.hash);
      expect(await ageOf("read")).toBeGreaterThan(7_000_000);
      expect(await fetcher.hasBlob(blobs.asked!.hash)).toBe(true);
      expect(await ageOf("asked")).toBeLessThan(60_000);
      await fetcher.putBlob(blobs["uploaded again"]!.hash, blobs["uploaded again"]!.compressed);
      expect(await ageOf("uploaded again")).toBeLessThan(60_000);
      expect(await fetcher.hasBlob("0".repeat(64))).toBe(false);
    } finally {
      fetcher.close();
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
