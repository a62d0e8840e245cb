// A cell that asks for a device the kernel is not on moves the kernel: a real gateway and
// database, workers of two classes (scripted: the real state move is in the worker's tests and
// the e2e suite). What a user would notice: where each cell ran, that names came along, the
// names that did not, a device nobody has failing at once, and a busy one queueing.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { PLACEMENT_MIME, type JupyterMessage, type WorkerResources } from "@cellar/protocol";
import { setNotebookDevice } from "@cellar/notebook-doc";
import { GatewayHarness, type Page, until } from "../testing/gateway-harness";

const harness = new GatewayHarness();
afterEach(() => harness.reset());
afterAll(() => harness.close());

const CPU_WORKER: WorkerResources = { cpus: 2, memoryBytes: 8e9, gpus: [], labels: {} };
const H100_WORKER: WorkerResources = {
  cpus: 2,
  memoryBytes: 8e9,
  gpus: [{ index: 0, model: "H100", memoryBytes: 0, source: "label" }],
  labels: { gpu: "H100" },
};

type WorkerOpts = Parameters<GatewayHarness["scriptedWorker"]>[3];

async function setup(cpuOpts: WorkerOpts = {}, gpuOpts: WorkerOpts = {}) {
  const { url, db } = await harness.startGateway();
  const cpu = harness.scriptedWorker(url, "cpu-1", [], { resources: CPU_WORKER, ...cpuOpts });
  const gpu = harness.scriptedWorker(url, "gpu-1", [], { resources: H100_WORKER, ...gpuOpts });
  await until(() => cpu.connected() && gpu.connected(), "the workers to connect");
  const notebook = await db.notebooks.create(db.localUserId, "moves");
  const page = harness.page(url);
  await page.open(notebook.id);
  await until(() => page.statuses.includes("idle"), "the kernel to start");
  return { url, db, cpu, gpu, notebook, page };
}

/** The messages of the run of `cellId` the page got, once its reply came. */
async function runOf(page: Page, notebookId: string, code: string, cellId: string): Promise<JupyterMessage[]> {
  const sent = await page.run(notebookId, code, cellId);
  expect(sent).toEqual({ ok: true });
  const reply = await until(
    () => page.messages.find((m) => m.header.msg_type === "execute_reply" && codeOf(m) === code),
    `the reply to ${JSON.stringify(code)}`,
  );
  const parent = reply.parent_header.msg_id;
  return page.messages.filter((m) => m.parent_header?.msg_id === parent);
}

// Pages see the request's code only through its parent header; find the request by its reply.
const requests = new Map<string, string>();
function codeOf(m: JupyterMessage): string | undefined {
  return requests.get(m.parent_header.msg_id as string);
}

function placementOf(messages: JupyterMessage[]) {
  const shown = messages.find((m) => m.header.msg_type === "display_data");
  return (shown?.content as { data?: Record<string, unknown> } | undefined)?.data;
}

