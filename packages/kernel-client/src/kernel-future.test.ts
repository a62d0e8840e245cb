import { afterEach, describe, expect, it, vi } from "vitest";
import { executeRequest, makeMessage, type JupyterMessage } from "@cellar/protocol";
import { KernelFuture, KernelFutureError } from "./kernel-future";
import { EventEmitter } from "node:events";
import { futuresFor, KernelFutures, parentIdOf } from "./kernel-futures";

const reply = (req: JupyterMessage, content: Record<string, unknown> = { status: "ok", execution_count: 1 }) =>
  makeMessage(req.header.msg_type.replace(/_request$/, "_reply"), content, { parent: req, channel: req.channel });
const iopub = (req: JupyterMessage, type: string, content: Record<string, unknown>) =>
  makeMessage(type, content, { parent: req, channel: "iopub" });
const idle = (req: JupyterMessage) => iopub(req, "status", { execution_state: "idle" });
const busy = (req: JupyterMessage) => iopub(req, "status", { execution_state: "busy" });

/** Whether the promise has settled by the end of this turn's microtasks. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setTimeout(r, 0));
  return done;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("KernelFuture", () => {
  it("is done once the reply and then the idle status are in", async () => {
    const req = executeRequest("1+1");
    const f = new KernelFuture(req);
    const r = reply(req);
    f.handle(busy(req));
    f.handle(r);
    expect(await settled(f.done)).toBe(false);
    expect(await f.replied).toBe(r);
    f.handle(idle(req));
    expect(await f.done).toBe(r);
    expect(f.isSettled).toBe(true);
  });

  it("is done once the idle status and then the reply are in", async () => {
    const req = executeRequest("1+1");
    const f = new KernelFuture(req);
    f.handle(idle(req));
    expect(await settled(f.done)).toBe(false);
    const r = reply(req);
    f.handle(r);
    expect(await f.done).toBe(r);
  });

  it("hands every iopub message to onIOPub in order, the reply to onReply, and nothing after it is done", async () => {
    const req = executeRequest("print(1)");
    const seen: string[] = [];
    const f = new KernelFuture(req, {
      onIOPub: (m) => seen.push(`iopub:${m.header.msg_type}`),
      onReply: (m) => seen.push(`reply:${m.header.msg_type}`),
    });
    f.handle(busy(req));
    f.handle(iopub(req, "execute_input", { code: "print(1)", execution_count: 1 }));
    f.handle(iopub(req, "stream", { name: "stdout", text: "1\n" }));
    f.handle(reply(req));
    f.handle(idle(req));
    f.handle(iopub(req, "stream", { name: "stdout", text: "late\n" }));
    await f.done;
    expect(seen).toEqual(["iopub:status", "iopub:execute_input", "iopub:stream", "reply:execute_reply", "iopub:status"]);
  });

  it("hands input requests to onStdin", async () => {
    const req = executeRequest("input()");
    const prompts: JupyterMessage[] = [];
    const f = new KernelFuture(req, { onStdin: (m) => prompts.push(m) });
    const prompt = makeMessage("input_request", { prompt: "? ", password: false }, { parent: req, channel: "stdin" });
    f.handle(prompt);
    expect(prompts).toEqual([prompt]);
    expect(await settled(f.done)).toBe(false);
  });

  it("takes a control reply as the reply and, told no idle comes, is done on it alone", async () => {
    const req = makeMessage("cellar_warmup_request", { code: "" }, { channel: "control" });
    const f = new KernelFuture(req, { awaitIdle: false });
    const r = reply(req, { status: "ok" });
    f.handle(r);
    expect(await f.done).toBe(r);
  });

  it("follows a message without a reply (a comm message) to its idle status, resolving with null", async () => {
    const msg = makeMessage("comm_msg", { comm_id: "c1", data: { x: 1 } });
    const seen: string[] = [];
    const f = new KernelFuture<null>(msg, { expectReply: false, onIOPub: (m) => seen.push(m.header.msg_type) });
    expect(await f.replied).toBeNull();
    f.handle(busy(msg));
    f.handle(iopub(msg, "comm_msg", { comm_id: "c1", data: { echo: 1 } }));
    expect(await settled(f.done)).toBe(false);
    f.handle(idle(msg));
    expect(await f.done).toBeNull();
    expect(seen).toEqual(["status", "comm_msg", "status"]);
  });

  it("times out a message without a reply when its idle status never comes", async () => {
    vi.useFakeTimers();
    const f = new KernelFuture<null>(makeMessage("comm_open", { comm_id: "c1", target_name: "t", data: {} }), {
      expectReply: false,
      timeoutMs: 100,
    });
    vi.advanceTimersByTime(100);
    await expect(f.done).rejects.toMatchObject({ kind: "timeout", message: "no idle status after the comm_open within 100 ms" });
  });

  it("tells replies, prompts and outputs apart by type when a relay mislabels the channel", async () => {
    const req = makeMessage("complete_request", { code: "x", cursor_pos: 1 });
    const prompts: JupyterMessage[] = [];
    const f = new KernelFuture(req, { onStdin: (m) => prompts.push(m) });
    f.handle(makeMessage("input_request", { prompt: "" }, { parent: req, channel: "iopub" }));
    f.handle(makeMessage("complete_reply", { status: "ok", matches: [] }, { parent: req, channel: "iopub" }));
    f.handle(idle(req));
    expect(prompts).toHaveLength(1);
    await expect(f.done).resolves.toMatchObject({ header: { msg_type: "complete_reply" } });
  });

  it("fails with a timeout when not done in time", async () => {
    vi.useFakeTimers();
    const req = executeRequest("while True: pass");
    const f = new KernelFuture(req, { timeoutMs: 500 });
    await vi.advanceTimersByTimeAsync(500);
    await expect(f.done).rejects.toMatchObject({ kind: "timeout", message: "no execute_reply within 500 ms" });
    await expect(f.replied).rejects.toBeInstanceOf(KernelFutureError);
  });

  it("keeps the reply it has when it fails later, and a timer does not fire once it is done", async () => {
    vi.useFakeTimers();
    const req = executeRequest("1");
    const f = new KernelFuture(req, { timeoutMs: 1_000 });
    f.handle(reply(req));
    f.fail("kernel-lost", "the kernel died");
    await expect(f.replied).resolves.toMatchObject({ header: { msg_type: "execute_reply" } });
    await expect(f.done).rejects.toMatchObject({ kind: "kernel-lost", message: "the kernel died" });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ends with the error a callback throws", async () => {
    const req = executeRequest("1");
    const f = new KernelFuture(req, {
      onIOPub: () => {
        throw new Error("bad output");
      },
    });
    f.handle(busy(req));
    await expect(f.done).rejects.toThrow("bad output");
  });

  it("once disposed, rejects as cancelled and calls back no more", async () => {
    const req = executeRequest("1");
    const onIOPub = vi.fn();
    const f = new KernelFuture(req, { onIOPub });
    f.dispose();
    f.handle(busy(req));
    f.handle(reply(req));
    f.handle(idle(req));
    expect(onIOPub).not.toHaveBeenCalled();
    await expect(f.done).rejects.toMatchObject({ kind: "disposed" });
  });

  it("does not make an unhandled rejection when nobody awaits it", async () => {
    const unhandled = vi.fn();
    process.on("unhandledRejection", unhandled);
    try {
      new KernelFuture(executeRequest("1")).dispose();
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });
});

describe("KernelFutures", () => {
  it("sends the request and routes each message to the future of its parent, leaving others alone", async () => {
    const sent: JupyterMessage[] = [];
    const futures = new KernelFutures((m) => void sent.push(m));
    const a = futures.request(executeRequest("a"));
    const b = futures.request(executeRequest("b"));
    expect(sent.map((m) => m.content.code)).toEqual(["a", "b"]);
    const outputs: string[] = [];
    a.onIOPub = (m) => m.header.msg_type === "stream" && outputs.push(`a:${m.content.text}`);
    b.onIOPub = (m) => m.header.msg_type === "stream" && outputs.push(`b:${m.content.text}`);

    expect(futures.route(iopub(b.request, "stream", { name: "stdout", text: "1" }))).toBe(b);
    expect(futures.route(iopub(a.request, "stream", { name: "stdout", text: "2" }))).toBe(a);
    const stranger = executeRequest("from another tab");
    expect(futures.route(iopub(stranger, "stream", { name: "stdout", text: "3" }))).toBeUndefined();
    expect(futures.route(makeMessage("status", { execution_state: "idle" }, { channel: "iopub" }))).toBeUndefined();
    expect(outputs).toEqual(["b:1", "a:2"]);

    futures.route(reply(a.request));
    futures.route(idle(a.request));
    await a.done;
    expect(futures.size).toBe(1);
    expect(futures.route(iopub(a.request, "stream", { name: "stdout", text: "late" }))).toBeUndefined();
  });

  it("fails a request the transport refuses, keeping a KernelFutureError's kind", async () => {
    const refusing = new KernelFutures(async () => {
      throw new KernelFutureError("unanswered", "the gateway did not answer");
    });
    await expect(refusing.request(executeRequest("1")).done).rejects.toMatchObject({ kind: "unanswered" });
    const throwing = new KernelFutures(() => {
      throw new Error("pipe closed");
    });
    const f = throwing.request(executeRequest("1"));
    await expect(f.done).rejects.toMatchObject({ kind: "refused", message: "pipe closed" });
    expect(throwing.size).toBe(0);
  });

  it("fails every open request at once when the kernel is lost", async () => {
    const futures = new KernelFutures(() => {});
    const a = futures.request(executeRequest("a"));
    const b = futures.request(executeRequest("b"));
    futures.failAll("kernel-lost", "The kernel restarted");
    await expect(a.done).rejects.toMatchObject({ kind: "kernel-lost" });
    await expect(b.done).rejects.toMatchObject({ kind: "kernel-lost" });
    expect(futures.size).toBe(0);
  });

  it("forgets a future that timed out", async () => {
    vi.useFakeTimers();
    const futures = new KernelFutures(() => {});
    futures.request(executeRequest("a"), { timeoutMs: 10 });
    await vi.advanceTimersByTimeAsync(10);
    expect(futures.size).toBe(0);
  });
});

describe("parentIdOf", () => {
  it("is the parent's msg_id, or undefined for a message no request caused", () => {
    const req = executeRequest("1");
    expect(parentIdOf(idle(req))).toBe(req.header.msg_id);
    expect(parentIdOf(makeMessage("status", { execution_state: "idle" }))).toBeUndefined();
  });
});

describe("futuresFor", () => {
  it("gives an emitter-like link one registry, fed by its messages and failed when it exits", async () => {
    const link = Object.assign(new EventEmitter(), {
      sent: [] as JupyterMessage[],
      send(m: JupyterMessage) {
        this.sent.push(m);
      },
    });
    expect(futuresFor(link)).toBe(futuresFor(link));
    const call = futuresFor(link).request(makeMessage("cellar_warmup_request", { code: "" }, { channel: "control" }), { awaitIdle: false });
    link.emit("message", reply(link.sent[0]!, { status: "ok" }));
    await expect(call.done).resolves.toMatchObject({ content: { status: "ok" } });
    const run = futuresFor(link).request(executeRequest("1"));
    link.emit("exit", { reason: "The kernel was killed" });
    await expect(run.done).rejects.toMatchObject({ kind: "kernel-lost", message: "The kernel was killed" });
  });
});
