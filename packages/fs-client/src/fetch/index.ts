export * from "./blob-fetcher";
export * from "./chunk-source";
export * from "./limiter";
export * from "./verify";
