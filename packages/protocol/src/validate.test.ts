import { describe, expect, it } from "vitest";
import { executeRequest, makeMessage } from "./jupyter";
import { notebookUpdateBodySchema } from "./http/notebooks";
import { check, validateBrowserMessage, validateClearOutputs, validateJupyterMessage } from "./validate";

describe("validators", () => {
  it("accepts an execute_request built by the protocol helpers", () => {
    expect(validateBrowserMessage(executeRequest("1+1", { cellId: "c1" })).ok).toBe(true);
  });

  it("refuses messages a browser must not send, with the reason", () => {
    const r = validateBrowserMessage(makeMessage("stream", { name: "stdout", text: "forged" }, { channel: "iopub" }));
    expect(r).toEqual({ ok: false, error: "msg_type stream may not be sent by a browser" });
  });

  it("names the bad field of a malformed message", () => {
    const r = validateBrowserMessage({ header: { msg_type: "execute_request" }, content: {} });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/header\.msg_id/);
  });

  it("refuses a notebook update with an unknown cell type", () => {
    const r = check(notebookUpdateBodySchema, { cells: [{ id: "a", cell_type: "raw-ish", source: "" }] });
    expect(r.ok).toBe(false);
  });

  it("accepts a clear-outputs request and refuses one without cells or with a bad id", () => {
    expect(validateClearOutputs({ notebookId: "nb1", cellIds: ["a", "b"] }).ok).toBe(true);
    expect(validateClearOutputs({ notebookId: "nb1", cellIds: [] }).ok).toBe(false);
    const r = validateClearOutputs({ notebookId: "../x", cellIds: ["a"] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/notebookId/);
  });

  it("checks the content of the message types it knows, and keeps the fields it does not read", () => {
    const good = validateJupyterMessage(makeMessage("stream", { name: "stdout", text: "hi", extra: 1 }, { channel: "iopub" }));
    expect(good.ok && good.value.content).toEqual({ name: "stdout", text: "hi", extra: 1 });
    const bad = validateJupyterMessage({
      ...makeMessage("stream", { name: "stdout", text: "hi" }, { channel: "iopub" }),
      content: { name: "stdout", text: 3 },
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/^content\.text: .*\(in a stream\)$/);
  });

  it("accepts a reply with status error in place of its normal fields, as the bridge sends for an unhandled request", () => {
    const r = validateJupyterMessage(
      makeMessage("complete_reply", { status: "error", ename: "UnhandledRequest", evalue: "x", traceback: [] }),
    );
    expect(r.ok).toBe(true);
  });

  it("passes messages of types it does not know with any object as content", () => {
    expect(validateJupyterMessage(makeMessage("debug_request", { command: "x", anything: [1] }, { channel: "control" })).ok).toBe(true);
  });

  it("lets a browser send comm messages and checks their content: a comm id, a target to open, a data object", () => {
    const open = makeMessage("comm_open", { comm_id: "c1", target_name: "echo", data: { a: 1 } }, { metadata: { x: 1 } });
    expect(validateBrowserMessage(open).ok).toBe(true);
    expect(validateBrowserMessage(makeMessage("comm_msg", { comm_id: "c1", data: { method: "update", state: {} } })).ok).toBe(true);
    expect(validateBrowserMessage(makeMessage("comm_close", { comm_id: "c1", data: {} })).ok).toBe(true);
    expect(validateBrowserMessage(makeMessage("comm_info_request", { target_name: "jupyter.widget" })).ok).toBe(true);
    expect(validateBrowserMessage(makeMessage("comm_info_request", {})).ok).toBe(true);
    // Binary parts travel beside the JSON, base64.
    expect(validateBrowserMessage({ ...makeMessage("comm_msg", { comm_id: "c1", data: {} }), buffers: ["AAH/"] }).ok).toBe(true);

    const bad = (type: string, content: Record<string, unknown>) => {
      const r = validateBrowserMessage({ ...makeMessage(type, {}), content });
      return r.ok ? "accepted" : r.error;
    };
    expect(bad("comm_open", { comm_id: "c1", data: {} })).toMatch(/^content\.target_name: .*\(in a comm_open\)$/);
    expect(bad("comm_open", { comm_id: "c1", target_name: "", data: {} })).toMatch(/^content\.target_name:/);
    expect(bad("comm_msg", { comm_id: 7, data: {} })).toMatch(/^content\.comm_id:/);
    expect(bad("comm_msg", { comm_id: "c1" })).toMatch(/^content\.data:/);
    expect(bad("comm_msg", { comm_id: "c1", data: "text" })).toMatch(/^content\.data:/);
    expect(bad("comm_close", { data: {} })).toMatch(/^content\.comm_id:/);
    expect(bad("comm_info_request", { target_name: 3 })).toMatch(/^content\.target_name:/);
    expect(validateBrowserMessage({ ...makeMessage("comm_msg", { comm_id: "c1", data: {} }), buffers: [1] }).ok).toBe(false);
  });

  it("takes a kernel's comm messages as ipykernel publishes them", () => {
    const open = makeMessage(
      "comm_open",
      { comm_id: "k1", target_name: "jupyter.widget", data: { state: {}, buffer_paths: [] }, target_module: null },
      { channel: "iopub", metadata: { version: "2.1.0" } },
    );
    expect(validateJupyterMessage(open).ok).toBe(true);
    const reply = makeMessage("comm_info_reply", { status: "ok", comms: { k1: { target_name: "jupyter.widget" } } });
    expect(validateJupyterMessage(reply).ok).toBe(true);
  });

  it("checks the bridge's own messages", () => {
    expect(
      validateJupyterMessage(makeMessage("cellar_restore_request", { hostname: "cellar-x", entropy: "ab12" }, { channel: "control" })).ok,
    ).toBe(true);
    expect(
      validateJupyterMessage({
        ...makeMessage("cellar_restore_request", { hostname: "h", entropy: "" }),
        content: { hostname: "h", entropy: "xyz" },
      }).ok,
    ).toBe(false);
    expect(
      validateJupyterMessage(
        makeMessage(
          "cellar_warmup_reply",
          { status: "error", evalue: "ModuleNotFoundError: No module named 'nope'" },
          { channel: "control" },
        ),
      ).ok,
    ).toBe(true);
  });
});
