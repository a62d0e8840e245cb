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
    expect(validateJupyterMessage(makeMessage("comm_open", { comm_id: "c", target_name: "t", data: {} }, { channel: "iopub" })).ok).toBe(
      true,
    );
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
