export * from "./chunk-cache";
export * from "./readahead";