describe("a cell on another device", () => {
  it("starts on a CPU worker, moves to the H100 worker with its names for a %%gpu cell, and back for a CPU cell", async () => {
    const { cpu, gpu, notebook, page } = await setup();
    expect(cpu.started).toHaveLength(1);
    expect(gpu.started).toHaveLength(0);

    track(page);
    await runOf(page, notebook.id, "x = 1\nsock = 2", "c1");
    expect(cpu.ran).toEqual(["x = 1\nsock = 2"]);

    const onGpu = await runOf(page, notebook.id, "%%gpu H100\ny = x + 1", "c2");
    // The magic line is blanked, so tracebacks keep their line numbers.
    expect(gpu.ran).toEqual(["\ny = x + 1"]);
    expect(gpu.starts[0]).toMatchObject({ device: { kind: "gpu", model: "H100", count: 1 }, gpus: [0], workspace: expect.any(String) });
    expect(gpu.moves.map((m) => m.event)).toEqual(["import"]);
    expect(cpu.moves.map((m) => m.event)).toEqual(["export"]);
    const data = placementOf(onGpu)!;
    expect(data["text/plain"]).toMatch(/^ran on H100 · worker gpu-1 · moved 1 name, 28 B in \d+\.\d s\n/);
    // The name that could not move is listed in the cell's output, with its type and why.
    expect(data["text/plain"]).toContain("sock (socket.socket): cannot pickle 'socket' object");
    expect(data[PLACEMENT_MIME]).toMatchObject({
      workerId: "gpu-1",
      moved: { from: "cpu-1", names: 1 },
      skipped: [{ name: "sock", type: "socket.socket", reason: "cannot pickle 'socket' object" }],
    });
    // The old kernel is stopped once the new one has the names; pages hear where the kernel is.
    await until(() => cpu.stopped.length === 1, "the CPU kernel to stop");
    const lastStatus = page.events.filter((e) => e.event === "kernel:status").at(-1)?.payload as { placement?: { workerId: string } };
    expect(lastStatus.placement).toMatchObject({ workerId: "gpu-1", workerClass: "H100" });

    // A CPU cell (no magic, no metadata) moves it back, with x and y.
    const back = await runOf(page, notebook.id, "print(x, y)", "c3");
    expect(cpu.ran.at(-1)).toBe("print(x, y)");
    expect(placementOf(back)?.["text/plain"]).toMatch(/^ran on CPU · worker cpu-1 · moved 2 names/);
    await until(() => gpu.stopped.length === 1, "the GPU kernel to stop and free its GPU");
  }, 30_000);

  it("the notebook's default device, set in the live document, moves a cell that names none", async () => {
    const { url, gpu, notebook, page } = await setup();
    track(page);
    const editor = harness.editor(url, notebook.id);
    await until(() => editor.opens() > 0 && editor.doc.getMap("cells").size > 0, "the document to sync");
    setNotebookDevice(editor.doc, { kind: "gpu", model: "H100", count: 1 });
    const cellId = [...editor.doc.getMap("cells").keys()][0]!;
    // Sent after the change on the same socket: once answered, the gateway's document has it.
    expect(await editor.socket.timeout(5_000).emitWithAck("doc:flush", { notebookId: notebook.id })).toMatchObject({ ok: true });
    const run = await runOf(page, notebook.id, "d = 1", cellId);
    expect(gpu.ran).toEqual(["d = 1"]);
    expect(placementOf(run)?.["text/plain"]).toMatch(/^ran on H100 · worker gpu-1/);
  }, 30_000);

  it("a device no worker offers fails the cell at once, naming the workers there are", async () => {
    const { cpu, gpu, notebook, page } = await setup();
    track(page);
    const run = await runOf(page, notebook.id, "%%gpu A100\nz = 1", "c1");
    const error = run.find((m) => m.header.msg_type === "error")?.content as { ename: string; evalue: string };
    expect(error).toMatchObject({ ename: "DeviceUnavailable", evalue: "no worker offers A100 (workers: 1 × CPU, 1 × H100)" });
    expect(cpu.moves).toEqual([]);
    expect(gpu.started).toEqual([]);
    // Nothing ran anywhere, and the kernel still takes cells.
    await runOf(page, notebook.id, "w = 2", "c2");
    expect(cpu.ran).toEqual(["w = 2"]);
  }, 30_000);

  it("a bad %%gpu line is the cell's error", async () => {
    const { cpu, notebook, page } = await setup();
    track(page);
    const run = await runOf(page, notebook.id, "%%gpu H100:0\nz = 1", "c1");
    expect(run.find((m) => m.header.msg_type === "error")?.content).toMatchObject({ ename: "UsageError" });
    expect(cpu.ran).toEqual([]);
  }, 30_000);

  it("a busy device queues the cell with its place in line, and Cancel takes it out", async () => {
    const { db, gpu, notebook, page } = await setup();
    track(page);
    await runOf(page, notebook.id, "%%gpu\na = 1", "c1");
    expect(gpu.ran).toEqual(["\na = 1"]);

    // A second notebook wants the one GPU, which the first holds.
    const other = await db.notebooks.create(db.localUserId, "waits");
    await page.open(other.id);
    await until(
      () =>
        page.events.some(
          (e) =>
            e.event === "kernel:status" &&
            (e.payload as { notebookId: string }).notebookId === other.id &&
            (e.payload as { status: string }).status === "idle",
        ),
      "the second kernel",
    );
    await page.run(other.id, "%%gpu H100\nb = 1", "d1");
    await until(() => queued(page, "d1") === 1, "the cell to be first in line");
    expect(await page.socket.timeout(5_000).emitWithAck("cell:cancel-queued", { notebookId: other.id, cellId: "d1" })).toEqual({
      ok: true,
    });
    await until(() => queued(page, "d1") === 0, "the cell to leave the line");
    await until(
      () => page.messages.find((m) => m.header.msg_type === "error" && (m.content as { ename: string }).ename === "Cancelled"),
      "the cell to fail as cancelled",
    );

    // Queued again; when the first notebook goes back to CPU its GPU is free and the cell runs.
    await page.run(other.id, "%%gpu H100\nb = 2", "d2");
    await until(() => queued(page, "d2") === 1, "the cell to wait");
    await runOf(page, notebook.id, "print(a)", "c2");
    await until(() => gpu.ran.includes("\nb = 2"), "the queued cell to run on the GPU");
    expect(queued(page, "d2")).toBe(0);
  }, 30_000);
});

