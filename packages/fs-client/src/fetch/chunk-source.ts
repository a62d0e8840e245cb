import { decodeManifest, type Manifest } from "../manifest/manifest";
import type { BlobStore } from "../store/blob-store";
import { verifyBlob } from "./verify";

/** Where a cache gets chunks from: verified, uncompressed bytes or a rejection. */
export interface ChunkSource {
  fetchChunk(hash: string): Promise<Buffer>;
}

/** Reads a store in this process (the embedded single-machine setup), with the same check. */
export class StoreChunkSource implements ChunkSource {
  constructor(private readonly store: BlobStore) {}

  async fetchChunk(hash: string): Promise<Buffer> {
    return verifyBlob(hash, await this.store.get(hash));
  }
}

/** An image's manifest is the blob named by its id, so fetching it verifies it too. */
export async function fetchManifest(source: ChunkSource, imageId: string): Promise<Manifest> {
  return decodeManifest(await source.fetchChunk(imageId));
}
