import { describe, expect, it } from "vitest";
import { makeMessage, type Notebook } from "@cellar/protocol";
import { createNotebookStore } from "./notebook-store";

function notebook(): Notebook {
  return {
    id: "nb1",
    userId: "u",
    title: "Analysis",
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
    lastRunAt: null,
    cells: [
      {
        id: "a",
        cell_type: "code",
        source: "print(1)",
        outputs: [{ output_type: "stream", name: "stdout", text: "1\n" }],
        execution_count: 1,
        metadata: {},
      },
      { id: "b", cell_type: "markdown", source: "# Hi", outputs: [], execution_count: null, metadata: {} },
    ],
  };
}

describe("notebook store", () => {
  it("starts from the gateway's notebook, outputs and counts included", () => {
    const s = createNotebookStore(notebook()).getState();
    expect(s.cells.map((c) => c.id)).toEqual(["a", "b"]);
    expect(s.outputs.a.outputs).toHaveLength(1);
    expect(s.outputs.a.executionCount).toBe(1);
    expect(s.save.state).toBe("saved");
  });

  it("counts every document edit for autosave, in the order they leave the cells", () => {
    const store = createNotebookStore(notebook());
    store.getState().setTitle("Renamed");
    store.getState().setSource("a", "print(2)");
    const id = store.getState().addCell("code", { after: "a" });
    store.getState().moveCell("b", -1);
    expect(store.getState().docVersion).toBe(4);
    const s = store.getState();
    expect(s.title).toBe("Renamed");
    expect(s.cells.map((c) => c.id)).toEqual(["a", "b", id]);
    expect(s.cells[0]).toEqual({ id: "a", cell_type: "code", source: "print(2)", metadata: {} });
  });

  it("adds cells where asked and focuses them; a new markdown cell opens for editing", () => {
    const store = createNotebookStore(notebook());
    const top = store.getState().addCell("code", "start");
    const md = store.getState().addCell("markdown", { after: "a" });
    const s = store.getState();
    expect(s.cells.map((c) => c.id)).toEqual([top, "a", md, "b"]);
    expect(s.activeCellId).toBe(md);
    expect(s.focusRequest?.cellId).toBe(md);
    expect(s.editingMarkdown[md]).toBe(true);
  });

  it("deleting the active cell selects its neighbour", () => {
    const store = createNotebookStore(notebook());
    store.getState().setActiveCell("a");
    store.getState().deleteCell("a");
    expect(store.getState().cells.map((c) => c.id)).toEqual(["b"]);
    expect(store.getState().activeCellId).toBe("b");
  });

  it("a re-run clears old outputs and kernel messages fill them in", () => {
    const store = createNotebookStore(notebook());
    store.getState().startRun("a", "m1");
    expect(store.getState().outputs.a.outputs).toEqual([]);
    expect(store.getState().running.a).toBe("m1");
    store.getState().applyKernelMessages([
      { cellId: "a", message: makeMessage("execute_input", { code: "", execution_count: 2 }, { channel: "iopub" }) },
      { cellId: "a", message: makeMessage("stream", { name: "stdout", text: "he" }, { channel: "iopub" }) },
      { cellId: "a", message: makeMessage("stream", { name: "stdout", text: "llo\n" }, { channel: "iopub" }) },
    ]);
    expect(store.getState().outputs.a.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "hello\n" }]);
    expect(store.getState().outputs.a.executionCount).toBe(2);
    store.getState().finishRun("a", "older-request");
    expect(store.getState().running.a).toBe("m1");
    store.getState().finishRun("a", "m1");
    expect(store.getState().running.a).toBeUndefined();
  });

  it("undo of a deletion brings back the cells' outputs too", () => {
    const store = createNotebookStore(notebook());
    store.getState().deleteCells(["a"]);
    expect(store.getState().cells.map((c) => c.id)).toEqual(["b"]);
    store.getState().undoDelete();
    expect(store.getState().cells.map((c) => c.id)).toEqual(["a", "b"]);
    expect(store.getState().outputs.a.outputs).toHaveLength(1);
    expect(store.getState().deleted).toHaveLength(0);
  });

  it("clearing outputs drops the count and the timing that described it", () => {
    const store = createNotebookStore(notebook());
    store.getState().recordTiming("a", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z");
    const version = store.getState().docVersion;
    store.getState().clearOutputs(["a"]);
    expect(store.getState().outputs.a).toMatchObject({ outputs: [], executionCount: null });
    expect(store.getState().cells[0].metadata.execution).toBeUndefined();
    expect(store.getState().docVersion).toBe(version + 1); // saved, so a reload agrees
  });

  it("an update_display_data from one cell updates the display shown in another", () => {
    const store = createNotebookStore(notebook());
    const shown = makeMessage(
      "display_data",
      { data: { "text/plain": "'x'" }, metadata: {}, transient: { display_id: "d" } },
      { channel: "iopub" },
    );
    const update = makeMessage(
      "update_display_data",
      { data: { "text/plain": "'y'" }, metadata: {}, transient: { display_id: "d" } },
      { channel: "iopub" },
    );
    store.getState().applyKernelMessages([{ cellId: "a", message: shown }]);
    store.getState().applyKernelMessages([{ cellId: "b", message: update }]);
    expect(store.getState().outputs.a.outputs.at(-1)).toMatchObject({ data: { "text/plain": "'y'" } });
    expect(store.getState().outputs.b.outputs).toEqual([]);
  });
});
