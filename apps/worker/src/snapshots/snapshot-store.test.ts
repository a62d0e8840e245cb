// SnapshotStore against a real content store in this process: fs-client's LocalDirStore behind
// StoreChunkSource, which verifies every blob against its hash as BlobFetcher does over HTTP.
// The only addition is a counter (and a delay, so fetches overlap) around fetchChunk.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BlobFetcher,
  blobCodecOf,
  collectGarbage,
  compressChunk,
  createBlobHandler,
  decodeManifest,
  LocalDirStore,
  StoreChunkSource,
} from "@cellar/fs-client";
import { SnapshotStore, type SnapshotRemote } from "./snapshot-store";

const CHUNK = 64 * 1024;
const OTHER = "cd".repeat(32);

/** The real store, with fetchChunk counted per hash and slowed a little (random order). */
class CountingRemote implements SnapshotRemote {
  readonly fetches = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  private readonly source: StoreChunkSource;
  constructor(readonly store: LocalDirStore) {
    this.source = new StoreChunkSource(store);
  }
  async fetchChunk(hash: string): Promise<Buffer> {
    this.fetches.set(hash, (this.fetches.get(hash) ?? 0) + 1);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      return await this.source.fetchChunk(hash);
    } finally {
      this.inFlight--;
    }
  }
  readonly puts: string[] = [];
  fetchRef(name: string) {
    return this.source.fetchRef(name);
  }
  putBlob(hash: string, compressed: Buffer) {
    this.puts.push(hash);
    return this.source.putBlob(hash, compressed);
  }
  hasBlob(hash: string) {
    return this.store.has(hash);
  }
  putRef(name: string, hash: string) {
    return this.source.putRef(name, hash);
  }
  get total(): number {
    return [...this.fetches.values()].reduce((a, b) => a + b, 0);
  }
}

/** A checkpoint-like directory: a multi-chunk image file with repeated (zero) chunks and a tail,
 * a small metadata file, an empty file, a subdirectory. */
