// A gateway that dies and comes back (or a second replica) reads the kernels back from their rows
// and adopts the ones its workers still run, instead of starting new ones.
import { describe, expect, it } from "vitest";
import { executeRequest, makeMessage } from "@cellar/protocol";
import { KernelManager } from "./kernel-manager";
import { WorkerPool, type WorkerSocket } from "../workers/worker-pool";
import { memoryKernelSessions } from "../testing/memory-kernel-sessions";

const CHECKPOINT = "c".repeat(64);

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

function gateway(sessions = memoryKernelSessions(), cellsInDb = new Map<string, any>(), widgets = new Map<string, unknown>()) {
  const pool = new WorkerPool();
  const statuses: Array<[string, string]> = [];
  const messages: any[] = [];
  const kernels = new KernelManager({
    pool,
    store: {
      saveCellOutputs: async (_nb: string, cellId: string, outputs: any, executionCount: number | null, through: any) => {
        cellsInDb.set(cellId, { outputs, executionCount, through });
        return true;
      },
      cellOutputs: async (_nb: string, cellId: string) => cellsInDb.get(cellId) ?? null,
      markRun: async () => {},
      saveWidgetState: async (nb: string, doc: unknown) => (widgets.set(nb, doc), true),
      widgetState: async (nb: string) => widgets.get(nb) ?? null,
    },
    emit: (nb, event, payload: any) => {
      if (event === "kernel:status") statuses.push([nb, payload.status]);
      if (event === "kernel:message") messages.push(payload.message);
    },
    limits: { memoryBytes: 1 << 30, pids: 100 },
    startTimeoutMs: 60_000,
    imageFor: async () => ({ name: "base", id: "a".repeat(64) }),
    sessions,
    userId: "u",
  });
  const connect = async (id: string, reports: Parameters<KernelManager["onWorkerConnected"]>[1] = []) => {
    const w = fakeWorkerSocket();
    const worker = pool.add(id, w.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
    await kernels.onWorkerConnected(worker, reports);
    return w;
  };
  return { pool, kernels, statuses, messages, sessions, connect, cellsInDb, widgets };
}

const startedSession = (w: ReturnType<typeof fakeWorkerSocket>, notebookId: string) =>
  w.sent.find((s) => s.event === "session:start" && s.payload.notebookId === notebookId)!.payload.sessionId as string;

/** A gateway whose kernel on worker w1 runs `code` in cell "c"; `line(n)` is its stdout "n". */
async function runningCell(code: string) {
  const first = gateway();
  const w1 = await first.connect("w1");
  await first.kernels.ensureKernel("nb");
  const id = startedSession(w1, "nb");
  first.kernels.onWorkerStatus(id, "idle");
  const req = executeRequest(code, { cellId: "c" });
  first.kernels.send("nb", req);
  const line = (n: number) => makeMessage("stream", { name: "stdout", text: `${n}\n` }, { channel: "iopub", parent: req });
  return { first, id, req, line };
}

describe("KernelManager after a gateway restart", () => {
  it("adopts a running kernel its worker reports, suspended kernels stay suspended, and nothing is started again", async () => {
    const first = gateway();
    const w1 = await first.connect("w1");
    await first.kernels.ensureKernel("running");
    await first.kernels.ensureKernel("sleeping");
    const running = startedSession(w1, "running");
    const sleeping = startedSession(w1, "sleeping");
    first.kernels.onWorkerStatus(running, "idle");
    first.kernels.onWorkerStatus(sleeping, "idle");
    first.kernels.onWorkerStatus(sleeping, "suspended", undefined, { checkpoint: CHECKPOINT });
    await first.kernels.settled();
    // kill -9: the first gateway is simply gone; only its rows remain.

    const second = gateway(first.sessions);
    expect(await second.kernels.restore()).toBe(2);
    expect(second.kernels.status("sleeping")?.status).toBe("suspended");
    expect(second.kernels.status("running")).toMatchObject({ status: "disconnected", reason: expect.stringMatching(/w1.*reconnect/) });

    const again = await second.connect("w1", [
      { sessionId: running, notebookId: "running", status: "idle" },
      { sessionId: sleeping, notebookId: "sleeping", status: "suspended", suspended: { checkpoint: CHECKPOINT } },
    ]);
    expect(second.kernels.status("running")?.status).toBe("idle");
    expect(await second.kernels.ensureKernel("running")).toBe("idle");
    expect(await second.kernels.ensureKernel("sleeping")).toBe("suspended");
    expect(again.sent.filter((s) => s.event === "session:start" || s.event === "session:stop")).toEqual([]);

    // Requests go to the adopted session, and its answers come back to the notebook.
    const req = executeRequest("x", { cellId: "c" });
    expect(second.kernels.send("running", req)).toEqual({ ok: true });
    expect(again.sent.at(-1)).toMatchObject({ event: "session:send", payload: { sessionId: running } });
    second.kernels.onWorkerMessage(running, makeMessage("stream", { name: "stdout", text: "1\n" }, { channel: "iopub", parent: req }));
    expect(second.messages.at(-1)?.content.text).toBe("1\n");
    // The suspended kernel resumes on the worker that reported it.
    expect(second.kernels.send("sleeping", executeRequest("y"))).toEqual({ ok: true });
    expect(again.sent.at(-1)).toMatchObject({ event: "session:send", payload: { sessionId: sleeping } });
  });

  it("an adopted kernel's widgets go on from their saved state: an update counts, and a new widget keeps the old ones", async () => {
    const first = gateway();
    const w1 = await first.connect("w1");
    await first.kernels.ensureKernel("nb");
    const session = startedSession(w1, "nb");
    first.kernels.onWorkerStatus(session, "idle");
    const state = { _model_name: "IntSliderModel", _model_module: "@jupyter-widgets/controls", _model_module_version: "2.0.0", value: 3 };
    const iopub = (type: string, content: Record<string, unknown>) => makeMessage(type, content, { channel: "iopub" });
    first.kernels.onWorkerMessage(session, iopub("comm_open", { comm_id: "m1", target_name: "jupyter.widget", data: { state } }));
    await first.kernels.shutdown();

    const second = gateway(first.sessions, first.cellsInDb, first.widgets);
    await second.kernels.restore();
    await second.connect("w1", [{ sessionId: session, notebookId: "nb", status: "idle" }]);
    second.kernels.onWorkerMessage(session, iopub("comm_msg", { comm_id: "m1", data: { method: "echo_update", state: { value: 7 } } }));
    second.kernels.onWorkerMessage(session, iopub("comm_open", { comm_id: "m2", target_name: "jupyter.widget", data: { state } }));
    await second.kernels.shutdown();
    const saved = second.widgets.get("nb") as { state: Record<string, { state: { value: number } }> };
    expect(Object.keys(saved.state).sort()).toEqual(["m1", "m2"]);
    expect(saved.state.m1!.state.value).toBe(7);
  });

  it("a kernel whose worker came back without it is dead, with the reason", async () => {
    const first = gateway();
    const w1 = await first.connect("w1");
    await first.kernels.ensureKernel("nb");
    first.kernels.onWorkerStatus(startedSession(w1, "nb"), "idle");
    await first.kernels.settled();

    const second = gateway(first.sessions);
    await second.kernels.restore();
    await second.connect("w1", []);
    expect(second.kernels.status("nb")).toMatchObject({ status: "dead", reason: expect.stringMatching(/came back without it/) });
    await second.kernels.settled();
    expect((await second.sessions.get("nb"))?.status).toBe("dead");
  });

  it("a kernel no notebook has any more is stopped on the worker that reports it", async () => {
    const g = gateway();
    const w = await g.connect("w1", [{ sessionId: "stale", notebookId: "gone", status: "idle" }]);
    expect(w.sent).toEqual([{ event: "session:stop", payload: { sessionId: "stale" } }]);
  });

  it("a kernel started through another replica is adopted from its row", async () => {
    const sessions = memoryKernelSessions();
    const a = gateway(sessions);
    const b = gateway(sessions);
    await b.kernels.restore(); // before A starts anything: B does not know the kernel yet
    const wa = await a.connect("w1");
    await a.kernels.ensureKernel("nb");
    const id = startedSession(wa, "nb");
    a.kernels.onWorkerStatus(id, "idle");
    await a.kernels.settled();
    // A dies; the worker reconnects to B.
    const wb = await b.connect("w1", [{ sessionId: id, notebookId: "nb", status: "idle" }]);
    expect(b.kernels.status("nb")?.status).toBe("idle");
    expect(wb.sent).toEqual([]);
  });

  it("two gateways opening one notebook at once start one kernel", async () => {
    const sessions = memoryKernelSessions();
    const a = gateway(sessions);
    const b = gateway(sessions);
    const wa = await a.connect("wa");
    const wb = await b.connect("wb");
    await Promise.all([a.kernels.ensureKernel("nb"), b.kernels.ensureKernel("nb")]);
    const starts = [...wa.sent, ...wb.sent].filter((s) => s.event === "session:start");
    expect(starts).toHaveLength(1);
    expect((await sessions.get("nb"))?.sessionId).toBe(starts[0].payload.sessionId);
    expect(a.kernels.status("nb")?.status).not.toBe("dead");
    expect(b.kernels.status("nb")?.status).not.toBe("dead");
  });

  it("a run the old gateway was recording goes on in the same cell, and what the worker sends again is recorded once", async () => {
    const { first, id, req, line } = await runningCell("for i in range(4): print(i)");
    const lines = [0, 1, 2, 3].map(line);
    first.kernels.onWorkerMessage(id, lines[0], { seq: 1, epoch: "e1", cellId: "c" });
    first.kernels.onWorkerMessage(id, lines[1], { seq: 2, epoch: "e1", cellId: "c" });
    await new Promise((r) => setTimeout(r, 300)); // the recorder's debounced write
    expect(first.cellsInDb.get("c").through).toEqual({ stream: `${id}:e1`, seq: 2 });
    await first.kernels.settled();

    // The first gateway dies before its ack; the worker sends 1 and 2 again, then 3 and 4.
    const second = gateway(first.sessions, first.cellsInDb);
    await second.kernels.restore();
    await second.connect("w1", [{ sessionId: id, notebookId: "nb", status: "busy" }]);
    for (const [i, msg] of lines.entries()) second.kernels.onWorkerMessage(id, msg, { seq: i + 1, epoch: "e1", cellId: "c" });
    second.kernels.onWorkerMessage(id, lines[3], { seq: 4, epoch: "e1", cellId: "c" }); // and once more: dropped by number
    second.kernels.onWorkerMessage(id, makeMessage("execute_reply", { status: "ok", execution_count: 1 }, { parent: req }), {
      seq: 5,
      epoch: "e1",
      cellId: "c",
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(first.cellsInDb.get("c").outputs).toEqual([{ output_type: "stream", name: "stdout", text: "0\n1\n2\n3\n" }]);
  });

  it("adopted from a gateway that died: a page behind what that one recorded reads back, and gets the running cell as recorded", async () => {
    const { first, id, line } = await runningCell("for i in range(9): print(i)");
    for (let n = 1; n <= 3; n++) first.kernels.onWorkerMessage(id, line(n), { seq: n, epoch: "e1", cellId: "c" });
    await first.kernels.settled();
    await new Promise((r) => setTimeout(r, 300)); // recorded; the worker was told (acked 3)

    // The first gateway dies. Its page had seen only line 1: lines 2 and 3 were lost on its way.
    const second = gateway(first.sessions, first.cellsInDb);
    await second.kernels.restore();
    await second.connect("w1", [{ sessionId: id, notebookId: "nb", status: "busy", acked: { epoch: "e1", seq: 3 } }]);
    const at = (seq: number) => ({ stream: `${id}:e1`, seq });
    expect(second.kernels.missedSince("nb", at(1))).toBeNull();
    expect(second.kernels.missedSince("nb", at(3))).toEqual([]);
    // The worker goes on from 4 (it does not send again what was acknowledged).
    second.kernels.onWorkerMessage(id, line(4), { seq: 4, epoch: "e1", cellId: "c" });
    second.kernels.onWorkerMessage(id, line(4), { seq: 3, epoch: "e1", cellId: "c" }); // dropped by number
    await second.kernels.settled();
    expect(await second.kernels.liveOutputs("nb")).toEqual([
      { cellId: "c", outputs: [{ output_type: "stream", name: "stdout", text: "1\n2\n3\n4\n" }], executionCount: null },
    ]);
    expect(second.kernels.missedSince("nb", at(3))?.map((m) => m.seq)).toEqual([4]);
  });

  it("tells a reconnecting page what it missed, nothing when it is ahead, and to read back when it cannot", async () => {
    const g = gateway();
    const w = await g.connect("w1");
    await g.kernels.ensureKernel("nb");
    const id = startedSession(w, "nb");
    const msg = (n: number) => makeMessage("status", { execution_state: n % 2 ? "busy" : "idle" }, { channel: "iopub" });
    for (let n = 1; n <= 3; n++) g.kernels.onWorkerMessage(id, msg(n), { seq: n, epoch: "e1" });
    const at = (seq: number, epoch = "e1") => ({ stream: `${id}:${epoch}`, seq });
    expect(g.kernels.missedSince("nb", at(1))?.map((m) => m.seq)).toEqual([2, 3]);
    expect(g.kernels.missedSince("nb", at(3))).toEqual([]);
    expect(g.kernels.missedSince("nb", at(9))).toEqual([]); // the worker will send the rest
    expect(g.kernels.missedSince("nb", at(1, "an-older-worker-process"))).toBeNull();
    expect(g.kernels.missedSince("nb", { stream: "an-older-kernel:e1", seq: 1 })).toBeNull();
    expect(g.kernels.missedSince("nb", undefined)).toBeNull();
    // A message it has had is not relayed twice.
    const before = g.messages.length;
    g.kernels.onWorkerMessage(id, msg(3), { seq: 3, epoch: "e1" });
    expect(g.messages.length).toBe(before);
  });

  it("a kernel resumed by another worker process numbers from 1 again, and its messages are taken, not dropped", async () => {
    const g = gateway();
    const w = await g.connect("w1");
    await g.kernels.ensureKernel("nb");
    const id = startedSession(w, "nb");
    const line = (text: string) => makeMessage("stream", { name: "stdout", text }, { channel: "iopub" });
    for (let n = 1; n <= 5; n++) g.kernels.onWorkerMessage(id, line(`old ${n}`), { seq: n, epoch: "first-process" });
    g.kernels.onWorkerMessage(id, line("new 1"), { seq: 1, epoch: "second-process" });
    g.kernels.onWorkerMessage(id, line("new 1"), { seq: 1, epoch: "second-process" }); // sent again: dropped
    g.kernels.onWorkerMessage(id, line("new 2"), { seq: 2, epoch: "second-process" });
    expect(g.messages.map((m) => m.content.text).slice(-3)).toEqual(["old 5", "new 1", "new 2"]);
  });
});
