export * from "./jupyter";
export * from "./notebook";
export * from "./events";
export * from "./outputs";
export * from "./validate";
export * from "./framing";
export * from "./workspace-files";
export * from "./terminals";
