// What the toolbar, the run keys and the command-mode keys do, in one place, so buttons and keys
// never disagree. Behaviour follows JupyterLab's notebook actions.
import type { RunMode } from "@cellar/ui";
import type { CellType } from "@cellar/protocol";
import type { NotebookStore } from "./notebook-store";
import type { KernelConnection } from "../kernel/kernel-socket";
import { copyCells, pasteCells } from "./cell-clipboard";
import { selectedCellIds } from "./cell-selection";
import type { NotebookCommandName } from "./command-keymap";
import { may, type PageAction } from "./page-roles";

export type KernelControls = Pick<KernelConnection, "run" | "interrupt" | "restart" | "clearOutputs">;

export interface NotebookCommands {
  /** A run key pressed in a cell's editor, or the cell's own run button. */
  runCell(cellId: string, mode: RunMode): void;
  /** The toolbar's Run: the selected cells, in place. */
  runActiveCell(): void;
  runAll(): void;
  runAbove(): void;
  runBelow(): void;
  interrupt(): Promise<void>;
  restart(): Promise<void>;
  /** No confirmation here: the caller asks the user first. */
  restartAndRunAll(): Promise<void>;
  clearOutputs(): void;
  clearAllOutputs(): void;
  /** The selected cells become `type` (M, Y, R and the toolbar's cell type menu). */
  changeCellType(type: CellType): void;
  /** A command-mode key; returns false when the name is not one this acts on. */
  execute(name: NotebookCommandName): boolean;
}

/** `saveNow` saves unsaved edits. A run starts a save but does not wait for it: the gateway keeps
 * outputs of a cell it has no row for yet and writes them once the save lands. */
