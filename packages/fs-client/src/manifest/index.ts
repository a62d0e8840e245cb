export * from "./manifest";
export * from "./daemon-index";
