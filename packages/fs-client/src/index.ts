// Public surface of the lazy image filesystem. One direction: mount → cache → fetch → store.
export * from "./manifest/index";
export * from "./store/index";
export * from "./ingest/index";
export * from "./fetch/index";
export * from "./cache/index";
export * from "./profile/index";
export * from "./mount/index";
export * from "./gc/index";
export * from "./read-full";
