export { ChunkWriter, dedupRatio, type IngestStats } from "./chunk-writer";
export type { IngestOptions, IngestResult } from "./image-result";
export * from "./ingest-directory";
export * from "./ingest-tar";
export * from "./ingest-layer";
