// The collector on a real local store (ages from file times) and on s3rver through the AWS SDK.
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { mkdtemp, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeManifest, type Manifest } from "../manifest/manifest";
import { compressChunk } from "../store/codec";
import { LocalDirStore } from "../store/local-dir-store";
import { S3BlobStore } from "../store/s3-blob-store";
import type { CollectableStore, StoredBlob } from "../store/blob-store";
import { collectGarbage } from "./collect";

const HOUR = 3_600_000;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
async function put(store: CollectableStore, bytes: Buffer): Promise<string> {
  const hash = sha(bytes);
  await store.put(hash, await compressChunk(bytes));
  return hash;
}
const chunk = (store: CollectableStore, text: string) => put(store, Buffer.from(`chunk ${text}`));
const manifest = (store: CollectableStore, chunks: string[]) => {
  const m: Manifest = {
    version: 1,
    chunkSize: 4,
    entries: [{ path: "/f", type: "file", mode: 0o644, uid: 0, gid: 0, size: chunks.length * 4, mtime: 0, chunks }],
  };
  return put(store, encodeManifest(m));
};
const all = async (store: CollectableStore) => {
  const hashes = new Set<string>();
  for await (const b of store.listBlobs()) hashes.add(b.hash);
  return hashes;
};

/** The same store contents for both back ends; answers the hashes by role. */
async function populate(store: CollectableStore) {
  const imageChunks = [await chunk(store, "img-1"), await chunk(store, "img-2")];
  const image = await manifest(store, imageChunks);
  const oldSnapChunk = await chunk(store, "old-snapshot");
  const oldSnap = await manifest(store, [oldSnapChunk]);
  await store.putRef(`snapshot/${"a".repeat(64)}`, oldSnap);
  const newSnapChunk = await chunk(store, "new-snapshot");
  const newSnap = await manifest(store, [newSnapChunk]);
  await store.putRef(`snapshot/${"a".repeat(64)}`, newSnap); // the old snapshot is superseded
  const pack = await chunk(store, "pack");
  const profile = await put(
    store,
    Buffer.from(JSON.stringify({ version: 3, imageId: image, chunks: imageChunks, packs: [{ hash: pack, chunks: 2 }], recordedAt: "" })),
  );
  await store.putRef(`boot-profile/${image}`, profile);
  const checkpointChunk = await chunk(store, "checkpoint");
  const checkpoint = await manifest(store, [checkpointChunk]);
  await store.putRef(`suspended-kernel/${"b".repeat(64)}`, checkpoint);
  const stray = await chunk(store, "stray");
  return { image, imageChunks, oldSnap, oldSnapChunk, newSnap, newSnapChunk, profile, pack, checkpoint, checkpointChunk, stray };
}

