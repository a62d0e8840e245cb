// Where the user is: the active cell and Shift range (cell-selection.ts reads them), Jupyter's
// edit/command mode, which markdown cells show their source, and what should take focus next.
import type { StateCreator } from "zustand/vanilla";
import type { Notebook } from "@cellar/protocol";
import type { NotebookState } from "./notebook-store";

/** Jupyter's two modes: keys edit the source (`edit`) or act on cells (`command`). */
export type NotebookMode = "command" | "edit";

/** What takes focus: the cell's editor (edit mode) or the cell itself (command mode). */
export interface FocusRequest {
  cellId: string;
  token: number;
  target: "editor" | "cell" | "reveal";
}

export interface SelectionSlice {
  mode: NotebookMode;
  activeCellId: string | null;
  /** Start of a Shift+Up/Down range; null when only the active cell is selected. */
  anchorCellId: string | null;
  /** Editors and cells take focus only when asked through this, never because something
   * re-rendered. */
  focusRequest: FocusRequest | null;
  /** Markdown cells showing their source instead of the rendered text. */
  editingMarkdown: Record<string, true>;

  setActiveCell(cellId: string | null): void;
  /** Click / arrow keys; `extend` grows the selection from its anchor (Shift). */
  selectCell(cellId: string, extend?: boolean): void;
  /** Puts the editor of the cell in focus (edit mode). */
  focusCell(cellId: string): void;
  /** Selects the cell and focuses the cell itself, leaving any editor (command mode). */
  commandModeAt(cellId: string): void;
  setMode(mode: NotebookMode): void;
  setEditingMarkdown(cellId: string, editing: boolean): void;
  /** Makes the cell active and scrolls to it without taking focus (find keeps its input). */
  revealCell(cellId: string): void;
}

/** A new focus request; the token makes asking again for the same cell a change. */
export function focusRequestFor(previous: FocusRequest | null, cellId: string, target: FocusRequest["target"]): FocusRequest {
  return { cellId, token: (previous?.token ?? 0) + 1, target };
}

/** Selects a run of cells (pasted, restored) in command mode, the last one active. */
export function selectRange(
  cells: ReadonlyArray<{ id: string }>,
  focus: FocusRequest | null,
): Pick<SelectionSlice, "activeCellId" | "anchorCellId" | "mode" | "focusRequest"> {
  const active = cells.at(-1)!.id;
  return {
    activeCellId: active,
    anchorCellId: cells.length > 1 ? cells[0].id : null,
    mode: "command",
    focusRequest: focusRequestFor(focus, active, "cell"),
  };
}

export function createSelectionSlice(notebook: Notebook): StateCreator<NotebookState, [], [], SelectionSlice> {
  return (set, get) => ({
    mode: "command",
    activeCellId: notebook.cells[0]?.id ?? null,
    anchorCellId: null,
    focusRequest: null,
    editingMarkdown: {},

    setActiveCell: (cellId) => {
      if (get().activeCellId !== cellId || get().anchorCellId) set({ activeCellId: cellId, anchorCellId: null });
    },
    selectCell: (cellId, extend = false) =>
      set((s) => ({
        activeCellId: cellId,
        anchorCellId: extend ? (s.anchorCellId ?? s.activeCellId) : null,
        mode: "command",
        focusRequest: focusRequestFor(s.focusRequest, cellId, "cell"),
      })),
    focusCell: (cellId) =>
      set((s) => ({
        activeCellId: cellId,
        anchorCellId: null,
        mode: "edit",
        focusRequest: focusRequestFor(s.focusRequest, cellId, "editor"),
      })),
    commandModeAt: (cellId) => get().selectCell(cellId),
    setMode: (mode) => {
      if (get().mode !== mode) set({ mode });
    },
    setEditingMarkdown: (cellId, editing) =>
      set((s) => {
        if (Boolean(s.editingMarkdown[cellId]) === editing) return s;
        const editingMarkdown = { ...s.editingMarkdown };
        if (editing) editingMarkdown[cellId] = true;
        else delete editingMarkdown[cellId];
        return { editingMarkdown };
      }),
    revealCell: (cellId) =>
      set((s) => ({ activeCellId: cellId, anchorCellId: null, focusRequest: focusRequestFor(s.focusRequest, cellId, "reveal") })),
  });
}