export function createNotebookCommands(store: NotebookStore, kernel: KernelControls, saveNow: () => Promise<void>): NotebookCommands {
  const state = () => store.getState();
  // Keys reach these as buttons do: a role the gateway would refuse sends nothing (and gets no
  // refusal notice for a key it pressed by habit, Shift+Enter in a view-only notebook).
  const allowed = (action: PageAction) => may(state().role, action);
  const execute = (cellId: string) => {
    const s = state();
    if (!allowed("run")) return;
    const cell = s.cells.find((c) => c.id === cellId);
    if (!cell) return;
    // Running a markdown cell means showing it rendered; a raw cell is never run or rendered.
    if (cell.cell_type === "raw") return;
    if (cell.cell_type === "markdown") s.setEditingMarkdown(cellId, false);
    else {
      if (s.save.state !== "saved") void saveNow();
      kernel.run(cellId, cell.source);
    }
  };
  const executeAll = (ids: string[]) => ids.forEach(execute);
  const selected = () => selectedCellIds(state());
  const active = () => state().activeCellId;

  /** After running `cellId` (the last of the cells run): where the selection and focus go. */
  const afterRun = (cellId: string, mode: RunMode) => {
    const s = state();
    const index = s.cells.findIndex((c) => c.id === cellId);
    if (index < 0) return;
    if (mode === "in-place") return s.selectCell(cellId);
    const next = s.cells[index + 1];
    if (mode === "insert-below") return void s.addCell("code", { after: cellId });
    if (next) return s.selectCell(next.id);
    // Finishing the last markdown cell shows it rendered and stays on it: text usually ends a
    // notebook, and a fresh empty cell below would only need deleting.
    if (s.cells[index].cell_type === "code") s.addCell("code", { after: cellId });
    else s.selectCell(cellId);
  };

  const runSelected = (mode: RunMode) => {
    const ids = selected();
    if (!ids.length) return;
    executeAll(ids);
    afterRun(ids[ids.length - 1], mode);
  };

  const insert = (where: "above" | "below") => {
    const id = active();
    const s = state();
    const newId = s.addCell("code", id ? { after: id } : "end");
    if (where === "above" && id)
      s.moveCellTo(
        newId,
        s.cells.findIndex((c) => c.id === id),
      );
    // A new cell from command mode stays in command mode, selected (JupyterLab's A / B).
    state().selectCell(newId);
  };

  const paste = (where: "above" | "below") => {
    const id = active();
    const cells = pasteCells();
    state().insertCells(cells, !id ? "end" : where === "above" ? { before: id } : { after: id });
  };

  const changeType = (type: CellType) => {
    const ids = selected();
    state().setCellType(ids, type);
    if (type === "code") return;
    // JupyterLab leaves a converted cell unrendered; keep the selection in command mode.
    const id = active();
    if (id) state().selectCell(id);
  };

  const enterEdit = () => {
    const id = active();
    if (!id) return;
    const s = state();
    if (s.cells.find((c) => c.id === id)?.cell_type === "markdown") s.setEditingMarkdown(id, true);
    s.focusCell(id);
  };

  const moveSelection = (delta: -1 | 1, extend: boolean) => {
    const s = state();
    const index = s.cells.findIndex((c) => c.id === s.activeCellId);
    const next = s.cells[Math.max(0, Math.min(s.cells.length - 1, index + delta))];
    if (next) s.selectCell(next.id, extend);
  };

  const clear = (ids: string[]) => {
    if (!ids.length || !allowed("clearOutputs")) return;
    state().clearOutputs(ids);
    void kernel.clearOutputs(ids);
  };

  const codeCellIds = () =>
    state()
      .cells.filter((c) => c.cell_type === "code")
      .map((c) => c.id);

  const commands: NotebookCommands = {
    runCell(cellId, mode) {
      execute(cellId);
      afterRun(cellId, mode);
    },
    runActiveCell: () => executeAll(selected()),
    runAll: () => executeAll(state().cells.map((c) => c.id)),
    runAbove() {
      const s = state();
      const index = s.cells.findIndex((c) => c.id === s.activeCellId);
      executeAll(s.cells.slice(0, Math.max(0, index)).map((c) => c.id));
    },
    runBelow() {
      const s = state();
      const index = s.cells.findIndex((c) => c.id === s.activeCellId);
      if (index >= 0) executeAll(s.cells.slice(index).map((c) => c.id));
    },
    interrupt: async () => {
      if (allowed("interrupt")) await kernel.interrupt();
    },
    restart: async () => {
      if (allowed("restart")) await kernel.restart();
    },
    async restartAndRunAll() {
      if (!allowed("restart")) return;
      await kernel.restart();
      // Runs wait for the new kernel to be idle, then go in order.
      commands.runAll();
    },
    clearOutputs: () => clear(selected().filter((id) => codeCellIds().includes(id))),
    clearAllOutputs: () => clear(codeCellIds()),
    changeCellType: (type) => changeType(type),
    execute(name) {
      const s = state();
      switch (name) {
        case "enter-edit":
          enterEdit();
          break;
        case "command-mode":
          if (s.activeCellId) s.selectCell(s.activeCellId);
          break;
        case "run-advance":
          runSelected("advance");
          break;
        case "run-in-place":
          runSelected("in-place");
          break;
        case "run-insert-below":
          runSelected("insert-below");
          break;
        case "select-previous":
          moveSelection(-1, false);
          break;
        case "select-next":
          moveSelection(1, false);
          break;
        case "extend-previous":
          moveSelection(-1, true);
          break;
        case "extend-next":
          moveSelection(1, true);
          break;
        case "insert-above":
          insert("above");
          break;
        case "insert-below":
          insert("below");
          break;
        case "delete":
          s.deleteCells(selected());
          refocus();
          break;
        case "undo-delete":
          s.undoDelete();
          break;
        case "to-markdown":
          changeType("markdown");
          break;
        case "to-code":
          changeType("code");
          break;
        case "to-raw":
          changeType("raw");
          break;
        case "copy":
          copyCells(s.cells.filter((c) => selected().includes(c.id)));
          break;
        case "cut": {
          const ids = selected();
          copyCells(s.cells.filter((c) => ids.includes(c.id)));
          s.deleteCells(ids);
          refocus();
          break;
        }
        case "paste-below":
          paste("below");
          break;
        case "paste-above":
          paste("above");
          break;
        case "interrupt":
          void commands.interrupt();
          break;
        case "save":
          void saveNow();
          break;
        default:
          return false;
      }
      return true;
    },
  };

  /** After cells go away the new active cell takes focus, so the next key still reaches us. */
  function refocus() {
    const id = active();
    if (id) state().selectCell(id);
  }

  return commands;
}
