export * from "./catch-up";
export * from "./cron";
export * from "./overlap";
export * from "./parameters";
export * from "./presets";
export * from "./retry";
export * from "./validate-schedule";
