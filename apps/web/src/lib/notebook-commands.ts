// What the toolbar and the run keys do, in one place, so buttons and keys never disagree.
import type { RunMode } from "@cellar/ui";
import type { NotebookStore } from "../stores/notebook-store";
import type { KernelConnection } from "./kernel-socket";

export type KernelControls = Pick<KernelConnection, "run" | "interrupt" | "restart">;

export interface NotebookCommands {
  runCell(cellId: string, mode: RunMode): void;
  runActiveCell(): void;
  runAll(): void;
  interrupt(): Promise<void>;
  restart(): Promise<void>;
}

/** `saveNow` saves unsaved edits. A run starts a save but does not wait for it: the gateway keeps
 * outputs of a cell it has no row for yet and writes them once the save lands. */
export function createNotebookCommands(store: NotebookStore, kernel: KernelControls, saveNow: () => Promise<void>): NotebookCommands {
  const execute = (cellId: string) => {
    const s = store.getState();
    const cell = s.cells.find((c) => c.id === cellId);
    if (!cell) return;
    // Running a markdown cell means showing it rendered.
    if (cell.cell_type === "markdown") s.setEditingMarkdown(cellId, false);
    else {
      if (s.save.state !== "saved") void saveNow();
      kernel.run(cellId, cell.source);
    }
  };

  return {
    runCell(cellId, mode) {
      execute(cellId);
      const s = store.getState();
      if (mode === "in-place") return;
      const index = s.cells.findIndex((c) => c.id === cellId);
      const next = s.cells[index + 1];
      if (next && mode === "advance") s.focusCell(next.id);
      // Finishing the last markdown cell shows it rendered and stays on it: text usually ends a
      // notebook, and a fresh empty cell below would only need deleting.
      else if (mode === "insert-below" || s.cells[index]?.cell_type === "code") s.addCell("code", { after: cellId });
      else s.focusCell(cellId);
    },
    runActiveCell() {
      const { activeCellId } = store.getState();
      if (activeCellId) execute(activeCellId);
    },
    runAll() {
      for (const cell of store.getState().cells) execute(cell.id);
    },
    interrupt: () => kernel.interrupt(),
    restart: () => kernel.restart(),
  };
}
