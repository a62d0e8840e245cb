import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeManifest } from "../manifest/manifest";
import { blobCodecOf, decompressBlob, LocalDirStore } from "../store/index";
import { ingestDirectory, ingestTar } from "./index";

const quiet = { onWarning: () => {} };

describe("ingest with a chosen chunk codec", () => {
  let work: string;
  let root: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), "cellar-ingest-codec-"));
    root = join(work, "checkpoint");
    await mkdir(join(root, "sub"), { recursive: true });
    await writeFile(
      join(root, "checkpoint.img"),
      Buffer.concat([Buffer.alloc(20_000), randomBytes(30_000), Buffer.from("x".repeat(12_345))]),
    );
    await writeFile(join(root, "sub/pages.meta"), "meta\n");
    await writeFile(join(root, "empty"), "");
  });
  afterEach(async () => rm(work, { recursive: true, force: true }));

  async function allBlobs(store: LocalDirStore, dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const d of await readdir(dir))
      if (/^[0-9a-f]{2}$/.test(d)) for (const f of await readdir(join(dir, d))) if (/^[0-9a-f]{64}$/.test(f)) out.push(f);
    return out;
  }

  it("stores chunks as LZ4 when asked, with the same chunk hashes and image id as Brotli", async () => {
    const brStore = new LocalDirStore(join(work, "cas-br"));
    const lz4Store = new LocalDirStore(join(work, "cas-lz4"));
    const br = await ingestDirectory(root, brStore, { ...quiet, chunkSize: 8192 });
    const lz4 = await ingestDirectory(root, lz4Store, { ...quiet, chunkSize: 8192, codec: "lz4" });
    expect(lz4.imageId).toBe(br.imageId);
    expect(lz4.manifest).toEqual(br.manifest);
    expect(lz4.stats.newBlobs).toBe(br.stats.newBlobs);
    expect(lz4.stats.newBlobs).toBeGreaterThan(5);

    const chunks = lz4.manifest.entries.flatMap((e) => e.chunks ?? []);
    for (const hash of chunks) {
      const lz4Blob = await lz4Store.get(hash);
      expect(blobCodecOf(lz4Blob)).toBe("lz4");
      expect(blobCodecOf(await brStore.get(hash))).toBe("br");
      expect((await decompressBlob(lz4Blob)).equals(await decompressBlob(await brStore.get(hash)))).toBe(true);
    }
    // The manifest blob stays Brotli, and is the only blob besides the chunks.
    expect(blobCodecOf(await lz4Store.get(lz4.imageId))).toBe("br");
    expect(decodeManifest(await decompressBlob(await lz4Store.get(lz4.imageId)))).toEqual(lz4.manifest);
    expect((await allBlobs(lz4Store, join(work, "cas-lz4"))).sort()).toEqual([...new Set([...chunks, lz4.imageId])].sort());
  });

  it("passes the codec through a tar ingest too", async () => {
    const tar = pack();
    tar.entry({ name: "a.bin", mode: 0o644, mtime: new Date(0) }, Buffer.alloc(10_000, 1));
    tar.finalize();
    const store = new LocalDirStore(join(work, "cas"));
    const { manifest } = await ingestTar(Readable.from(tar), store, { ...quiet, chunkSize: 4096, codec: "lz4" });
    const chunks = manifest.entries.flatMap((e) => e.chunks ?? []);
    expect(chunks.length).toBe(3);
    expect(new Set(chunks).size).toBe(2); // the same 4096 ones twice, then the tail
    for (const hash of chunks) expect(blobCodecOf(await store.get(hash))).toBe("lz4");
  });
});
