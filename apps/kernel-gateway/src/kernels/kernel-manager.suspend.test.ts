// The gateway's side of suspend and resume: which statuses a notebook sees, where requests to a
// suspended kernel go, and what survives the worker going away.
import { describe, expect, it, vi } from "vitest";
import { executeRequest } from "@cellar/protocol";
import { KernelManager } from "./kernel-manager";
import { memoryKernelSessions } from "../testing/memory-kernel-sessions";
import { WorkerPool, type WorkerSocket } from "../workers/worker-pool";

const CHECKPOINT = "c".repeat(64);

/** Stands in for a worker's socket: records what the gateway asks of it and answers acks with
 * `answer` (what a worker would say). */
function fakeWorkerSocket(answer: (event: string) => { ok: true } | { ok: false; error: string } = () => ({ ok: true })) {
  const sent: Array<{ event: string; payload: any }> = [];
  const socket = {
    emit(event: string, payload: any, ack?: (r: unknown) => void) {
      sent.push({ event, payload });
      ack?.(answer(event));
      return true;
    },
    timeout() {
      return {
        emitWithAck: async (event: string, payload: any) => {
          sent.push({ event, payload });
          return answer(event);
        },
      };
    },
  } as unknown as WorkerSocket;
  return { socket, sent };
}

async function setup() {
  const pool = new WorkerPool();
  const w1 = fakeWorkerSocket();
  pool.add("w1", w1.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
  const statuses: string[] = [];
  const kernels = new KernelManager({
    pool,
    store: { saveCellOutputs: async () => true, markRun: async () => {} },
    emit: (_nb, event, payload: any) => {
      if (event === "kernel:status") statuses.push(payload.status);
    },
    limits: { memoryBytes: 1 << 30, pids: 100 },
    startTimeoutMs: 60_000,
    imageFor: async () => ({ name: "base", id: "a".repeat(64) }),
    sessions: memoryKernelSessions(),
    userId: "u",
    lostWorkerGraceMs: 20,
  });
  await kernels.ensureKernel("nb1");
  const sessionId = w1.sent.find((s) => s.event === "session:start")!.payload.sessionId as string;
  kernels.onWorkerStatus(sessionId, "idle");
  return { pool, w1, kernels, statuses, sessionId };
}

describe("KernelManager: suspended kernels", () => {
  it("shows suspended, and sends the next request to the kernel's worker, which resumes it", async () => {
    const t = await setup();
    t.kernels.onWorkerStatus(t.sessionId, "suspended", undefined, { checkpoint: CHECKPOINT });
    expect(t.kernels.status("nb1")?.status).toBe("suspended");
    expect(await t.kernels.ensureKernel("nb1")).toBe("suspended"); // reopening does not start a new kernel
    const req = executeRequest("print(x)", { cellId: "c" });
    expect(t.kernels.send("nb1", req)).toEqual({ ok: true });
    expect(t.w1.sent.at(-1)).toMatchObject({ event: "session:send", payload: { sessionId: t.sessionId } });
    t.kernels.onWorkerStatus(t.sessionId, "resuming");
    t.kernels.onWorkerStatus(t.sessionId, "idle");
    await t.kernels.settled(); // each change is announced once its row is written
    expect(t.statuses).toEqual(["starting", "idle", "suspended", "resuming", "idle"]);
  });

  it("keeps a suspended kernel when its worker leaves, and resumes it on another worker from its checkpoint", async () => {
    const t = await setup();
    t.kernels.onWorkerStatus(t.sessionId, "suspended", undefined, { checkpoint: CHECKPOINT });
    t.kernels.onWorkerLost(t.pool.remove("w1", t.w1.socket));
    expect(t.kernels.status("nb1")?.status).toBe("suspended");

    const w2 = fakeWorkerSocket();
    t.pool.add("w2", w2.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
    await t.kernels.onWorkerConnected(t.pool.get("w1") ?? t.pool.get("w2")!, []);
    expect(w2.sent).toHaveLength(0); // nothing is resumed until the notebook asks for it

    const req = executeRequest("print(x)", { cellId: "c" });
    expect(t.kernels.send("nb1", req)).toEqual({ ok: true });
    expect(w2.sent.map((s) => s.event)).toEqual(["session:start", "session:send"]);
    expect(w2.sent[0].payload).toMatchObject({
      sessionId: t.sessionId,
      notebookId: "nb1",
      image: "base",
      imageId: "a".repeat(64),
      resume: { checkpoint: CHECKPOINT },
    });
    expect(w2.sent[1].payload.message.header.msg_id).toBe(req.header.msg_id);
    expect(t.pool.get("w2")!.sessions.has(t.sessionId)).toBe(true);
    expect(t.kernels.workerOf("nb1")?.id).toBe("w2");
  });

  it("holds a request while no worker is connected, stays suspended, and resumes with it once one connects", async () => {
    const t = await setup();
    t.kernels.onWorkerStatus(t.sessionId, "suspended", undefined, { checkpoint: CHECKPOINT });
    t.kernels.onWorkerLost(t.pool.remove("w1", t.w1.socket));
    const req = executeRequest("1");
    expect(t.kernels.send("nb1", req)).toEqual({ ok: true });
    expect(t.kernels.status("nb1")?.status).toBe("suspended");
    const w2 = fakeWorkerSocket();
    const worker = t.pool.add("w2", w2.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
    await t.kernels.onWorkerConnected(worker, []);
    expect(w2.sent.map((s) => s.event)).toEqual(["session:start", "session:send"]);
    expect(w2.sent[0].payload.resume).toEqual({ checkpoint: CHECKPOINT });
    expect(w2.sent[1].payload.message.header.msg_id).toBe(req.header.msg_id);
  });

  it("a worker that cannot take the suspended kernel marks it dead with its reason", async () => {
    const t = await setup();
    t.kernels.onWorkerStatus(t.sessionId, "suspended", undefined, { checkpoint: CHECKPOINT });
    t.kernels.onWorkerLost(t.pool.remove("w1", t.w1.socket));
    const w2 = fakeWorkerSocket(() => ({ ok: false, error: "image missing" }));
    t.pool.add("w2", w2.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
    t.kernels.send("nb1", executeRequest("1"));
    expect(t.kernels.status("nb1")).toEqual({ status: "dead", reason: "The suspended kernel could not be resumed: image missing" });
  });

  it("a kernel that was running (not suspended) when its worker left is dead once the worker's grace is over", async () => {
    const t = await setup();
    t.kernels.onWorkerLost(t.pool.remove("w1", t.w1.socket));
    await vi.waitFor(() => expect(t.kernels.status("nb1")?.status).toBe("dead"));
  });

  it("a kernel resuming when its worker left is dead, not resumed twice", async () => {
    const t = await setup();
    t.kernels.onWorkerStatus(t.sessionId, "suspended", undefined, { checkpoint: CHECKPOINT });
    t.kernels.onWorkerStatus(t.sessionId, "resuming");
    t.kernels.onWorkerLost(t.pool.remove("w1", t.w1.socket));
    await vi.waitFor(() => expect(t.kernels.status("nb1")?.status).toBe("dead"));
  });

  it("suspend now asks the kernel's worker and passes its answer on", async () => {
    const t = await setup();
    expect(await t.kernels.suspend("nb1")).toEqual({ ok: true });
    expect(t.w1.sent.at(-1)).toEqual({ event: "session:suspend", payload: { sessionId: t.sessionId } });
    t.kernels.onWorkerStatus(t.sessionId, "suspended", undefined, { checkpoint: CHECKPOINT });
    const asked = t.w1.sent.length;
    expect(await t.kernels.suspend("nb1")).toEqual({ ok: true }); // already suspended: nothing to ask
    expect(t.w1.sent).toHaveLength(asked);
    expect(await t.kernels.suspend("nope")).toEqual({ ok: false, error: "The notebook has no kernel." });
  });

  it("restarting a suspended kernel starts a fresh one", async () => {
    const t = await setup();
    t.kernels.onWorkerStatus(t.sessionId, "suspended", undefined, { checkpoint: CHECKPOINT });
    t.kernels.onWorkerLost(t.pool.remove("w1", t.w1.socket));
    const w2 = fakeWorkerSocket();
    t.pool.add("w2", w2.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
    await t.kernels.restart("nb1");
    const start = w2.sent.find((s) => s.event === "session:start")!;
    expect(start.payload.resume).toBeUndefined();
    expect(start.payload.sessionId).not.toBe(t.sessionId);
    expect(t.kernels.status("nb1")?.status).toBe("starting");
  });

  it("drops the checkpoint once the kernel runs again", async () => {
    const t = await setup();
    t.kernels.onWorkerStatus(t.sessionId, "suspended", undefined, { checkpoint: CHECKPOINT });
    t.kernels.onWorkerStatus(t.sessionId, "resuming");
    t.kernels.onWorkerStatus(t.sessionId, "idle");
    // Now idle again: losing the worker (for good) loses the kernel.
    t.kernels.onWorkerLost(t.pool.remove("w1", t.w1.socket));
    await vi.waitFor(() => expect(t.kernels.status("nb1")?.status).toBe("dead"));
  });

  it("a request for a kernel suspended by a draining worker waits until that worker has left, then resumes it on another", async () => {
    const t = await setup();
    t.w1.sent.length = 0;
    t.pool.get("w1")!.draining = true;
    t.kernels.onWorkerStatus(t.sessionId, "suspended", undefined, { checkpoint: CHECKPOINT });
    const w2 = fakeWorkerSocket();
    const second = t.pool.add("w2", w2.socket, { cpus: 2, memoryBytes: 1, gpus: [], labels: {} });
    await t.kernels.onWorkerConnected(second, []);
    const req = executeRequest("1");
    // Not to the leaving worker (it would resume the kernel and take it down with it), and not yet
    // to the new one (the checkpoint may still be on its way to the CAS).
    expect(t.kernels.send("nb1", req)).toEqual({ ok: true });
    expect(t.w1.sent).toEqual([]);
    expect(w2.sent).toEqual([]);
    t.kernels.onWorkerLost(t.pool.remove("w1", t.w1.socket));
    expect(w2.sent.map((s) => s.event)).toEqual(["session:start", "session:send"]);
    expect(w2.sent[0].payload.resume).toEqual({ checkpoint: CHECKPOINT });
    expect(w2.sent[1].payload.message.header.msg_id).toBe(req.header.msg_id);
  });

  it("a draining worker gets no new kernels", async () => {
    const t = await setup();
    t.pool.get("w1")!.draining = true;
    expect(await t.kernels.ensureKernel("nb2")).toBe("disconnected");
    expect(t.w1.sent.filter((s) => s.event === "session:start")).toHaveLength(1);
  });
});
