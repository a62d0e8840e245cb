import { describe, expect, it } from "vitest";
import { executeRequest, makeMessage } from "./jupyter";
import { validateBrowserMessage, validateClearOutputs, validateNotebookUpdate } from "./validate";

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
    const r = validateNotebookUpdate({ cells: [{ id: "a", cell_type: "raw-ish", source: "" }] });
    expect(r.ok).toBe(false);
  });

  it("accepts a clear-outputs request and refuses one without cells or with a bad id", () => {
    expect(validateClearOutputs({ notebookId: "nb1", cellIds: ["a", "b"] }).ok).toBe(true);
    expect(validateClearOutputs({ notebookId: "nb1", cellIds: [] }).ok).toBe(false);
    const r = validateClearOutputs({ notebookId: "../x", cellIds: ["a"] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/notebookId/);
  });
});
