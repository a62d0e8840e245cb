import type { Readable } from "node:stream";
import { extract } from "tar-stream";
import { DEFAULT_CHUNK_SIZE, normalizePath, type ManifestEntry } from "../manifest/manifest";
import type { BlobStore } from "../store/blob-store";
import { ChunkWriter } from "./chunk-writer";
import { finishImage, warner, type IngestOptions, type IngestResult } from "./image-result";

/**
 * Reads an uncompressed tar stream (pipe a .tar.gz through zlib.createGunzip() first). Entries
 * are consumed one at a time, so the archive can be any size. A later entry for the same path
 * replaces the earlier one, as extraction would. Hard links copy their target's entry.
 */
export async function ingestTar(stream: Readable, store: BlobStore, options: IngestOptions = {}): Promise<IngestResult> {
  const writer = new ChunkWriter(store, options.chunkSize ?? DEFAULT_CHUNK_SIZE, options.parallelism, options.codec);
  const { warnings, warn } = warner(options);
  const entries = new Map<string, ManifestEntry>();
  const tar = extract();
  stream.on("error", (err) => tar.destroy(err));
  stream.pipe(tar);

  for await (const entry of tar) {
    const h = entry.header;
    let path: string;
    try {
      path = normalizePath(h.name);
    } catch (err) {
      warn(`skipped ${JSON.stringify(h.name)}: ${(err as Error).message}`);
      entry.resume();
      continue;
    }
    const base = {
      path,
      mode: (h.mode ?? 0o644) & 0o7777,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      mtime: Math.max(0, Math.floor((h.mtime?.getTime() ?? 0) / 1000)),
    };
    switch (h.type) {
      case "file":
      case "contiguous-file": {
        const { chunks, size } = await writer.writeFile(entry as AsyncIterable<Uint8Array>);
        entries.set(path, { ...base, type: "file", size, chunks });
        continue;
      }
      case "directory":
        entries.set(path, { ...base, type: "dir", size: 0 });
        break;
      case "symlink": {
        const target = h.linkname ?? "";
        entries.set(path, { ...base, type: "symlink", size: Buffer.byteLength(target), target });
        break;
      }
      case "link": {
        const target = entries.get(normalizePathOrNull(h.linkname ?? "") ?? "");
        if (target?.type === "file") entries.set(path, { ...target, path });
        else warn(`skipped hard link ${path}: target ${JSON.stringify(h.linkname)} is not an earlier file`);
        break;
      }
      default:
        warn(`skipped ${h.type ?? "unknown"} entry ${path}`);
    }
    entry.resume();
  }
  return finishImage([...entries.values()], writer, store, warnings);
}

function normalizePathOrNull(raw: string): string | null {
  try {
    return normalizePath(raw);
  } catch {
    return null;
  }
}
