// The widget hub's relay rules, against a stand-in kernel built on the kernel client's real comm
// registry: which frame messages reach the kernel, how the kernel's widget messages fan out to
// every widget frame, what a new frame is handed, and Output widgets' captured outputs.
import { describe, expect, it } from "vitest";
import { KernelComms, KernelFutures } from "@cellar/kernel-client";
import { makeMessage, WIDGET_STATE_MIME, type JupyterMessage, type NotebookRole } from "@cellar/protocol";
import type { FrameWidgetSendMessage, PageToFrameWidgetMessage } from "@cellar/ui";
import { WidgetHub, type WidgetKernel } from "./widget-hub";

function stand(role: NotebookRole = "runner") {
  const sent: JupyterMessage[] = [];
  const futures = new KernelFutures((msg) => void sent.push(msg));
  const comms = new KernelComms("page", (msg) => futures.request<null>(msg, { expectReply: false }));
  let commInfo: Record<string, { target_name: string }> = {};
  const kernel: WidgetKernel = {
    registerCommTarget: (t, cb) => comms.registerCommTarget(t, cb),
    removeCommTarget: (t, cb) => comms.removeCommTarget(t, cb),
    createComm: (t, id) => comms.createComm(t, id),
    hasComm: (id) => comms.hasComm(id),
    requestCommInfo: async () => makeMessage("comm_info_reply", { status: "ok", comms: commInfo } as never),
  };
  const state = { role };
  const hub = new WidgetHub(() => state.role);
  hub.connect(kernel);
  /** The kernel publishes `type` (comms and the hub's capture both see it, as on the page). */
  const publish = async (type: string, content: Record<string, unknown>, parent?: JupyterMessage, buffers?: string[]) => {
    const msg = makeMessage(type, content as never, { channel: "iopub", parent });
    if (buffers) msg.buffers = buffers;
    futures.route(msg);
    comms.handle(msg);
    const taken = hub.capture(msg);
    await comms.settled();
    return taken;
  };
  const frame = () => {
    const got: PageToFrameWidgetMessage[] = [];
    const link = hub.attach((m) => void got.push(m));
    return { got, link };
  };
  return { hub, sent, publish, frame, state, setCommInfo: (c: typeof commInfo) => (commInfo = c) };
}

const SLIDER = { _model_name: "IntSliderModel", _model_module: "@jupyter-widgets/controls", _model_module_version: "2.0.0", value: 0 };
const HBOX = {
  _model_name: "HBoxModel",
  _model_module: "@jupyter-widgets/controls",
  _model_module_version: "2.0.0",
  children: ["IPY_MODEL_s1"],
};
const OUTPUT = {
  _model_name: "OutputModel",
  _model_module: "@jupyter-widgets/output",
  _model_module_version: "1.0.0",
  msg_id: "",
  outputs: [],
};
const open = (id: string, state: Record<string, unknown>) => ({
  comm_id: id,
  target_name: "jupyter.widget",
  data: { state, buffer_paths: [] },
});
const send = (over: Partial<FrameWidgetSendMessage>): FrameWidgetSendMessage => ({
  type: "cellar-widget:send",
  ref: "r1",
  kind: "comm_msg",
  commId: "s1",
  data: { method: "update", state: { value: 7 }, buffer_paths: [] },
  metadata: {},
  buffers: [],
  ...over,
});
const flush = () => new Promise((r) => setTimeout(r, 0));

