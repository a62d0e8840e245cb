import { decodeManifest, type Manifest } from "../manifest/manifest";
import type { BlobStore } from "../store/blob-store";
import { verifyBlob } from "./verify";

/** Where a cache gets chunks from: verified, uncompressed bytes or a rejection. */
export interface ChunkSource {
  fetchChunk(hash: string): Promise<Buffer>;
}

/** Uses a store in this process (the embedded single-machine setup), with the same checks as over HTTP. */
export class StoreChunkSource implements ChunkSource {
  constructor(private readonly store: BlobStore) {}

  async fetchChunk(hash: string): Promise<Buffer> {
    return verifyBlob(hash, await this.store.get(hash));
  }

  fetchRef(name: string): Promise<string | null> {
    return this.store.getRef(name);
  }

  async putBlob(hash: string, compressed: Buffer): Promise<void> {
    await verifyBlob(hash, compressed);
    await this.store.put(hash, compressed);
  }

  async putRef(name: string, hash: string): Promise<void> {
    if (!(await this.store.has(hash))) throw new Error(`no blob ${hash} to point at`);
    await this.store.putRef(name, hash);
  }
}

/** An image's manifest is the blob named by its id, so fetching it verifies it too. */
export async function fetchManifest(source: ChunkSource, imageId: string): Promise<Manifest> {
  return decodeManifest(await source.fetchChunk(imageId));
}