/** Remembers every request's code by id so replies can be matched to cells. */
describe("a move's files", () => {
  // 9 MiB: three of the gateway's 4 MiB pieces where it carries them.
  const BYTES = Buffer.alloc(9 << 20);
  for (let i = 0; i < BYTES.length; i++) BYTES[i] = (i * 7 + (i >> 12)) & 0xff;
  const CPU_MOVES = "http://cpu-1.invalid:8802/moves/";

  async function moveToGpu(cpuOpts: WorkerOpts, gpuOpts: WorkerOpts) {
    const ctx = await setup({ moveBytes: BYTES, ...cpuOpts }, gpuOpts);
    track(ctx.page);
    await runOf(ctx.page, ctx.notebook.id, "x = 1", "c1");
    const onGpu = await runOf(ctx.page, ctx.notebook.id, "%%gpu H100\ny = x", "c2");
    expect(ctx.gpu.ran).toEqual(["\ny = x"]);
    expect(placementOf(onGpu)?.["text/plain"]).toMatch(/^ran on H100 · worker gpu-1 · moved 1 name/);
    // However they went, both workers are told the move is over.
    await until(
      () => ctx.cpu.moveFiles.some((e) => e.event === "drop") && ctx.gpu.moveFiles.some((e) => e.event === "drop"),
      "both workers to drop the move",
    );
    return ctx;
  }

  it("go straight from the old worker's move server to the new worker, not through the gateway", async () => {
    const { cpu, gpu } = await moveToGpu({ moveUrl: CPU_MOVES }, {});
    expect(gpu.moveFiles.map((e) => e.event)).toEqual(["fetch", "drop"]);
    expect(gpu.moveFiles[0]!.url).toBe(CPU_MOVES);
    expect(cpu.moveFiles.map((e) => e.event)).toEqual(["drop"]);
  }, 30_000);

  it("are carried by the gateway, every byte in place, when the new worker cannot fetch them", async () => {
    const { cpu, gpu } = await moveToGpu({ moveUrl: CPU_MOVES }, { fetchFails: "connect ECONNREFUSED" });
    expect(gpu.moveFiles[0]!.event).toBe("fetch");
    expect(gpu.moveFiles.filter((e) => e.event === "write")).toHaveLength(3);
    expect(cpu.moveFiles.filter((e) => e.event === "read")).toHaveLength(3);
    expect(gpu.writtenBytes().equals(BYTES)).toBe(true);
  }, 30_000);

  it("a new worker that dies while it fetches them fails the cell at once, and the kernel stays where it was", async () => {
    const ctx = await setup({ moveBytes: BYTES, moveUrl: CPU_MOVES }, { fetchHangs: true });
    track(ctx.page);
    await runOf(ctx.page, ctx.notebook.id, "x = 1", "c1");
    const sent = await ctx.page.run(ctx.notebook.id, "%%gpu H100\ny = x", "c2");
    expect(sent).toEqual({ ok: true });
    await until(() => ctx.gpu.moveFiles.some((e) => e.event === "fetch"), "the new worker to be asked to fetch");
    const began = Date.now();
    ctx.gpu.socket.disconnect();
    const error = await until(
      () => ctx.page.messages.find((m) => m.header.msg_type === "error")?.content as { ename: string; evalue: string } | undefined,
      "the cell to fail",
    );
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(error).toMatchObject({ ename: "KernelMoveError", evalue: "Worker gpu-1 could not fetch the variables: it disconnected" });
    // The kernel never left the CPU worker: the next cell runs there, with x.
    await runOf(ctx.page, ctx.notebook.id, "print(x)", "c3");
    expect(ctx.cpu.ran.at(-1)).toBe("print(x)");
    expect(ctx.cpu.stopped).toEqual([]);
  }, 30_000);

  it("are carried by the gateway when the old worker has no move server, with no fetch tried", async () => {
    const { gpu } = await moveToGpu({}, {});
    expect(gpu.moveFiles.some((e) => e.event === "fetch")).toBe(false);
    expect(gpu.writtenBytes().equals(BYTES)).toBe(true);
  }, 30_000);
});

function track(page: Page) {
  page.socket.onAnyOutgoing((event: string, payload: { message?: JupyterMessage }) => {
    if (event === "kernel:send" && payload.message)
      requests.set(payload.message.header.msg_id, (payload.message.content as { code: string }).code);
  });
}

function queued(page: Page, cellId: string): number | undefined {
  const last = page.events.filter((e) => e.event === "cell:queued" && (e.payload as { cellId: string }).cellId === cellId).at(-1);
  return (last?.payload as { position: number } | undefined)?.position;
}
