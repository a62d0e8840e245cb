import { describe, expect, it } from "vitest";
import { makeMessage } from "./jupyter";
import { OutputCaptures, WIDGET_STATE_MIME, WidgetStateTracker, widgetsMetadata } from "./widget-state";

const MODEL = { _model_name: "IntSliderModel", _model_module: "@jupyter-widgets/controls", _model_module_version: "2.0.0" };
const open = (id: string, state: Record<string, unknown>, target = "jupyter.widget", buffers?: string[], buffer_paths?: unknown[]) => {
  const m = makeMessage("comm_open", { comm_id: id, target_name: target, data: { state, buffer_paths: buffer_paths ?? [] } } as never, {
    channel: "iopub",
  });
  return buffers ? { ...m, buffers } : m;
};
const msg = (id: string, data: Record<string, unknown>, buffers?: string[]) => {
  const m = makeMessage("comm_msg", { comm_id: id, data } as never, { channel: "iopub" });
  return buffers ? { ...m, buffers } : m;
};

describe("a kernel's widget state", () => {
  it("follows opens and updates, and saves the way JupyterLab does", () => {
    const t = new WidgetStateTracker();
    expect(t.apply(open("a", { ...MODEL, value: 3, max: 10 }))).toBe(true);
    expect(t.apply(msg("a", { method: "update", state: { value: 7 }, buffer_paths: [] }))).toBe(true);
    // ipywidgets 8 echoes a page's change to every page: that is state too.
    expect(t.apply(msg("a", { method: "echo_update", state: { max: 20 }, buffer_paths: [] }))).toBe(true);
    expect(t.snapshot()).toEqual({
      version_major: 2,
      version_minor: 0,
      state: {
        a: {
          model_name: "IntSliderModel",
          model_module: "@jupyter-widgets/controls",
          model_module_version: "2.0.0",
          state: { ...MODEL, value: 7, max: 20 },
        },
      },
    });
    expect(Object.keys(widgetsMetadata(t.snapshot()))).toEqual([WIDGET_STATE_MIME]);
  });

  it("ignores other comms, custom messages and unknown models", () => {
    const t = new WidgetStateTracker();
    expect(t.apply(open("x", { ...MODEL }, "echo"))).toBe(false);
    expect(t.apply(msg("x", { method: "update", state: { value: 1 } }))).toBe(false);
    t.apply(open("a", { ...MODEL, value: 1 }));
    expect(t.apply(msg("a", { method: "custom", content: { event: "click" } }))).toBe(false);
    expect(t.apply(msg("a", { method: "request_state" }))).toBe(false);
    expect(t.size).toBe(1);
  });

  it("keeps binary buffers at their paths, replacing one that is sent again", () => {
    const t = new WidgetStateTracker();
    t.apply(open("img", { ...MODEL, _model_name: "ImageModel" }, "jupyter.widget", ["AAEC"], [["value"]]));
    t.apply(msg("img", { method: "update", state: {}, buffer_paths: [["value"]] }, ["AwQF"]));
    expect(t.snapshot().state.img.buffers).toEqual([{ path: ["value"], encoding: "base64", data: "AwQF" }]);
  });

  it("forgets a closed model, and everything when the kernel goes", () => {
    const t = new WidgetStateTracker();
    t.apply(open("a", { ...MODEL }));
    t.apply(open("b", { ...MODEL }));
    expect(t.apply(makeMessage("comm_close", { comm_id: "a", data: {} } as never, { channel: "iopub" }))).toBe(true);
    expect(Object.keys(t.snapshot().state)).toEqual(["b"]);
    expect(t.clear()).toBe(true);
    expect(t.clear()).toBe(false);
  });

  it("loads a saved document, skipping entries that are not models, and the snapshot is a copy", () => {
    const t = new WidgetStateTracker();
    t.load({ state: { a: { model_name: "IntSliderModel", model_module: "m", model_module_version: "1", state: { value: 2 } }, junk: 5 } });
    expect(t.has("a")).toBe(true);
    expect(t.has("junk")).toBe(false);
    const snap = t.snapshot();
    (snap.state.a.state as { value: number }).value = 99;
    expect((t.snapshot().state.a.state as { value: number }).value).toBe(2);
    t.load(null);
    expect(t.size).toBe(0);
  });
});

describe("Output widgets capturing outputs", () => {
  const OUT = { _model_name: "OutputModel", _model_module: "@jupyter-widgets/output", _model_module_version: "1.0.0" };
  const output = (parent: string, type = "stream") => ({
    ...makeMessage(type, { name: "stdout", text: "20\n" } as never, { channel: "iopub" }),
    parent_header: { msg_id: parent },
  });

  it("gives an Output the outputs of the request it captures, and only while it does", () => {
    const c = new OutputCaptures();
    c.follow(open("out", { ...OUT, msg_id: "" }));
    c.follow(open("s", { ...MODEL, value: 1 }));
    expect(c.takerOf(output("run-1"))).toBeNull();
    c.follow(msg("out", { method: "update", state: { msg_id: "run-1" }, buffer_paths: [] }));
    expect(c.takerOf(output("run-1"))).toBe("out");
    expect(c.takerOf(output("run-1", "clear_output"))).toBe("out");
    expect(c.takerOf(output("run-2"))).toBeNull();
    // Not an output: the cell keeps its reply and status.
    expect(c.takerOf(output("run-1", "execute_reply"))).toBeNull();
    // A slider's msg_id-looking state is nothing.
    c.follow(msg("s", { method: "update", state: { msg_id: "run-2" }, buffer_paths: [] }));
    expect(c.takerOf(output("run-2"))).toBeNull();
    // `with out:` ended: interact's return value is the cell's again.
    c.follow(msg("out", { method: "update", state: { msg_id: "" }, buffer_paths: [] }));
    expect(c.takerOf(output("run-1", "execute_result"))).toBeNull();
  });

  it("knows Output models from a saved document, and forgets closed ones", () => {
    const c = new OutputCaptures();
    c.load({
      version_major: 2,
      version_minor: 0,
      state: { out: { model_name: "OutputModel", model_module: "m", model_module_version: "1", state: {} } },
    });
    c.follow(msg("out", { method: "update", state: { msg_id: "run-3" }, buffer_paths: [] }));
    expect(c.takerOf(output("run-3"))).toBe("out");
    c.follow(makeMessage("comm_close", { comm_id: "out", data: {} } as never, { channel: "iopub" }));
    expect(c.takerOf(output("run-3"))).toBeNull();
  });
});
