// One store per open notebook: the document being edited (title, cells, their order) and the live
// kernel state fed by the socket (status, outputs streaming in, which cells are running).
import { createStore } from "zustand/vanilla";
import {
  applyOutputMessage,
  cellOutputFrom,
  emptyCellOutput,
  type CellOutputState,
  type CellType,
  type JupyterMessage,
  type KernelStatus,
  type Notebook,
  type NotebookUpdate,
} from "@cellar/protocol";

export interface CellDoc {
  id: string;
  cell_type: CellType;
  source: string;
  metadata: Record<string, unknown>;
}

/** Where a new cell goes; `after` a cell that no longer exists means the end. */
export type CellPlace = "start" | "end" | { after: string };

/** `connecting`: the page has not heard from the gateway yet. */
export type KernelDisplayStatus = KernelStatus | "connecting";
export type SaveState = "saved" | "saving" | "unsaved";

export interface NotebookState {
  notebookId: string;
  title: string;
  cells: CellDoc[];
  outputs: Record<string, CellOutputState>;
  /** Cells sent to the kernel (or waiting for it) whose reply has not come back → the msg_id of
   * their latest execute_request. */
  running: Record<string, string>;
  editingMarkdown: Record<string, true>;
  activeCellId: string | null;
  /** Editors take focus only when asked through this, never because something re-rendered. */
  focusRequest: { cellId: string; token: number } | null;
  kernel: { status: KernelDisplayStatus; reason?: string };
  workers: number | null;
  /** Bumps on every change the gateway must save. */
  docVersion: number;
  save: { state: SaveState; error?: string };
  notice: string | null;

  setTitle(title: string): void;
  setSource(cellId: string, source: string): void;
  /** The new cell becomes active and its editor takes focus. */
  addCell(type: CellType, place?: CellPlace): string;
  deleteCell(cellId: string): void;
  moveCell(cellId: string, delta: -1 | 1): void;
  setActiveCell(cellId: string | null): void;
  focusCell(cellId: string): void;
  setEditingMarkdown(cellId: string, editing: boolean): void;
  startRun(cellId: string, msgId: string): void;
  /** With `msgId`, only if that request is still the cell's latest. */
  finishRun(cellId: string, msgId?: string): void;
  clearRunning(): void;
  applyKernelMessages(batch: Array<{ cellId: string; message: JupyterMessage }>): void;
  /** Outputs as the gateway recorded them, after a reconnect in which live messages were missed. */
  takeServerOutputs(notebook: Notebook, stillRunning: boolean): void;
  setKernelStatus(status: KernelDisplayStatus, reason?: string): void;
  setWorkers(connected: number): void;
  setSaveState(state: SaveState, error?: string): void;
  setNotice(notice: string | null): void;
}

export type NotebookStore = ReturnType<typeof createNotebookStore>;

const newCellId = () => globalThis.crypto.randomUUID();