describe.each(["local", "s3"] as const)("CAS garbage collection (%s store)", (kind) => {
  let work: string;
  let s3rver: S3rver | undefined;
  let store: CollectableStore;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "cellar-gc-"));
    if (kind === "local") {
      store = new LocalDirStore(join(work, "cas"));
      return;
    }
    s3rver = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: join(work, "s3") });
    const { port } = await s3rver.run();
    const client = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    await client.send(new CreateBucketCommand({ Bucket: "cellar-gc" }));
    store = new S3BlobStore({ client, bucket: "cellar-gc", prefix: "cas/" });
  });
  afterAll(async () => {
    await s3rver?.close();
    await rm(work, { recursive: true, force: true });
  });
  /** Makes a blob `ms` old: its age is its file's time, on the local store and inside s3rver. */
  const age = async (hash: string, ms: number) => {
    const file =
      kind === "local"
        ? (store as LocalDirStore).pathOf(hash)
        : join(work, "s3", "cellar-gc", "cas", hash.slice(0, 2), `${hash}._S3rver_object`);
    const when = new Date(Date.now() - ms);
    await utimes(file, when, when);
  };

  it("keeps what refs and the caller's roots reach; deletes superseded snapshots, strays and a deleted notebook's checkpoint", async () => {
    const h = await populate(store);
    let suspended = [h.checkpoint];
    // Ages: every blob is a day old by the collector's clock.
    const opts = {
      extraRoots: async () => [h.image, ...suspended],
      ownedRefPrefixes: ["suspended-kernel/"],
      graceMs: 3_600_000,
      now: () => new Date(Date.now() + 86_400_000),
    };
    const first = await collectGarbage(store, opts);
    const left = await all(store);
    for (const kept of [h.image, ...h.imageChunks, h.newSnap, h.newSnapChunk, h.profile, h.pack, h.checkpoint, h.checkpointChunk])
      expect(left.has(kept), `kept ${kept}`).toBe(true);
    for (const gone of [h.oldSnap, h.oldSnapChunk, h.stray]) expect(left.has(gone), `deleted ${gone}`).toBe(false);
    expect(first.deleted).toBe(3);

    // The notebook is deleted: its suspended kernel is no longer a root, and its ref goes too.
    suspended = [];
    await collectGarbage(store, opts);
    const after = await all(store);
    expect(after.has(h.checkpoint)).toBe(false);
    expect(after.has(h.checkpointChunk)).toBe(false);
    expect(await store.getRef(`suspended-kernel/${"b".repeat(64)}`)).toBeNull();
    expect(after.has(h.image)).toBe(true);
  });

  it("an old unreachable chunk that a writer reuses while a collection runs survives, so the checkpoint naming it is whole", async () => {
    // A kernel suspended, resumed (its checkpoint's ref dropped) and suspended again: the second
    // checkpoint reuses most of the first's chunks, which are two hours old and reachable from
    // nothing by now.
    const ref = `suspended-kernel/${"d".repeat(64)}`;
    const shared = await chunk(store, "pages both checkpoints share");
    const onlyFirst = await chunk(store, "pages only the first checkpoint had");
    const first = await manifest(store, [shared, onlyFirst]);
    await store.putRef(ref, first);
    await store.deleteRef(ref);
    for (const h of [shared, onlyFirst, first]) await age(h, 2 * HOUR);
    // The second suspend asks for the shared chunk while the collector reads the refs, and skips
    // uploading it; its other chunk, manifest and ref are written once the run is over.
    let reused: boolean | undefined;
    const racing: CollectableStore = Object.assign(Object.create(store), {
      listRefs: async function* () {
        reused ??= await store.has(shared);
        yield* store.listRefs();
      },
    });
    await collectGarbage(racing, { graceMs: HOUR, ownedRefPrefixes: ["suspended-kernel/"] });
    expect(reused).toBe(true);
    const fresh = await chunk(store, "pages only the second checkpoint has");
    const second = await manifest(store, [shared, fresh]);
    await store.putRef(ref, second);

    for (const h of [second, shared, fresh]) await expect(store.get(h), `the second checkpoint's ${h}`).resolves.toBeInstanceOf(Buffer);
    const left = await all(store);
    expect(left.has(first)).toBe(false);
    expect(left.has(onlyFirst)).toBe(false);
  });

  it("a blob reused after the listing was taken survives the sweep; one as old that nobody reused does not", async () => {
    const reusedChunk = await chunk(store, "reused after the listing");
    const untouched = await chunk(store, "reused by nobody");
    for (const h of [reusedChunk, untouched]) await age(h, 2 * HOUR);
    const racing: CollectableStore = Object.assign(Object.create(store), {
      listBlobs: async function* () {
        const listing: StoredBlob[] = [];
        for await (const b of store.listBlobs()) listing.push(b);
        // Both are listed two hours old; a writer finds one of them before the sweep.
        expect(await store.has(reusedChunk)).toBe(true);
        yield* listing;
      },
    });
    const result = await collectGarbage(racing, { graceMs: HOUR });
    const left = await all(store);
    expect(left.has(reusedChunk)).toBe(true);
    expect(left.has(untouched)).toBe(false);
    expect(result.keptReused).toBeGreaterThanOrEqual(1);
  });
});

describe("CAS garbage collection and concurrent writers (local store, real file times)", () => {
  it("an upload during the run, and unreachable blobs younger than the grace, survive; older ones do not", async () => {
    const work = await mkdtemp(join(tmpdir(), "cellar-gc-"));
    try {
      const store = new LocalDirStore(join(work, "cas"));
      const old = await chunk(store, "old stray");
      const twoHoursAgo = new Date(Date.now() - 7_200_000);
      await utimes(store.pathOf(old), twoHoursAgo, twoHoursAgo);
      const young = await chunk(store, "young stray"); // written just now, reachable from nothing yet
      let uploaded = "";
      // A writer uploads a chunk while the collector walks the store.
      const racing: CollectableStore = Object.assign(Object.create(store), {
        listBlobs: async function* () {
          for await (const b of store.listBlobs()) {
            if (!uploaded) uploaded = await chunk(store, "uploaded during the run");
            yield b;
          }
        },
      });
      const result = await collectGarbage(racing, { graceMs: 3_600_000 });
      const left = await all(store);
      expect(left.has(old)).toBe(false);
      expect(left.has(young)).toBe(true);
      expect(left.has(uploaded)).toBe(true);
      expect(result.deleted).toBe(1);
      expect(result.keptYoung).toBeGreaterThanOrEqual(1);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("a ref pointed at an old blob during the run keeps it", async () => {
    const work = await mkdtemp(join(tmpdir(), "cellar-gc-"));
    try {
      const store = new LocalDirStore(join(work, "cas"));
      const c = await chunk(store, "snapshot chunk");
      const snap = await manifest(store, [c]);
      const dayAgo = new Date(Date.now() - 86_400_000);
      for (const h of [c, snap]) await utimes(store.pathOf(h), dayAgo, dayAgo);
      const racing: CollectableStore = Object.assign(Object.create(store), {
        listBlobs: async function* () {
          await store.putRef(`snapshot/${"c".repeat(64)}`, snap); // a worker publishes its snapshot now
          yield* store.listBlobs();
        },
      });
      await collectGarbage(racing, { graceMs: 3_600_000 });
      const left = await all(store);
      expect(left.has(snap)).toBe(true);
      expect(left.has(c)).toBe(true);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
