import { describe, expect, it, vi } from "vitest";
import type { Notebook } from "@cellar/protocol";
import { createNotebookStore } from "../stores/notebook-store";
import { createNotebookCommands, type KernelControls } from "./notebook-commands";

function setup() {
  const nb: Notebook = {
    id: "nb", userId: "u", title: "t", createdAt: "", updatedAt: "", lastRunAt: null,
    cells: [
      { id: "a", cell_type: "code", source: "1+1", outputs: [], execution_count: null, metadata: {} },
      { id: "m", cell_type: "markdown", source: "# x", outputs: [], execution_count: null, metadata: {} },
      { id: "b", cell_type: "code", source: "2+2", outputs: [], execution_count: null, metadata: {} },
    ],
  };
  const store = createNotebookStore(nb);
  const kernel: KernelControls = { run: vi.fn(), interrupt: vi.fn(async () => {}), restart: vi.fn(async () => {}),  };
  const saveNow = vi.fn(async () => {});
  return { store, kernel, saveNow, commands: createNotebookCommands(store, kernel, saveNow) };
}

describe("notebook commands", () => {
  it("Shift+Enter runs and moves to the next cell", () => {
    const { store, kernel, commands } = setup();
    commands.runCell("a", "advance");
    expect(kernel.run).toHaveBeenCalledWith("a", "1+1");
    expect(store.getState().focusRequest?.cellId).toBe("m");
    expect(store.getState().cells).toHaveLength(3);
  });

  it("Shift+Enter on the last cell creates a new code cell and focuses it", () => {
    const { store, commands } = setup();
    commands.runCell("b", "advance");
    const cells = store.getState().cells;
    expect(cells).toHaveLength(4);
    expect(cells[3].cell_type).toBe("code");
    expect(store.getState().focusRequest?.cellId).toBe(cells[3].id);
  });

  it("Shift+Enter on a last markdown cell renders it and stays there", () => {
    const { store, commands } = setup();
    const md = store.getState().addCell("markdown", "end");
    commands.runCell(md, "advance");
    expect(store.getState().cells.at(-1)?.id).toBe(md);
    expect(store.getState().editingMarkdown[md]).toBeUndefined();
  });

  it("Alt+Enter inserts a cell below even in the middle", () => {
    const { store, commands } = setup();
    commands.runCell("a", "insert-below");
    expect(store.getState().cells).toHaveLength(4);
    expect(store.getState().cells[1].cell_type).toBe("code");
    expect(store.getState().focusRequest?.cellId).toBe(store.getState().cells[1].id);
  });

  it("Ctrl+Enter runs in place", () => {
    const { store, commands } = setup();
    store.getState().focusCell("a");
    const before = store.getState().focusRequest;
    commands.runCell("a", "in-place");
    expect(store.getState().focusRequest).toBe(before);
  });

  it("running a markdown cell renders it; run all runs code in order", () => {
    const { store, kernel, commands } = setup();
    store.getState().setEditingMarkdown("m", true);
    commands.runAll();
    expect(store.getState().editingMarkdown.m).toBeUndefined();
    expect(vi.mocked(kernel.run).mock.calls.map((c) => c[0])).toEqual(["a", "b"]);
  });

  it("a run sends unsaved edits to the gateway without waiting for them", () => {
    const { store, kernel, saveNow, commands } = setup();
    commands.runCell("a", "in-place");
    expect(saveNow).not.toHaveBeenCalled(); // nothing unsaved
    store.getState().setSaveState("unsaved");
    commands.runCell("a", "in-place");
    expect(saveNow).toHaveBeenCalledOnce();
    expect(kernel.run).toHaveBeenCalledTimes(2);
  });
});