async function makeCheckpoint(dir: string): Promise<Record<string, Buffer>> {
  const img = Buffer.concat([
    randomBytes(3 * CHUNK),
    Buffer.alloc(4 * CHUNK), // four identical zero chunks
    Buffer.from("import numpy\n".repeat(20_000)), // compressible, not chunk-aligned
    randomBytes(CHUNK + 123),
  ]);
  const files: Record<string, Buffer> = {
    "checkpoint.img": img,
    "pages_meta.img": Buffer.from("meta"),
    "empty.img": Buffer.alloc(0),
    "sub/pages.img": Buffer.concat([Buffer.alloc(2 * CHUNK), randomBytes(CHUNK >> 1)]),
  };
  await mkdir(path.join(dir, "sub"), { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(path.join(dir, name), data);
  return files;
}

describe("SnapshotStore", () => {
  let work: string;
  let cas: LocalDirStore;
  let files: Record<string, Buffer>;
  let id: string;
  const KEY = "ab".repeat(32);

  beforeEach(async () => {
    work = await mkdtemp(path.join(tmpdir(), "cellar-snapstore-"));
    cas = new LocalDirStore(path.join(work, "cas"));
    const src = path.join(work, "checkpoint");
    files = await makeCheckpoint(src);
    // Worker A makes the snapshot: into the CAS, and moved into its own local copy.
    const a = new SnapshotStore(path.join(work, "worker-a"), new CountingRemote(cas), "warm-snapshot/", { chunkSize: CHUNK });
    ({ id } = await a.put(KEY, src));
  });
  afterEach(async () => rm(work, { recursive: true, force: true }));

  /** Worker B: an empty disk, the same CAS. */
  function workerB(): { store: SnapshotStore; remote: CountingRemote; root: string } {
    const remote = new CountingRemote(cas);
    const root = path.join(work, "worker-b");
    return { store: new SnapshotStore(root, remote, "warm-snapshot/", { chunkSize: CHUNK }), remote, root };
  }

  async function chunkHashesOf(): Promise<string[]> {
    const manifest = decodeManifest(await new StoreChunkSource(cas).fetchChunk(id));
    return [...new Set(manifest.entries.flatMap((e) => e.chunks ?? []))];
  }

  it("stores checkpoint chunks in the CAS as LZ4, under the same id a Brotli ingest would give", async () => {
    const chunks = await chunkHashesOf();
    expect(chunks.length).toBeGreaterThan(8);
    for (const hash of chunks) expect(blobCodecOf(await cas.get(hash))).toBe("lz4");
    // upload() (LZ4 into the CAS) and a put with no CAS (nothing compressed) agree on the id.
    const copy = path.join(work, "copy");
    await makeCheckpointCopy(copy, files);
    const { store, remote } = workerB();
    await store.upload(OTHER, copy);
    const uploaded = (await remote.fetchRef(`warm-snapshot/${OTHER}`))!;
    await expect(store.upload(OTHER, copy, uploaded)).resolves.toBeUndefined();
    await expect(store.upload(OTHER, copy, "0".repeat(64))).rejects.toThrow(/not the local copy's/);
    const local = await new SnapshotStore(path.join(work, "worker-alone"), null, "warm-snapshot/", { chunkSize: CHUNK }).put(OTHER, copy);
    expect(local.id).toBe(uploaded);
  });

  it("uploads only the chunks the CAS does not hold yet", async () => {
    // A second kernel's checkpoint: the same files but one, as kernels restored from one warm
    // snapshot mostly are.
    const copy = path.join(work, "copy");
    await makeCheckpointCopy(copy, { ...files, "pages_meta.img": Buffer.from("other meta") });
    const { store, remote } = workerB();
    await store.upload(OTHER, copy);
    // The changed file's one chunk and the new manifest; every other chunk was already there.
    expect(remote.puts).toHaveLength(2);
    const snap = await workerB().store.get(OTHER);
    expect((await readFile(path.join(snap!.dir, "pages_meta.img"))).toString()).toBe("other meta");
  });

  it("materialises a multi-chunk snapshot in parallel, byte for byte", async () => {
    const { store, remote } = workerB();
    const snap = await store.get(KEY);
    expect(snap).not.toBeNull();
    expect(snap!.id).toBe(id);
    for (const [name, data] of Object.entries(files)) {
      expect((await readFile(path.join(snap!.dir, name))).equals(data), name).toBe(true);
    }
    expect(existsSync(path.join(snap!.dir, ".complete"))).toBe(true);
    expect(remote.maxInFlight).toBeGreaterThan(1);
    expect(remote.maxInFlight).toBeLessThanOrEqual(8);
    // Each distinct chunk once (the zero chunk occurs six times), plus the manifest.
    const chunks = await chunkHashesOf();
    expect(remote.total).toBe(chunks.length + 1);
    // A second get is the local copy: nothing fetched.
    await store.get(KEY);
    expect(remote.total).toBe(chunks.length + 1);
  });

  it("keeps to the parallelism it is given", async () => {
    const remote = new CountingRemote(cas);
    const store = new SnapshotStore(path.join(work, "worker-c"), remote, "warm-snapshot/", { fetchParallelism: 2 });
    await store.get(KEY);
    expect(remote.maxInFlight).toBe(2);
  });

  it("fetches a snapshot once for twenty sessions asking at the same time", async () => {
    const { store, remote } = workerB();
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => store.get(KEY)),
      ...Array.from({ length: 10 }, () => store.getById(KEY, id)),
    ]);
    expect(new Set(results.map((r) => r!.dir)).size).toBe(1);
    const chunks = await chunkHashesOf();
    expect([...remote.fetches.values()].every((n) => n === 1)).toBe(true);
    expect(remote.total).toBe(chunks.length + 1);
    expect((await readFile(path.join(results[0]!.dir, "checkpoint.img"))).equals(files["checkpoint.img"]!)).toBe(true);
  });

  it("rejects every waiter when a chunk is corrupt, leaves no directory behind, and retries on the next call", async () => {
    const chunks = await chunkHashesOf();
    const victim = chunks[chunks.length >> 1]!;
    const good = await cas.get(victim);
    // Valid LZ4 of other bytes: only the hash check can tell.
    await writeFile(cas.pathOf(victim), await compressChunk(randomBytes(CHUNK), "lz4"));
    const { store, remote, root } = workerB();
    const all = await Promise.allSettled(Array.from({ length: 5 }, () => store.get(KEY)));
    for (const r of all) {
      expect(r.status).toBe("rejected");
      expect(String((r as PromiseRejectedResult).reason)).toMatch(new RegExp(`blob ${victim} failed verification`));
    }
    expect(remote.fetches.get(victim)).toBe(1);
    expect(await readdir(path.join(root, KEY))).toEqual([]);

    // A truncated blob is refused too.
    await writeFile(cas.pathOf(victim), good.subarray(0, good.length >> 1));
    await expect(store.getById(KEY, id)).rejects.toThrow(/failed verification/);
    expect(await readdir(path.join(root, KEY))).toEqual([]);

    // Once the CAS has the right blob again, the next call fetches afresh and succeeds.
    await writeFile(cas.pathOf(victim), good);
    const snap = await store.get(KEY);
    expect((await readFile(path.join(snap!.dir, "checkpoint.img"))).equals(files["checkpoint.img"]!)).toBe(true);
    expect(await readdir(path.join(root, KEY))).toEqual([id]);
  });

  it("refuses a snapshot whose manifest is missing from the CAS", async () => {
    await rm(cas.pathOf(id));
    const { store, root } = workerB();
    await expect(store.get(KEY)).rejects.toThrow();
    expect(existsSync(path.join(root, KEY)) ? await readdir(path.join(root, KEY)) : []).toEqual([]);
  });
});

