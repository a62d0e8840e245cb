import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fetchManifest, ingestDirectory, LocalDirStore, StoreChunkSource, type BlobStore } from "@cellar/fs-client";
import { afterAll, describe, expect, it } from "vitest";
import { copyImages } from "./copy-images";

describe("copyImages", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-copy-images-"));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it("copies an image's manifest and chunks into another store once, manifest last", async () => {
    const tree = path.join(work, "tree");
    fs.mkdirSync(path.join(tree, "etc"), { recursive: true });
    fs.writeFileSync(path.join(tree, "etc/a.txt"), "alpha");
    fs.writeFileSync(path.join(tree, "b.bin"), Buffer.alloc(300_000, 7));
    const from = new LocalDirStore(path.join(work, "from"));
    const { imageId } = await ingestDirectory(tree, from);
    const to = new LocalDirStore(path.join(work, "to"));
    const order: string[] = [];
    const watched: BlobStore = new Proxy(to, {
      get: (target, prop, receiver) =>
        prop === "put"
          ? (hash: string, blob: Buffer) => {
              order.push(hash);
              return target.put(hash, blob);
            }
          : Reflect.get(target, prop, receiver),
    });

    const first = await copyImages({ from, to: watched, imageIds: [imageId, imageId] });
    expect(first.images).toBe(1);
    expect(order.at(-1)).toBe(imageId);
    const manifest = await fetchManifest(new StoreChunkSource(to), imageId);
    const chunks = manifest.entries.flatMap((e) => e.chunks ?? []);
    expect(first.blobs).toBe(new Set(chunks).size + 1);
    for (const hash of chunks) expect(await to.has(hash)).toBe(true);

    expect(await copyImages({ from, to, imageIds: [imageId] })).toEqual({ images: 0, blobs: 0, bytes: 0 });
  });
});
