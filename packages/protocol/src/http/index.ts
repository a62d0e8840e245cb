export * from "./accounts";
export * from "./errors";
export * from "./notebooks";
export * from "./workspace-files";
export * from "./routes";
export * from "./shares";
export * from "./schedules";
export * from "./runs";
