import { describe, expect, it } from "vitest";
import { loadConfig } from "./config";

const base = { CELLAR_WORKER_SECRET: "s" };

describe("worker config", () => {
  it("has no health server unless CELLAR_WORKER_HEALTH_PORT names a port", () => {
    expect(loadConfig(base).healthPort).toBeUndefined();
    expect(loadConfig({ ...base, CELLAR_WORKER_HEALTH_PORT: "" }).healthPort).toBeUndefined();
    expect(loadConfig({ ...base, CELLAR_WORKER_HEALTH_PORT: "8801" }).healthPort).toBe(8801);
    for (const bad of ["http", "0", "70000", "88.5"])
      expect(() => loadConfig({ ...base, CELLAR_WORKER_HEALTH_PORT: bad })).toThrow(
        `CELLAR_WORKER_HEALTH_PORT must be a port number (1-65535), not "${bad}"`,
      );
  });
});
