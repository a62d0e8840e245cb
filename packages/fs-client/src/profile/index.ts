export * from "./access-profile";
export * from "./boot-pack";
