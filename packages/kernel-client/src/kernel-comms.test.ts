// The comm registry of one kernel link, against a stand-in kernel: what goes on the wire for
// open/send/close, and how the kernel's comm_open/comm_msg/comm_close reach targets and comms.
import { describe, expect, it, vi } from "vitest";
import { makeMessage, type JupyterMessage } from "@cellar/protocol";
import { CommClosedError, decodeBuffers, encodeBuffer, type KernelComm } from "./kernel-comm";
import { CommExistsError, KernelComms } from "./kernel-comms";
import { KernelFutures } from "./kernel-futures";

function link() {
  const sent: JupyterMessage[] = [];
  const futures = new KernelFutures((msg) => void sent.push(msg));
  const comms = new KernelComms("session-1", (msg) => futures.request<null>(msg, { expectReply: false }));
  /** A message the kernel publishes, parented to `parent` when given. */
  const fromKernel = (type: string, content: Record<string, unknown>, parent?: JupyterMessage, buffers?: string[]) => {
    const msg = makeMessage(type, content, { channel: "iopub", parent });
    if (buffers) msg.buffers = buffers;
    futures.route(msg);
    return comms.handle(msg);
  };
  return { sent, futures, comms, fromKernel };
}

describe("KernelComms", () => {
  it("opens a comm to a kernel target, sends on it and closes it: shell messages with no reply, done at idle", async () => {
    const t = link();
    const comm = t.comms.createComm("echo");
    expect(t.comms.hasComm(comm.commId)).toBe(true);
    const opened = comm.open({ hello: 1 }, { version: "2" });
    expect(t.sent[0]).toMatchObject({
      channel: "shell",
      header: { msg_type: "comm_open", session: "session-1" },
      content: { comm_id: comm.commId, target_name: "echo", data: { hello: 1 } },
      metadata: { version: "2" },
    });
    t.fromKernel("status", { execution_state: "idle" }, t.sent[0]);
    expect(await opened.done).toBeNull();

    const echoes: unknown[] = [];
    comm.onMsg = (msg) => void echoes.push(msg.content.data);
    const sent = comm.send({ value: 3 }, {}, [new Uint8Array([0, 1, 255]), new Uint8Array([9, 9, 9, 7]).subarray(1, 3).buffer]);
    expect(t.sent[1]).toMatchObject({ header: { msg_type: "comm_msg" }, content: { comm_id: comm.commId, data: { value: 3 } } });
    expect(t.sent[1]!.buffers).toEqual(["AAH/", "CQkJBw=="]);
    // The kernel's answer, parented to the message: the send's future and the comm both hear it.
    const heard: string[] = [];
    sent.onIOPub = (m) => void heard.push(m.header.msg_type);
    expect(t.fromKernel("comm_msg", { comm_id: comm.commId, data: { echo: 3 } }, t.sent[1])).toBe(true);
    t.fromKernel("status", { execution_state: "idle" }, t.sent[1]);
    await sent.done;
    await t.comms.settled();
    expect(heard).toEqual(["comm_msg", "status"]);
    expect(echoes).toEqual([{ echo: 3 }]);

    const closes: unknown[] = [];
    comm.onClose = (msg) => void closes.push(msg.content);
    comm.close({ bye: true });
    expect(t.sent[2]).toMatchObject({ header: { msg_type: "comm_close" }, content: { comm_id: comm.commId, data: { bye: true } } });
    expect(closes).toEqual([{ comm_id: comm.commId, data: { bye: true } }]);
    expect(comm.isDisposed).toBe(true);
    expect(t.comms.hasComm(comm.commId)).toBe(false);
    expect(() => comm.send({})).toThrow(CommClosedError);
  });

  it("hands a comm the kernel opens to the target registered for it, then its messages in order, then its close", async () => {
    const t = link();
    const log: string[] = [];
    let comm: KernelComm | undefined;
    t.comms.registerCommTarget("cellar.test", async (c, msg) => {
      comm = c;
      log.push(`open ${JSON.stringify(msg.content.data)}`);
      // An async target (a widget manager building its model) holds back what follows.
      await new Promise((r) => setTimeout(r, 20));
      c.onMsg = async (m) => {
        await new Promise((r) => setTimeout(r, 5));
        log.push(`msg ${JSON.stringify(m.content.data)} ${decodeBuffers(m).map((b) => b.getUint8(0))}`);
      };
      c.onClose = (m) => void log.push(`close ${JSON.stringify(m.content.data)}`);
    });
    t.fromKernel("comm_open", { comm_id: "k1", target_name: "cellar.test", data: { a: 1 } });
    t.fromKernel("comm_msg", { comm_id: "k1", data: { n: 1 } }, undefined, ["Bw=="]);
    t.fromKernel("comm_msg", { comm_id: "k1", data: { n: 2 } });
    t.fromKernel("comm_close", { comm_id: "k1", data: { done: true } });
    await t.comms.settled();
    expect(log).toEqual(['open {"a":1}', 'msg {"n":1} 7', 'msg {"n":2} ', 'close {"done":true}']);
    expect(comm?.commId).toBe("k1");
    expect(comm?.targetName).toBe("cellar.test");
    expect(comm?.isDisposed).toBe(true);
    expect(t.comms.hasComm("k1")).toBe(false);
    // It never answered the kernel: a comm the kernel closes is not closed back.
    expect(t.sent).toEqual([]);
  });

  it("ignores a comm_open for a target it does not have, and never closes the kernel's comm (another page may serve it)", async () => {
    const t = link();
    t.fromKernel("comm_open", { comm_id: "k1", target_name: "jupyter.widget", data: {} });
    t.fromKernel("comm_msg", { comm_id: "k1", data: {} });
    await t.comms.settled();
    expect(t.comms.hasComm("k1")).toBe(false);
    expect(t.sent).toEqual([]);
    expect(t.fromKernel("stream", { name: "stdout", text: "x" })).toBe(false);
  });

  it("keeps going past a callback that throws, dropping the comm of a target that failed", async () => {
    const t = link();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    t.comms.registerCommTarget("broken", () => {
      throw new Error("no model");
    });
    const got: unknown[] = [];
    t.comms.registerCommTarget("fine", (c) => {
      c.onMsg = (m) => {
        got.push(m.content.data);
        if (got.length === 1) throw new Error("bad update");
      };
    });
    t.fromKernel("comm_open", { comm_id: "b", target_name: "broken", data: {} });
    t.fromKernel("comm_open", { comm_id: "f", target_name: "fine", data: {} });
    t.fromKernel("comm_msg", { comm_id: "f", data: { n: 1 } });
    t.fromKernel("comm_msg", { comm_id: "f", data: { n: 2 } });
    await t.comms.settled();
    expect(t.comms.hasComm("b")).toBe(false);
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual(["comm target broken failed:", "comm f (fine): onMsg failed:"]);
    errors.mockRestore();
  });

  it("refuses a second comm of one id, replaces and removes targets, and disposes every comm without closing them", async () => {
    const t = link();
    const a = t.comms.createComm("echo", "same");
    expect(() => t.comms.createComm("echo", "same")).toThrow(CommExistsError);
    const first = vi.fn();
    const second = vi.fn();
    t.comms.registerCommTarget("t", first);
    t.comms.registerCommTarget("t", second);
    t.comms.removeCommTarget("t", first); // not the one registered: stays
    t.fromKernel("comm_open", { comm_id: "k1", target_name: "t", data: {} });
    await t.comms.settled();
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledOnce();
    t.comms.removeCommTarget("t", second);
    t.fromKernel("comm_open", { comm_id: "k2", target_name: "t", data: {} });
    await t.comms.settled();
    expect(second).toHaveBeenCalledOnce();

    const closed = vi.fn();
    a.onClose = closed;
    t.comms.disposeAll();
    expect(a.isDisposed).toBe(true);
    expect(t.comms.size).toBe(0);
    expect(closed).not.toHaveBeenCalled();
    expect(t.sent).toEqual([]);
    // Its id is free again.
    expect(t.comms.createComm("echo", "same").isDisposed).toBe(false);
  });

  it("carries binary buffers as base64 both ways", () => {
    const bytes = new Uint8Array(70_000).map((_, i) => i % 251);
    const [back] = decodeBuffers({ ...makeMessage("comm_msg", { comm_id: "c", data: {} }), buffers: [encodeBuffer(bytes)] });
    expect(new Uint8Array(back!.buffer)).toEqual(bytes);
    expect(encodeBuffer(new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2))).toBe(encodeBuffer(new Uint8Array([2, 3])));
  });
});