describe("WidgetHub", () => {
  it("hands a new frame every model, then fans each kernel widget message out to every frame", async () => {
    const t = stand();
    await t.publish("comm_open", open("s1", SLIDER));
    await t.publish("comm_open", open("b1", HBOX));
    const a = t.frame();
    expect(a.got[0]).toMatchObject({
      type: "cellar-widget:state",
      state: { version_major: 2, state: { s1: { model_name: "IntSliderModel" }, b1: { state: { children: ["IPY_MODEL_s1"] } } } },
    });
    const b = t.frame();
    await t.publish("comm_msg", { comm_id: "s1", data: { method: "update", state: { value: 3 }, buffer_paths: [["x"]] } }, undefined, [
      "AAH/",
    ]);
    for (const f of [a, b]) {
      const last = f.got.at(-1) as Extract<PageToFrameWidgetMessage, { type: "cellar-widget:comm" }>;
      expect(last).toMatchObject({
        type: "cellar-widget:comm",
        msg: { msg_type: "comm_msg", content: { comm_id: "s1", data: { state: { value: 3 } } } },
      });
      expect(Array.from(new Uint8Array(last.msg.buffers[0]!))).toEqual([0, 1, 255]);
    }
    // A third frame starts from the state now.
    const c = t.frame();
    expect(c.got[0]).toMatchObject({ state: { state: { s1: { state: { value: 3 } } } } });
    // A detached frame hears no more; a closed comm leaves the state.
    a.link.detach();
    await t.publish("comm_close", { comm_id: "s1", data: {} });
    expect(a.got.at(-1)).toMatchObject({ msg: { msg_type: "comm_msg" } });
    expect(b.got.at(-1)).toMatchObject({ msg: { msg_type: "comm_close", content: { comm_id: "s1" } } });
    expect(t.frame().got[0]).toMatchObject({ state: { state: { b1: {} } } });
    expect(Object.keys((t.frame().got[0] as { state: { state: object } }).state.state)).toEqual(["b1"]);
  });

  it("sends a frame's update to the kernel, gives that frame its echo under its own ref and its idle", async () => {
    const t = stand();
    await t.publish("comm_open", open("s1", SLIDER));
    const a = t.frame();
    const b = t.frame();
    a.link.receive(send({ ref: "frame-a-1", buffers: [new Uint8Array([5]).buffer] }));
    const wire = t.sent.at(-1)!;
    expect(wire).toMatchObject({
      header: { msg_type: "comm_msg" },
      content: { comm_id: "s1", data: { method: "update", state: { value: 7 } } },
    });
    expect(wire.buffers).toEqual(["BQ=="]);
    await t.publish("comm_msg", { comm_id: "s1", data: { method: "echo_update", state: { value: 7 }, buffer_paths: [] } }, wire);
    expect(a.got.at(-1)).toMatchObject({ msg: { parent: "frame-a-1", content: { data: { method: "echo_update" } } } });
    expect(b.got.at(-1)).toMatchObject({ msg: { parent: wire.header.msg_id } });
    await t.publish("status", { execution_state: "idle" }, wire);
    await flush();
    expect(a.got.at(-1)).toEqual({ type: "cellar-widget:idle", ref: "frame-a-1" });
    expect(b.got.filter((m) => m.type === "cellar-widget:idle")).toEqual([]);
  });

  it("refuses what is not a widget's comm message, or comes from a viewer, and releases the frame's model at once", async () => {
    const t = stand();
    await t.publish("comm_open", open("s1", SLIDER));
    await t.publish("comm_open", { comm_id: "other", target_name: "my.target", data: {} });
    const a = t.frame();
    const before = t.sent.length;
    a.link.receive(send({ ref: "x1", commId: "other" })); // a comm of another target
    a.link.receive(send({ ref: "x2", commId: "nobody" })); // no such comm
    a.link.receive(send({ ref: "x3", kind: "comm_open", commId: "new", targetName: "evil.target" }));
    a.link.receive(send({ ref: "x4", kind: "comm_open", commId: "s1", targetName: "jupyter.widget" })); // exists
    t.state.role = "viewer";
    a.link.receive(send({ ref: "x5" }));
    expect(t.sent.length).toBe(before);
    expect(a.got.filter((m) => m.type === "cellar-widget:idle").map((m) => (m as { ref: string }).ref)).toEqual([
      "x1",
      "x2",
      "x3",
      "x4",
      "x5",
    ]);
    // A detached frame's sends go nowhere.
    t.state.role = "runner";
    a.link.detach();
    a.link.receive(send({ ref: "x6" }));
    expect(t.sent.length).toBe(before);
    // A runner's comm_close of a widget goes.
    const b = t.frame();
    b.link.receive(send({ ref: "y1", kind: "comm_close", data: {} }));
    expect(t.sent.at(-1)).toMatchObject({ header: { msg_type: "comm_close" }, content: { comm_id: "s1" } });
  });

  it("starts from the notebook's saved state, sends on a saved model's comm, reads states back and forgets all on restart", async () => {
    const t = stand();
    t.hub.load({
      [WIDGET_STATE_MIME]: {
        version_major: 2,
        version_minor: 0,
        state: {
          s1: {
            model_name: "IntSliderModel",
            model_module: "@jupyter-widgets/controls",
            model_module_version: "2.0.0",
            state: { value: 4 },
          },
        },
      },
    });
    expect(t.hub.hasModels).toBe(true);
    const a = t.frame();
    expect(a.got[0]).toMatchObject({ state: { state: { s1: { state: { value: 4 } } } } });
    a.link.receive(send({ ref: "z1" }));
    expect(t.sent.at(-1)).toMatchObject({ header: { msg_type: "comm_msg" }, content: { comm_id: "s1" } });

    // A live kernel: comm_info names the model; the control comm's update_states refreshes it.
    t.setCommInfo({ s1: { target_name: "jupyter.widget" } });
    // (A viewer's page does not ask.)
    t.state.role = "viewer";
    const sentBefore = t.sent.length;
    await t.hub.refresh();
    expect(t.sent.length).toBe(sentBefore);
    t.state.role = "runner";
    const refreshed = t.hub.refresh();
    await flush();
    const controlOpen = t.sent.at(-1)!;
    expect(controlOpen).toMatchObject({ header: { msg_type: "comm_open" }, content: { target_name: "jupyter.widget.control" } });
    await t.publish("status", { execution_state: "idle" }, controlOpen);
    await flush();
    const request = t.sent.at(-1)!;
    expect(request).toMatchObject({ content: { data: { method: "request_states" } } });
    const controlId = (request.content as { comm_id: string }).comm_id;
    await t.publish(
      "comm_msg",
      {
        comm_id: controlId,
        data: {
          method: "update_states",
          states: {
            s1: {
              model_name: "IntSliderModel",
              model_module: "@jupyter-widgets/controls",
              model_module_version: "2.0.0",
              state: { value: 9 },
            },
          },
          buffer_paths: [],
        },
      },
      request,
    );
    await t.publish("status", { execution_state: "idle" }, request);
    await refreshed;
    expect(a.got.at(-1)).toMatchObject({
      msg: { msg_type: "comm_msg", content: { comm_id: "s1", data: { method: "update", state: { value: 9 } } } },
    });
    expect(t.frame().got[0]).toMatchObject({ state: { state: { s1: { state: { value: 9 } } } } });

    t.hub.kernelStatus("restarting");
    expect(t.hub.hasModels).toBe(false);
    expect(t.frame().got[0]).toMatchObject({ state: { state: {} } });
  });

  it("fills an Output widget from the outputs its msg_id captures, instead of the cell", async () => {
    const t = stand();
    await t.publish("comm_open", open("o1", OUTPUT));
    const a = t.frame();
    const run = makeMessage("execute_request", { code: "" } as never);
    // Not captured: goes to its cell.
    expect(await t.publish("stream", { name: "stdout", text: "cell\n" }, run)).toBe(false);
    await t.publish("comm_msg", { comm_id: "o1", data: { method: "update", state: { msg_id: run.header.msg_id }, buffer_paths: [] } });
    expect(await t.publish("stream", { name: "stdout", text: "0\n" }, run)).toBe(true);
    expect(a.got.at(-1)).toMatchObject({
      msg: { content: { comm_id: "o1", data: { state: { outputs: [{ output_type: "stream", text: "0\n" }] } } } },
    });
    expect(t.sent.at(-1)).toMatchObject({ content: { comm_id: "o1", data: { method: "update", state: { outputs: [{ text: "0\n" }] } } } });
    // interact: clear_output(wait=True), then the new value replaces the old.
    expect(await t.publish("clear_output", { wait: true }, run)).toBe(true);
    await t.publish("stream", { name: "stdout", text: "14\n" }, run);
    expect(a.got.at(-1)).toMatchObject({ msg: { content: { data: { state: { outputs: [{ output_type: "stream", text: "14\n" }] } } } } });
    // The capture ends: the next output is the cell's again.
    await t.publish("comm_msg", { comm_id: "o1", data: { method: "update", state: { msg_id: "" }, buffer_paths: [] } });
    expect(await t.publish("stream", { name: "stdout", text: "after\n" }, run)).toBe(false);
    expect(t.frame().got[0]).toMatchObject({ state: { state: { o1: { state: { outputs: [{ text: "14\n" }] } } } } });
  });
});
