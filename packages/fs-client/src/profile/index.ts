export * from "./access-profile";
export * from "./prefetch";
