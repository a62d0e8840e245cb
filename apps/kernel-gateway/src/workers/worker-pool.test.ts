import { describe, expect, it } from "vitest";
import { gpusFromLabels } from "@cellar/protocol";
import { WorkerPool, type WorkerSocket } from "./worker-pool";

describe("WorkerPool.list", () => {
  it("lists a worker's GPUs its kernels hold as taken, and those released as free again", () => {
    const pool = new WorkerPool();
    const w = pool.add("gpu-1", {} as WorkerSocket, {
      cpus: 4,
      memoryBytes: 1,
      gpus: gpusFromLabels({ gpu: "H100", gpus: "4" }),
      labels: {},
    });
    w.sessions.add("s1").add("s2");
    pool.takeGpus(w, "s1", [0]);
    pool.takeGpus(w, "s2", [2, 3]);
    w.draining = true;
    expect(pool.list()).toEqual([{ id: "gpu-1", resources: w.resources, sessions: 2, freeGpus: [1], draining: true }]);
    pool.releaseGpus(w, "s2");
    expect(pool.list()[0]!.freeGpus).toEqual([1, 2, 3]);
  });
});