export function createNotebookStore(notebook: Notebook) {
  return createStore<NotebookState>()((set, get) => {
    const edit = (patch: Partial<NotebookState>) => set((s) => ({ ...patch, docVersion: s.docVersion + 1 }));
    return {
      notebookId: notebook.id,
      title: notebook.title,
      cells: notebook.cells.map(({ id, cell_type, source, metadata }) => ({ id, cell_type, source, metadata: metadata ?? {} })),
      outputs: Object.fromEntries(notebook.cells.map((c) => [c.id, cellOutputFrom(c.outputs ?? [], c.execution_count ?? null)])),
      running: {},
      editingMarkdown: {},
      activeCellId: notebook.cells[0]?.id ?? null,
      focusRequest: null,
      kernel: { status: "connecting" },
      workers: null,
      docVersion: 0,
      save: { state: "saved" },
      notice: null,

      setTitle: (title) => edit({ title }),
      setSource: (cellId, source) => {
        const cells = get().cells;
        const i = cells.findIndex((c) => c.id === cellId);
        if (i < 0 || cells[i].source === source) return;
        const next = cells.slice();
        next[i] = { ...cells[i], source };
        edit({ cells: next });
      },
      addCell: (type, place = "end") => {
        const id = newCellId();
        const { cells, outputs, editingMarkdown, focusRequest } = get();
        const after = typeof place === "object" ? cells.findIndex((c) => c.id === place.after) : -1;
        const at = place === "start" ? 0 : after >= 0 ? after + 1 : cells.length;
        const next = cells.slice();
        next.splice(at, 0, { id, cell_type: type, source: "", metadata: {} });
        edit({
          cells: next,
          outputs: { ...outputs, [id]: emptyCellOutput() },
          editingMarkdown: type === "markdown" ? { ...editingMarkdown, [id]: true } : editingMarkdown,
          activeCellId: id,
          focusRequest: { cellId: id, token: (focusRequest?.token ?? 0) + 1 },
        });
        return id;
      },
      deleteCell: (cellId) => {
        const { cells, activeCellId } = get();
        const i = cells.findIndex((c) => c.id === cellId);
        if (i < 0) return;
        const next = cells.filter((c) => c.id !== cellId);
        const neighbour = next[Math.min(i, next.length - 1)]?.id ?? null;
        edit({ cells: next, activeCellId: activeCellId === cellId ? neighbour : activeCellId });
      },
      moveCell: (cellId, delta) => {
        const cells = get().cells;
        const i = cells.findIndex((c) => c.id === cellId);
        const j = i + delta;
        if (i < 0 || j < 0 || j >= cells.length) return;
        const next = cells.slice();
        [next[i], next[j]] = [next[j], next[i]];
        edit({ cells: next });
      },
      setActiveCell: (cellId) => {
        if (get().activeCellId !== cellId) set({ activeCellId: cellId });
      },
      focusCell: (cellId) => set((s) => ({ activeCellId: cellId, focusRequest: { cellId, token: (s.focusRequest?.token ?? 0) + 1 } })),
      setEditingMarkdown: (cellId, editing) =>
        set((s) => {
          if (Boolean(s.editingMarkdown[cellId]) === editing) return s;
          const editingMarkdown = { ...s.editingMarkdown };
          if (editing) editingMarkdown[cellId] = true;
          else delete editingMarkdown[cellId];
          return { editingMarkdown };
        }),
      startRun: (cellId, msgId) =>
        set((s) => ({
          running: { ...s.running, [cellId]: msgId },
          // A re-run starts from nothing; the count is replaced when execute_input arrives.
          outputs: { ...s.outputs, [cellId]: { ...emptyCellOutput(), executionCount: s.outputs[cellId]?.executionCount ?? null } },
        })),
      finishRun: (cellId, msgId) =>
        set((s) => {
          if (!s.running[cellId] || (msgId && s.running[cellId] !== msgId)) return s;
          const running = { ...s.running };
          delete running[cellId];
          return { running };
        }),
      clearRunning: () => set((s) => (Object.keys(s.running).length ? { running: {} } : s)),
      applyKernelMessages: (batch) =>
        set((s) => {
          let outputs = s.outputs;
          for (const { cellId, message } of batch) {
            const before = outputs[cellId] ?? emptyCellOutput();
            const after = applyOutputMessage(before, message);
            if (after !== before) outputs = { ...outputs, [cellId]: after };
          }
          return outputs === s.outputs ? s : { outputs };
        }),
      takeServerOutputs: (nb, stillRunning) =>
        set((s) => {
          const outputs = { ...s.outputs };
          for (const cell of nb.cells) {
            if (outputs[cell.id]) outputs[cell.id] = cellOutputFrom(cell.outputs ?? [], cell.execution_count ?? null);
          }
          return { outputs, running: stillRunning ? s.running : {} };
        }),
      setKernelStatus: (status, reason) => set({ kernel: { status, reason } }),
      setWorkers: (connected) => set({ workers: connected }),
      setSaveState: (state, error) => set({ save: { state, error } }),
      setNotice: (notice) => set({ notice }),
    };
  });
}

/** What autosave sends: structure and sources only; outputs belong to the gateway. */
export function toNotebookUpdate(s: Pick<NotebookState, "title" | "cells">): NotebookUpdate {
  return { title: s.title, cells: s.cells.map(({ id, cell_type, source, metadata }) => ({ id, cell_type, source, metadata })) };
}
