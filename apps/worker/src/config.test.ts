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

describe("CELLAR_WORKER_LABELS", () => {
  it("reads key=value pairs, and none when unset", () => {
    expect(loadConfig(base).labels).toEqual({});
    expect(loadConfig({ ...base, CELLAR_WORKER_LABELS: "gpu=H100, gpus=2,zone=eu-1," }).labels).toEqual({
      gpu: "H100",
      gpus: "2",
      zone: "eu-1",
    });
  });

  it("refuses a bad entry at start, naming it", () => {
    const bad = (labels: string) => () => loadConfig({ ...base, CELLAR_WORKER_LABELS: labels });
    expect(bad("gpu")).toThrow('CELLAR_WORKER_LABELS: "gpu" has no value');
    expect(bad("zone=")).toThrow('CELLAR_WORKER_LABELS: "zone=" has no value');
    expect(bad("a b=1")).toThrow('"a b" is not a label name');
    expect(bad("zone=a,zone=b")).toThrow('"zone" is given twice');
    expect(bad("gpu=H100,gpus=two")).toThrow('gpus must be a whole number from 1 to 16, not "two"');
    expect(bad("gpu=H100,gpus=17")).toThrow("gpus must be a whole number from 1 to 16");
    expect(bad("gpus=2")).toThrow("gpus is given without gpu");
    expect(bad("gpu=H100,gpu-memory-bytes=80GB")).toThrow('gpu-memory-bytes must be a number of bytes, not "80GB"');
    expect(bad("gpu=H100;rm")).toThrow("gpu must be a GPU model such as H100");
  });
});
