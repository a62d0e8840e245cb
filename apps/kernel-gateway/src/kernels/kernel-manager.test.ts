import { describe, expect, it, vi } from "vitest";
import { executeRequest, makeMessage, type JupyterMessage, type Output, type WidgetStateDocument } from "@cellar/protocol";
import { KernelManager } from "./kernel-manager";
import { memoryKernelSessions } from "../testing/memory-kernel-sessions";
import { WorkerPool, type WorkerSocket } from "../workers/worker-pool";

/** Stands in for a worker's socket: records what the gateway asks of the worker. */
function fakeWorkerSocket() {
  const sent: Array<{ event: string; payload: any }> = [];
  const socket = {
    emit(event: string, payload: any, ack?: (r: unknown) => void) {
      sent.push({ event, payload });
      ack?.({ ok: true });
      return true;
    },
  } as unknown as WorkerSocket;
  return { socket, sent };
}

async function setup({ withWorker = true } = {}) {
  const pool = new WorkerPool();
  const worker = fakeWorkerSocket();
  if (withWorker) pool.add("w1", worker.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
  const events: Array<{ event: string; payload: any }> = [];
  const saved: Array<{ cellId: string; outputs: Output[]; count: number | null }> = [];
  const cellsInDb = new Set(["cell-a", "c"]);
  const store = {
    saveCellOutputs: async (_nb: string, cellId: string, outputs: Output[], count: number | null) => {
      if (!cellsInDb.has(cellId)) return false;
      saved.push({ cellId, outputs, count });
      return true;
    },
    markRun: async () => {},
    saveWidgetState: async (_nb: string, doc: WidgetStateDocument | null) => (widgetDocs.push(doc), true),
  };
  const widgetDocs: Array<WidgetStateDocument | null> = [];
  const kernels = new KernelManager({
    pool,
    store,
    emit: (_nb, event, payload) => events.push({ event, payload }),
    limits: { memoryBytes: 1 << 30, pids: 100 },
    startTimeoutMs: 60_000,
    imageFor: async () => ({ name: "base", id: "a".repeat(64) }),
    sessions: memoryKernelSessions(),
    userId: "u",
    lostWorkerGraceMs: 50,
  });
  const sessionId = () => worker.sent.find((s) => s.event === "session:start")!.payload.sessionId as string;
  return { pool, worker, kernels, events, saved, sessionId, cellsInDb, widgetDocs };
}

const iopub = (type: string, content: Record<string, unknown>, parent: JupyterMessage) =>
  makeMessage(type, content, { channel: "iopub", parent });

describe("KernelManager", () => {
  it("starts a kernel on a worker when a notebook opens and reports its status", async () => {
    const t = await setup();
    expect(await t.kernels.ensureKernel("nb1")).toBe("starting");
    t.kernels.onWorkerStatus(t.sessionId(), "idle");
    expect(t.kernels.status("nb1")).toEqual({ status: "idle", reason: undefined });
    await t.kernels.settled(); // each change is announced once its row is written
    expect(t.events.map((e) => e.payload.status).filter(Boolean)).toEqual(["starting", "idle"]);
    expect(await t.kernels.ensureKernel("nb1")).toBe("idle");
    expect(t.worker.sent.filter((s) => s.event === "session:start")).toHaveLength(1);
  });

  it("says no worker is connected instead of hanging, and starts when one joins", async () => {
    const t = await setup({ withWorker: false });
    expect(await t.kernels.ensureKernel("nb1")).toBe("disconnected");
    expect(t.kernels.status("nb1")?.reason).toMatch(/No worker/);
    t.pool.add("w1", t.worker.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
    await t.kernels.onWorkerConnected(t.pool.get("w1") ?? t.pool.get("w2")!, []);
    // The start first learns the notebook's image (a build, for its own packages).
    await vi.waitFor(() => expect(t.kernels.status("nb1")?.status).toBe("starting"));
  });

  it("attributes outputs to the cell that ran and persists them on execute_reply", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const req = executeRequest("print(1+1)", { cellId: "cell-a" });
    expect(t.kernels.send("nb1", req)).toEqual({ ok: true });
    t.kernels.onWorkerMessage(t.sessionId(), iopub("execute_input", { code: "print(1+1)", execution_count: 1 }, req));
    t.kernels.onWorkerMessage(t.sessionId(), iopub("stream", { name: "stdout", text: "2\n" }, req));
    t.kernels.onWorkerMessage(t.sessionId(), makeMessage("execute_reply", { status: "ok", execution_count: 1 }, { parent: req }));
    await new Promise((r) => setTimeout(r, 20));
    expect(t.saved.at(-1)).toEqual({ cellId: "cell-a", outputs: [{ output_type: "stream", name: "stdout", text: "2\n" }], count: 1 });
    expect(t.events.filter((e) => e.event === "kernel:message")).toHaveLength(3);
  });

  it("keeps outputs of a cell run before its first save and writes them once it is saved", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const req = executeRequest("1+1", { cellId: "brand-new" });
    t.kernels.send("nb1", req);
    t.kernels.onWorkerMessage(
      t.sessionId(),
      iopub("execute_result", { data: { "text/plain": "2" }, metadata: {}, execution_count: 1 }, req),
    );
    t.kernels.onWorkerMessage(t.sessionId(), makeMessage("execute_reply", { status: "ok", execution_count: 1 }, { parent: req }));
    await new Promise((r) => setTimeout(r, 20));
    expect(t.saved).toHaveLength(0);
    t.cellsInDb.add("brand-new"); // the browser's save lands
    t.kernels.onNotebookSaved("nb1");
    await new Promise((r) => setTimeout(r, 20));
    expect(t.saved).toEqual([{ cellId: "brand-new", outputs: [expect.objectContaining({ output_type: "execute_result" })], count: 1 }]);
  });

  it("clears a cell's recorded outputs and count for good, with or without a kernel", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const req = executeRequest("1+1", { cellId: "cell-a" });
    t.kernels.send("nb1", req);
    t.kernels.onWorkerMessage(
      t.sessionId(),
      iopub("execute_result", { data: { "text/plain": "2" }, metadata: {}, execution_count: 3 }, req),
    );
    await t.kernels.clearOutputs("nb1", ["cell-a"]);
    expect(t.saved.at(-1)).toEqual({ cellId: "cell-a", outputs: [], count: null });
    await new Promise((r) => setTimeout(r, 300)); // the recorder's debounced write must not bring them back
    expect(t.saved.at(-1)).toEqual({ cellId: "cell-a", outputs: [], count: null });
    await t.kernels.clearOutputs("no-kernel", ["c"]);
    expect(t.saved.at(-1)).toEqual({ cellId: "c", outputs: [], count: null });
  });

  it("relays comm messages both ways: a page's to the worker, the kernel's to every page with the run's cell, never recorded as outputs", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    t.kernels.onWorkerStatus(t.sessionId(), "idle");
    // A cell makes a widget: the kernel opens a comm in the cell's run, then displays it.
    const req = executeRequest("w = make_widget()", { cellId: "cell-a" });
    t.kernels.send("nb1", req);
    const open = iopub("comm_open", { comm_id: "k1", target_name: "jupyter.widget", data: { state: {} } }, req);
    t.kernels.onWorkerMessage(t.sessionId(), open);
    t.kernels.onWorkerMessage(t.sessionId(), iopub("display_data", { data: { "text/plain": "w" }, metadata: {} }, req));
    t.kernels.onWorkerMessage(t.sessionId(), makeMessage("execute_reply", { status: "ok", execution_count: 1 }, { parent: req }));
    const relayed = t.events.filter((e) => e.event === "kernel:message").map((e) => e.payload);
    expect(relayed[0]).toMatchObject({ notebookId: "nb1", cellId: "cell-a", message: { header: { msg_type: "comm_open" } } });
    await new Promise((r) => setTimeout(r, 20));
    expect(t.saved.at(-1)?.outputs).toEqual([expect.objectContaining({ output_type: "display_data" })]);

    // A page moves the slider: the comm_msg goes to the worker as it is, and the kernel's answer,
    // parented to it, reaches the pages without touching the cell's outputs.
    const move = makeMessage("comm_msg", { comm_id: "k1", data: { method: "update", state: { value: 3 } } }, { channel: "shell" });
    expect(t.kernels.send("nb1", move)).toEqual({ ok: true });
    expect(t.worker.sent.at(-1)).toEqual({ event: "session:send", payload: { sessionId: t.sessionId(), message: move } });
    const echo = iopub("comm_msg", { comm_id: "k1", data: { method: "echo_update", state: { value: 3 } } }, move);
    t.kernels.onWorkerMessage(t.sessionId(), echo);
    expect(t.events.at(-1)).toEqual({ event: "kernel:message", payload: expect.objectContaining({ message: echo, cellId: undefined }) });
    t.kernels.onWorkerMessage(t.sessionId(), iopub("comm_close", { comm_id: "k1", data: {} }, req));
    await new Promise((r) => setTimeout(r, 300));
    expect(t.saved.at(-1)?.outputs).toEqual([expect.objectContaining({ output_type: "display_data" })]);
  });

  it("saves the kernel's widget state into the notebook's metadata, keeps it over a restart, and starts the new kernel's empty", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    t.kernels.onWorkerStatus(t.sessionId(), "idle");
    const req = executeRequest("s = IntSlider(value=3)", { cellId: "cell-a" });
    t.kernels.send("nb1", req);
    const state = { _model_name: "IntSliderModel", _model_module: "@jupyter-widgets/controls", _model_module_version: "2.0.0", value: 3 };
    t.kernels.onWorkerMessage(
      t.sessionId(),
      iopub("comm_open", { comm_id: "m1", target_name: "jupyter.widget", data: { state, buffer_paths: [] } }, req),
    );
    const move = makeMessage(
      "comm_msg",
      { comm_id: "m1", data: { method: "update", state: { value: 9 }, buffer_paths: [] } },
      { channel: "shell" },
    );
    t.kernels.send("nb1", move);
    for (let v = 4; v <= 9; v++)
      t.kernels.onWorkerMessage(
        t.sessionId(),
        iopub("comm_msg", { comm_id: "m1", data: { method: "echo_update", state: { value: v }, buffer_paths: [] } }, move),
      );
    // Debounced: nothing written per update.
    expect(t.widgetDocs).toEqual([]);
    const first = t.sessionId();
    await t.kernels.restart("nb1");
    // The old kernel's last state is written as it stops; the restart erases nothing.
    expect(t.widgetDocs).toHaveLength(1);
    expect(t.widgetDocs[0]!.state.m1).toMatchObject({
      model_name: "IntSliderModel",
      model_module: "@jupyter-widgets/controls",
      state: { value: 9 },
    });
    const second = t.worker.sent.filter((s) => s.event === "session:start").at(-1)!.payload.sessionId as string;
    expect(second).not.toBe(first);
    t.kernels.onWorkerStatus(second, "idle");
    // The new kernel knows no m1: an update for it changes nothing, and nothing is written.
    t.kernels.onWorkerMessage(second, iopub("comm_msg", { comm_id: "m1", data: { method: "update", state: { value: 1 } } }, req));
    await t.kernels.shutdown();
    expect(t.widgetDocs).toHaveLength(1);
  });

  it("relays an input() prompt without recording it, and records the answer as the prompt and value", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const req = executeRequest("name = input('Your name: ')", { cellId: "cell-a" });
    t.kernels.send("nb1", req);
    const ask = makeMessage("input_request", { prompt: "Your name: ", password: false }, { channel: "stdin", parent: req });
    t.kernels.onWorkerMessage(t.sessionId(), ask);
    expect(t.events.at(-1)?.payload.message.header.msg_type).toBe("input_request");
    const answer = makeMessage("input_reply", { status: "ok", value: "Ada" }, { channel: "stdin", parent: ask });
    expect(t.kernels.send("nb1", answer)).toEqual({ ok: true });
    expect(t.worker.sent.at(-1)).toMatchObject({ event: "session:send", payload: { message: { header: { msg_type: "input_reply" } } } });
    // A second tab answering the same prompt is passed on but not echoed twice.
    t.kernels.send("nb1", makeMessage("input_reply", { status: "ok", value: "Bob" }, { channel: "stdin", parent: ask }));
    t.kernels.onWorkerMessage(t.sessionId(), makeMessage("execute_reply", { status: "ok", execution_count: 1 }, { parent: req }));
    await new Promise((r) => setTimeout(r, 20));
    expect(t.saved.at(-1)?.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "Your name: Ada\n" }]);
  });

  it("hides a password answer in the echo", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const req = executeRequest("getpass()", { cellId: "cell-a" });
    t.kernels.send("nb1", req);
    const ask = makeMessage("input_request", { prompt: "Password: ", password: true }, { channel: "stdin", parent: req });
    t.kernels.onWorkerMessage(t.sessionId(), ask);
    t.kernels.send("nb1", makeMessage("input_reply", { status: "ok", value: "hunter2" }, { channel: "stdin", parent: ask }));
    const echo = t.events.filter((e) => e.event === "kernel:message").at(-1)!.payload.message;
    expect(echo.content.text).toBe("Password: ········\n");
    expect(echo.parent_header.msg_id).toBe(req.header.msg_id);
  });

  it("relays replies to completion requests to the notebook's browsers", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const req = makeMessage("complete_request", { code: "math.fl", cursor_pos: 7 });
    expect(t.kernels.send("nb1", req)).toEqual({ ok: true });
    t.kernels.onWorkerMessage(
      t.sessionId(),
      makeMessage("complete_reply", { status: "ok", matches: ["floor"], cursor_start: 5, cursor_end: 7 }, { parent: req }),
    );
    expect(t.events.at(-1)).toMatchObject({
      event: "kernel:message",
      payload: { notebookId: "nb1", message: { parent_header: { msg_id: req.header.msg_id } } },
    });
  });

  it("stops relaying a cell's flood once its output is truncated", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const req = executeRequest("flood", { cellId: "c" });
    t.kernels.send("nb1", req);
    const line = "x".repeat(1_000_000);
    for (let i = 0; i < 10; i++) t.kernels.onWorkerMessage(t.sessionId(), iopub("stream", { name: "stdout", text: line }, req));
    // 2 MB limit: two chunks fit, the third truncates (and is relayed so the browser shows the note), the rest are dropped.
    expect(t.events.filter((e) => e.event === "kernel:message")).toHaveLength(3);
  });

  it("waits for a worker whose connection dropped, then marks its kernels dead with a reason", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    t.kernels.onWorkerLost(t.pool.remove("w1", t.worker.socket));
    await vi.waitFor(() =>
      expect(t.kernels.status("nb1")).toMatchObject({ status: "disconnected", reason: expect.stringMatching(/w1 lost its connection/) }),
    );
    expect(t.kernels.send("nb1", executeRequest("1"))).toEqual({ ok: false, error: expect.stringMatching(/waiting for it to come back/) });
    await vi.waitFor(() =>
      expect(t.kernels.status("nb1")).toMatchObject({
        status: "dead",
        reason: expect.stringMatching(/worker .* disconnected and did not come back/),
      }),
    );
    expect(t.kernels.send("nb1", executeRequest("1"))).toMatchObject({ ok: false });
  });

  it("a worker that redials within the grace keeps its kernel: same session, requests flow again", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const sessionId = t.sessionId();
    t.kernels.onWorkerStatus(sessionId, "idle");
    t.kernels.onWorkerLost(t.pool.remove("w1", t.worker.socket));
    await vi.waitFor(() => expect(t.kernels.status("nb1")?.status).toBe("disconnected"));
    const again = fakeWorkerSocket();
    const worker = t.pool.add("w1", again.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
    await t.kernels.onWorkerConnected(worker, [{ sessionId, notebookId: "nb1", status: "idle" }]);
    expect(t.kernels.status("nb1")?.status).toBe("idle");
    await new Promise((r) => setTimeout(r, 80));
    expect(t.kernels.status("nb1")?.status).toBe("idle");
    expect(t.kernels.send("nb1", executeRequest("1"))).toEqual({ ok: true });
    expect(again.sent.at(-1)).toMatchObject({ event: "session:send", payload: { sessionId } });
  });

  it("applies a worker's status only along the kernel state table", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      t.kernels.onWorkerStatus(t.sessionId(), "suspended"); // starting -> suspended: not a move
      t.kernels.onWorkerStatus(t.sessionId(), "suspended"); // the same report is logged once
      expect(t.kernels.status("nb1")?.status).toBe("starting");
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/nb1.*starting.*suspended/);
      t.kernels.onWorkerStatus(t.sessionId(), "idle"); // starting -> idle: a move
      expect(t.kernels.status("nb1")?.status).toBe("idle");
    } finally {
      warn.mockRestore();
    }
  });

  it("ignores, without a word, what the old session says while the kernel restarts", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const first = t.sessionId();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const restarted = t.kernels.restart("nb1");
      t.kernels.onWorkerStatus(first, "idle");
      expect(t.kernels.status("nb1")?.status).toBe("restarting");
      await restarted;
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it("knows the worker holding a notebook's workspace, even after its kernel died there", async () => {
    const t = await setup();
    expect(t.kernels.workerOf("nb1")).toBeUndefined();
    await t.kernels.ensureKernel("nb1");
    expect(t.kernels.workerOf("nb1")?.id).toBe("w1");
    t.kernels.onWorkerStatus(t.sessionId(), "dead", "crashed");
    expect(t.kernels.workerOf("nb1")?.id).toBe("w1");
    // A worker that left holds nothing reachable; back under the same id, it is asked again.
    t.kernels.onWorkerLost(t.pool.remove("w1", t.worker.socket));
    expect(t.kernels.workerOf("nb1")).toBeUndefined();
    t.pool.add("w1", t.worker.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
    expect(t.kernels.workerOf("nb1")?.id).toBe("w1");
  });

  it("stops a deleted notebook's kernel on its worker and forgets it", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const session = t.sessionId();
    t.kernels.onWorkerStatus(session, "idle");
    await t.kernels.stop("nb1");
    expect(t.worker.sent.filter((s) => s.event === "session:stop").map((s) => s.payload.sessionId)).toEqual([session]);
    expect(t.kernels.status("nb1")).toBeUndefined();
    expect(t.pool.get("w1")!.sessions.has(session)).toBe(false);
    await t.kernels.stop("nb1"); // a notebook without a kernel: nothing to do
    expect(t.worker.sent.filter((s) => s.event === "session:stop")).toHaveLength(1);
  });

  it("restart replaces the session with a fresh one", async () => {
    const t = await setup();
    await t.kernels.ensureKernel("nb1");
    const first = t.sessionId();
    await t.kernels.restart("nb1");
    const starts = t.worker.sent.filter((s) => s.event === "session:start");
    expect(starts).toHaveLength(2);
    expect(starts[1].payload.sessionId).not.toBe(first);
    expect(t.worker.sent.some((s) => s.event === "session:stop" && s.payload.sessionId === first)).toBe(true);
    // Messages from the old session no longer reach the notebook.
    const before = t.events.length;
    t.kernels.onWorkerStatus(first, "dead", "old");
    expect(t.events.length).toBe(before);
  });
});
