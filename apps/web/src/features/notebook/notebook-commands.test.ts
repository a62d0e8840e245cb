import { describe, expect, it, vi } from "vitest";
import type { Notebook } from "@cellar/protocol";
import { createNotebookStore } from "./notebook-store";
import { createNotebookCommands, type KernelControls } from "./notebook-commands";

function setup() {
  const nb: Notebook = {
    id: "nb",
    userId: "u",
    title: "t",
    createdAt: "",
    updatedAt: "",
    lastRunAt: null,
    cells: [
      { id: "a", cell_type: "code", source: "1+1", outputs: [], execution_count: null, metadata: {} },
      { id: "m", cell_type: "markdown", source: "# x", outputs: [], execution_count: null, metadata: {} },
      { id: "b", cell_type: "code", source: "2+2", outputs: [], execution_count: null, metadata: {} },
    ],
  };
  const store = createNotebookStore(nb);
  const kernel: KernelControls = {
    run: vi.fn(),
    interrupt: vi.fn(async () => {}),
    restart: vi.fn(async () => {}),
    clearOutputs: vi.fn(async () => {}),
  };
  const saveNow = vi.fn(async () => {});
  return { store, kernel, saveNow, commands: createNotebookCommands(store, kernel, saveNow) };
}

describe("notebook commands", () => {
  it("Shift+Enter runs and selects the next cell in command mode, as JupyterLab does", () => {
    const { store, kernel, commands } = setup();
    commands.runCell("a", "advance");
    expect(kernel.run).toHaveBeenCalledWith("a", "1+1");
    expect(store.getState().focusRequest).toMatchObject({ cellId: "m", target: "cell" });
    expect(store.getState().mode).toBe("command");
    expect(store.getState().cells).toHaveLength(3);
  });

  it("Shift+Enter on the last cell creates a new code cell and focuses it", () => {
    const { store, commands } = setup();
    commands.runCell("b", "advance");
    const cells = store.getState().cells;
    expect(cells).toHaveLength(4);
    expect(cells[3].cell_type).toBe("code");
    expect(store.getState().focusRequest).toMatchObject({ cellId: cells[3].id, target: "editor" });
    expect(store.getState().mode).toBe("edit");
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

  it("Ctrl+Enter runs in place and leaves the editor for command mode on the same cell", () => {
    const { store, commands } = setup();
    store.getState().focusCell("a");
    commands.runCell("a", "in-place");
    expect(store.getState().activeCellId).toBe("a");
    expect(store.getState().focusRequest).toMatchObject({ cellId: "a", target: "cell" });
    expect(store.getState().mode).toBe("command");
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

  it("run above and run below run the cells before / from the selected one", () => {
    const { store, kernel, commands } = setup();
    store.getState().selectCell("b");
    commands.runAbove();
    expect(vi.mocked(kernel.run).mock.calls.map((c) => c[0])).toEqual(["a"]);
    vi.mocked(kernel.run).mockClear();
    store.getState().selectCell("m");
    commands.runBelow();
    expect(vi.mocked(kernel.run).mock.calls.map((c) => c[0])).toEqual(["b"]);
  });

  it("restart and run all restarts first, then runs every cell", async () => {
    const { kernel, commands } = setup();
    const order: string[] = [];
    vi.mocked(kernel.restart).mockImplementation(async () => void order.push("restart"));
    vi.mocked(kernel.run).mockImplementation((id) => void order.push(id));
    await commands.restartAndRunAll();
    expect(order).toEqual(["restart", "a", "b"]);
  });

  it("clear outputs empties the selected code cells here and at the gateway", () => {
    const { store, kernel, commands } = setup();
    store.getState().selectCell("a");
    store.getState().selectCell("b", true);
    commands.clearOutputs();
    expect(kernel.clearOutputs).toHaveBeenCalledWith(["a", "b"]);
    commands.clearAllOutputs();
    expect(kernel.clearOutputs).toHaveBeenLastCalledWith(["a", "b"]);
  });
});

describe("command-mode commands", () => {
  const ids = (store: ReturnType<typeof setup>["store"]) => store.getState().cells.map((c) => c.id);

  it("A and B insert a code cell above / below and keep command mode", () => {
    const { store, commands } = setup();
    store.getState().selectCell("m");
    commands.execute("insert-above");
    const above = store.getState().activeCellId!;
    expect(ids(store)).toEqual(["a", above, "m", "b"]);
    expect(store.getState().mode).toBe("command");
    commands.execute("insert-below");
    expect(ids(store)[2]).toBe(store.getState().activeCellId);
  });

  it("D D deletes the selected cells and Z brings them back in place, outputs included", () => {
    const { store, commands } = setup();
    store.getState().applyKernelMessages([]);
    store.getState().selectCell("a");
    store.getState().selectCell("m", true);
    commands.execute("delete");
    expect(ids(store)).toEqual(["b"]);
    expect(store.getState().activeCellId).toBe("b");
    commands.execute("undo-delete");
    expect(ids(store)).toEqual(["a", "m", "b"]);
    expect(store.getState().activeCellId).toBe("m");
  });

  it("C then V pastes copies below; X cuts; Shift+V pastes above", () => {
    const { store, commands } = setup();
    store.getState().selectCell("a");
    commands.execute("copy");
    store.getState().selectCell("b");
    commands.execute("paste-below");
    const pasted = store.getState().cells[3];
    expect(pasted).toMatchObject({ cell_type: "code", source: "1+1" });
    expect(pasted.id).not.toBe("a");
    commands.execute("paste-below");
    expect(new Set(ids(store)).size).toBe(5); // every paste gets fresh ids
    store.getState().selectCell("m");
    commands.execute("cut");
    expect(ids(store)).not.toContain("m");
    store.getState().selectCell("a");
    commands.execute("paste-above");
    expect(store.getState().cells[0]).toMatchObject({ cell_type: "markdown", source: "# x" });
  });

  it("M and Y change the cell type; a code cell turned markdown drops its outputs", () => {
    const { store, commands } = setup();
    store.getState().selectCell("a");
    commands.execute("to-markdown");
    expect(store.getState().cells[0].cell_type).toBe("markdown");
    expect(store.getState().editingMarkdown.a).toBe(true);
    commands.execute("to-code");
    expect(store.getState().cells[0].cell_type).toBe("code");
  });

  it("Shift+Down extends the selection and Shift+Enter runs every selected cell", () => {
    const { store, kernel, commands } = setup();
    store.getState().selectCell("a");
    commands.execute("extend-next");
    commands.execute("extend-next");
    commands.execute("run-advance");
    expect(vi.mocked(kernel.run).mock.calls.map((c) => c[0])).toEqual(["a", "b"]);
    // Ran the last cell: a new one is added below it, as Shift+Enter does.
    expect(store.getState().cells).toHaveLength(4);
  });

  it("Enter edits the selected cell; on a rendered markdown cell it shows the source", () => {
    const { store, commands } = setup();
    store.getState().selectCell("m");
    commands.execute("enter-edit");
    expect(store.getState().editingMarkdown.m).toBe(true);
    expect(store.getState().focusRequest).toMatchObject({ cellId: "m", target: "editor" });
    expect(store.getState().mode).toBe("edit");
  });
});
