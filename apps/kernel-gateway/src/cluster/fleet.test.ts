// The fleet listing (GET /api/workers) with scripted workers of different classes: one gateway
// alone, and two replicas sharing Redis, each with a worker of its own.
import type { ChildProcess } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { gpusFromLabels, type WorkerResources } from "@cellar/protocol";
import { GatewayHarness, startRedis, TOKEN, until } from "../testing/gateway-harness";

const harness = new GatewayHarness();
let redis: ChildProcess | undefined;
let redisUrl: string;

beforeAll(async () => {
  const started = await startRedis();
  redis = started.process;
  redisUrl = started.url;
});
afterEach(() => harness.reset());
afterAll(async () => {
  redis?.kill();
  await harness.close();
});

const cpuWorker: WorkerResources = { cpus: 8, memoryBytes: 32 * 2 ** 30, gpus: [], labels: { zone: "eu-1" } };
/** A CPU machine standing in for a GPU class through its labels, as in development. */
const h100Labels = { gpu: "H100", gpus: "2", zone: "eu-1" };
const gpuWorker: WorkerResources = {
  cpus: 4,
  memoryBytes: 16 * 2 ** 30,
  gpus: gpusFromLabels(h100Labels),
  labels: h100Labels,
  gpuIsolation: "gvisor",
  gpuIsolationNote: "GPUs declared by labels only",
};

async function listWorkers(url: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${url}/api/workers`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Array<Record<string, unknown>>;
}
const byId = (list: Array<Record<string, unknown>>) => Object.fromEntries(list.map((w) => [w.id, w]));

describe("the fleet listing", () => {
  it("reports each worker's class, GPUs, labels, kernels and free GPUs", async () => {
    const gw = await harness.startGateway();
    const cpu = harness.scriptedWorker(gw.url, "cpu-1", [], { resources: cpuWorker });
    const gpu = harness.scriptedWorker(gw.url, "gpu-1", [], { resources: gpuWorker });
    await until(() => cpu.connected() && gpu.connected(), "both workers to connect");
    await until(async () => (await listWorkers(gw.url)).length === 2, "both workers to be listed");

    const workers = byId(await listWorkers(gw.url));
    expect(workers["cpu-1"]).toMatchObject({ workerClass: "CPU", freeGpus: [], draining: false, local: true, sessions: 0 });
    expect(workers["cpu-1"]!.resources).toMatchObject({ cpus: 8, labels: { zone: "eu-1" }, gpus: [] });
    expect(workers["gpu-1"]).toMatchObject({ workerClass: "2 × H100", freeGpus: [0, 1], draining: false, local: true });
    expect(workers["gpu-1"]!.resources).toMatchObject({
      gpus: [
        { index: 0, model: "H100", source: "label" },
        { index: 1, model: "H100", source: "label" },
      ],
      gpuIsolation: "gvisor",
    });

    // A kernel started: on the CPU worker (CPU kernels stay off GPU machines), whose count says so.
    const notebook = await gw.db.notebooks.create(gw.db.localUserId, "fleet");
    const page = harness.page(gw.url);
    expect(await page.open(notebook.id)).toMatchObject({ ok: true });
    await until(() => cpu.started.length === 1, "the kernel to start on the CPU worker");
    await until(async () => byId(await listWorkers(gw.url))["cpu-1"]!.sessions === 1, "the CPU worker to count its kernel");

    // A cell asks for an H100: the kernel moves there and holds one of its two GPUs.
    expect(await page.run(notebook.id, "%%gpu H100\nx = 1", "c1")).toEqual({ ok: true });
    await until(() => gpu.started.length === 1, "the kernel to move to the H100 worker");
    const moved = await until(async () => {
      const w = byId(await listWorkers(gw.url));
      return w["gpu-1"]!.sessions === 1 && w["cpu-1"]!.sessions === 0 && w;
    }, "the listing to show the kernel on the H100 worker");
    expect(moved["gpu-1"]).toMatchObject({ freeGpus: [1] });

    // A worker that leaves is no longer listed.
    gpu.socket.disconnect();
    await until(async () => (await listWorkers(gw.url)).length === 1, "the GPU worker to leave the listing");
  }, 30_000);

  it("lists the workers of every replica, whichever replica is asked", async () => {
    const a = await harness.startGateway(redisUrl);
    const b = await harness.startGateway(redisUrl);
    const onA = harness.scriptedWorker(a.url, "cpu-a", [], { resources: cpuWorker });
    const onB = harness.scriptedWorker(b.url, "gpu-b", [], { resources: gpuWorker });
    await until(() => onA.connected() && onB.connected(), "both workers to connect");
    await until(async () => (await listWorkers(a.url)).length === 2, "replica A to list B's worker too");

    const fromA = byId(await listWorkers(a.url));
    expect(fromA["cpu-a"]).toMatchObject({ workerClass: "CPU", local: true });
    expect(fromA["gpu-b"]).toMatchObject({ workerClass: "2 × H100", local: false, freeGpus: [0, 1] });
    const fromB = byId(await listWorkers(b.url));
    expect(fromB["cpu-a"]).toMatchObject({ workerClass: "CPU", local: false });
    expect(fromB["gpu-b"]).toMatchObject({ workerClass: "2 × H100", local: true });
  }, 30_000);
});
