export * from "./collect";
