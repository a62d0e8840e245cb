export * from "./blob-store";
export * from "./codec";
export * from "./local-dir-store";
export * from "./blob-handler";
export * from "./s3-blob-store";
export * from "./open-store";