describe("SnapshotStore and the CAS garbage collector", () => {
  it("a checkpoint that reuses the chunks of an earlier, since unreachable one keeps them through a collection run during its upload", async () => {
    // The worker's real path: BlobFetcher over HTTP to the gateway's blob route on a local store.
    const work = await mkdtemp(path.join(tmpdir(), "cellar-snapstore-gc-"));
    const cas = new LocalDirStore(path.join(work, "cas"));
    const handle = createBlobHandler(cas, { authorizeWrite: () => true });
    const server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const fetcher = new BlobFetcher({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const KERNEL = "ef".repeat(32);
    const ref = `suspended-kernel/${KERNEL}`;
    try {
      // Suspended once; resumed, so the gateway dropped its checkpoint's ref; two hours pass.
      const first = path.join(work, "first");
      const files = await makeCheckpoint(first);
      const worker = new SnapshotStore(path.join(work, "worker"), fetcher, "suspended-kernel/", { chunkSize: CHUNK });
      const { id: firstId } = await worker.put(KERNEL, first);
      await cas.deleteRef(ref);
      const twoHoursAgo = new Date(Date.now() - 7_200_000);
      for await (const b of cas.listBlobs()) await utimes(cas.pathOf(b.hash), twoHoursAgo, twoHoursAgo);

      // Suspended again, the same pages but one file: the upload asks (HEAD) for each chunk, skips
      // those there, and the collector runs before its ref is written.
      const second = path.join(work, "second");
      await makeCheckpointCopy(second, { ...files, "pages_meta.img": Buffer.from("changed since") });
      let atRef!: () => void;
      const reachedRef = new Promise<void>((r) => (atRef = r));
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const uploads: string[] = [];
      const gated: SnapshotRemote = {
        fetchChunk: (h) => fetcher.fetchChunk(h),
        fetchRef: (n) => fetcher.fetchRef(n),
        hasBlob: (h) => fetcher.hasBlob(h),
        putBlob: (h, c) => {
          uploads.push(h);
          return fetcher.putBlob(h, c);
        },
        putRef: async (n, h) => {
          atRef();
          await released;
          return fetcher.putRef(n, h);
        },
      };
      const suspending = new SnapshotStore(path.join(work, "worker-2"), gated, "suspended-kernel/", { chunkSize: CHUNK }).put(
        KERNEL,
        second,
      );
      await reachedRef;
      const result = await collectGarbage(cas, { graceMs: 3_600_000, ownedRefPrefixes: ["suspended-kernel/"] });
      release();
      const { id: secondId } = await suspending;
      expect(uploads).toHaveLength(2); // the changed chunk and the manifest: the rest was reused

      // The first checkpoint's manifest and its changed chunk went; the second resumes whole on
      // a worker that has no copy of it.
      expect(result.deleted).toBe(2);
      expect(await cas.statBlob(firstId)).toBeNull();
      const resumed = await new SnapshotStore(path.join(work, "worker-3"), fetcher, "suspended-kernel/").get(KERNEL);
      expect(resumed?.id).toBe(secondId);
      for (const [name, data] of Object.entries({ ...files, "pages_meta.img": Buffer.from("changed since") }))
        expect((await readFile(path.join(resumed!.dir, name))).equals(data), name).toBe(true);
    } finally {
      fetcher.close();
      await new Promise((r) => server.close(r));
      await rm(work, { recursive: true, force: true });
    }
  });
});

async function makeCheckpointCopy(dir: string, files: Record<string, Buffer>): Promise<void> {
  await mkdir(path.join(dir, "sub"), { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(path.join(dir, name), data);
}
