export * from "./chunk-cache";
export * from "./readahead";
export * from "./pack-file";
