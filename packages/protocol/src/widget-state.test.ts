import { describe, expect, it } from "vitest";
import { makeMessage } from "./jupyter";
import { WIDGET_STATE_MIME, WidgetStateTracker, widgetsMetadata } from "./widget-state";

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
