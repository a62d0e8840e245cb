import { makeMessage, WIDGET_STATE_MIME, type WidgetStateDocument } from "@cellar/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WidgetStateRecorder } from "./widget-state-recorder";

const open = (id: string, state: Record<string, unknown>, target = "jupyter.widget") =>
  makeMessage(
    "comm_open",
    { comm_id: id, target_name: target, data: { state: { _model_name: "IntSliderModel", ...state }, buffer_paths: [] } },
    { channel: "iopub" },
  );
const update = (id: string, state: Record<string, unknown>, method = "update") =>
  makeMessage("comm_msg", { comm_id: id, data: { method, state, buffer_paths: [] } }, { channel: "iopub" });

function sink() {
  const writes: Array<{ notebookId: string; doc: WidgetStateDocument | null }> = [];
  return {
    writes,
    saveWidgetState: async (notebookId: string, doc: WidgetStateDocument | null) => (writes.push({ notebookId, doc }), true),
  };
}
const savedValue = (doc: WidgetStateDocument | null | undefined, id: string) => doc?.state[id]?.state.value;

afterEach(() => vi.useRealTimers());

describe("WidgetStateRecorder", () => {
  it("writes a dragged slider's last state once per debounce, not once per update", async () => {
    vi.useFakeTimers();
    const s = sink();
    const r = new WidgetStateRecorder("nb1", s, 1_000);
    r.record(open("m1", { value: 3 }));
    for (let v = 4; v <= 60; v++) r.record(update("m1", { value: v }, v % 2 ? "echo_update" : "update"));
    expect(s.writes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(s.writes).toHaveLength(1);
    expect(s.writes[0]!.notebookId).toBe("nb1");
    expect(savedValue(s.writes[0]!.doc, "m1")).toBe(60);
    expect(s.writes[0]!.doc).toMatchObject({ version_major: 2, version_minor: 0, state: { m1: { model_name: "IntSliderModel" } } });
    // Nothing changed since: no write.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(s.writes).toHaveLength(1);
  });

  it("ignores comms that are not widgets, custom messages and other messages", async () => {
    vi.useFakeTimers();
    const s = sink();
    const r = new WidgetStateRecorder("nb1", s, 100);
    r.record(open("e1", { value: 1 }, "echo"));
    r.record(update("e1", { value: 2 }));
    r.record(makeMessage("stream", { name: "stdout", text: "hi" }, { channel: "iopub" }));
    r.record(open("m1", { value: 1 }));
    await r.flush();
    const written = s.writes.length;
    r.record(makeMessage("comm_msg", { comm_id: "m1", data: { method: "custom", content: {} } }, { channel: "iopub" }));
    await vi.advanceTimersByTimeAsync(500);
    expect(s.writes).toHaveLength(written);
    expect(Object.keys(s.writes.at(-1)!.doc!.state)).toEqual(["m1"]);
    expect(WIDGET_STATE_MIME).toBe("application/vnd.jupyter.widget-state+json");
  });

  it("flush writes what is pending at once, and a closed model leaves the saved state", async () => {
    const s = sink();
    const r = new WidgetStateRecorder("nb1", s, 60_000);
    r.record(open("m1", { value: 1 }));
    r.record(open("m2", { value: 2 }));
    await r.flush();
    expect(Object.keys(s.writes.at(-1)!.doc!.state).sort()).toEqual(["m1", "m2"]);
    r.record(makeMessage("comm_close", { comm_id: "m1", data: {} }, { channel: "iopub" }));
    await r.flush();
    expect(Object.keys(s.writes.at(-1)!.doc!.state)).toEqual(["m2"]);
    expect(r.size).toBe(1);
    await r.flush(); // nothing pending: no write
    expect(s.writes).toHaveLength(2);
  });

  it("writes in order even when the database answers out of order, and survives a failed write", async () => {
    const landed: number[] = [];
    let calls = 0;
    const slowFirst = {
      saveWidgetState: async (_nb: string, doc: WidgetStateDocument | null) => {
        const n = ++calls;
        if (n === 1) await new Promise((r) => setTimeout(r, 30));
        if (n === 2) throw new Error("database is locked");
        landed.push(savedValue(doc, "m1") as number);
        return true;
      },
    };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const r = new WidgetStateRecorder("nb1", slowFirst, 60_000);
    r.record(open("m1", { value: 1 }));
    void r.flush();
    r.record(update("m1", { value: 2 }));
    void r.flush();
    r.record(update("m1", { value: 3 }));
    await r.flush();
    expect(landed).toEqual([1, 3]);
    expect(errors).toHaveBeenCalledWith(expect.stringMatching(/widget state of notebook nb1/), expect.any(Error));
    errors.mockRestore();
  });

  it("a resumed kernel goes on from the saved state: updates to its models count, and a new model keeps them", async () => {
    const s = sink();
    let answer!: (doc: unknown) => void;
    const saved = {
      version_major: 2,
      version_minor: 0,
      state: {
        m1: {
          model_name: "IntSliderModel",
          model_module: "@jupyter-widgets/controls",
          model_module_version: "2.0.0",
          state: { value: 3, max: 10 },
        },
      },
    };
    const r = new WidgetStateRecorder("nb1", { ...s, widgetState: () => new Promise((resolve) => (answer = resolve)) }, 60_000);
    const resumed = r.resume();
    // The kernel speaks before the saved state is read: its update waits, then applies on top.
    r.record(update("m1", { value: 5 }));
    answer(saved);
    await resumed;
    r.record(open("m2", { value: 1 }));
    await r.flush();
    const doc = s.writes.at(-1)!.doc!;
    expect(doc.state.m1!.state).toEqual({ value: 5, max: 10 });
    expect(savedValue(doc, "m2")).toBe(1);
  });

  it("a saved state that cannot be read is logged, and the kernel is followed from there on", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const s = sink();
    const r = new WidgetStateRecorder("nb1", { ...s, widgetState: async () => Promise.reject(new Error("no database")) }, 60_000);
    await r.resume();
    r.record(open("m1", { value: 1 }));
    await r.flush();
    expect(Object.keys(s.writes.at(-1)!.doc!.state)).toEqual(["m1"]);
    expect(errors).toHaveBeenCalledWith(expect.stringMatching(/reading the widget state of notebook nb1/), expect.any(Error));
    errors.mockRestore();
  });

  it("without a sink that saves (test doubles) it only follows", async () => {
    const r = new WidgetStateRecorder("nb1", {}, 0);
    r.record(open("m1", { value: 1 }));
    await r.flush();
    expect(r.size).toBe(1);
  });
});
